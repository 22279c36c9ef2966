//! Injecting one scheduled fault: SIGKILL of a CLI starter or stopper mid-operation, SIGKILL
//! and restart of the daemon, `docker kill` / `docker rm -f` of an engine, a port blocker that
//! comes and goes. Engine faults are no events of their own: they pick a start's image.

use std::time::{Duration, Instant};

use rustix::process::Signal;
use serde_json::{Value, json};

use crate::exec::group::{ProcessGroup, signal_group};
use crate::fixtures::census::INSTANCE_LABEL;

use super::docker_proxy::ProxyMode;
use super::fault::FaultKind;
use super::ops::{Acting, START_TIMEOUT_SECS, check_command, tail};
use super::schedule::{Action, Step};
use super::world::World;

/// Runs the fault of `step`; a port blocker keeps holding its port in the returned thread.
pub(crate) fn inject<'scope, 'env>(
    world: &'scope World,
    step: &'scope Step,
    scope: &'scope std::thread::Scope<'scope, 'env>,
) -> (String, Option<std::thread::ScopedJoinHandle<'scope, ()>>) {
    let acting = Acting::begin(world, step);
    let mut blocker = None;
    let result = match (&step.action, acting.service.clone()) {
        (Action::KillDaemon { down_ms }, _) => kill_daemon(world, *down_ms),
        (Action::DockerAway { fault, hold_ms }, _) => {
            docker_away(world, step, *fault, Duration::from_millis(*hold_ms))
        }
        (
            Action::PortBlocker {
                slot,
                hold_ms,
                blocker: kind,
            },
            _,
        ) => {
            let (slot, hold, kind) = (*slot, Duration::from_millis(*hold_ms), *kind);
            blocker = Some(scope.spawn(move || {
                super::blockers::hold_port(world, step, slot, kind, hold);
            }));
            json!({"outcome": "blocker started", "port": world.ports[slot]})
        }
        (Action::DiskFull { hold_ms }, _) => {
            super::disk_full::fill(world, step, Duration::from_millis(*hold_ms))
        }
        (_, None) => json!({"outcome": "skipped", "why": "the slot has no service"}),
        (
            Action::KillStarter {
                after_ms, engine, ..
            },
            Some(id),
        ) => {
            let timeout = START_TIMEOUT_SECS.to_string();
            let args = [
                "service",
                "start",
                &id,
                "--wait",
                "--timeout",
                &timeout,
                "-o",
                "json",
            ];
            let image = world.image(*engine);
            // Stopped first, so the start has something to do when the kill comes.
            let stop = super::ops::cli(
                world,
                step,
                &["service", "stop", &id, "--force", "-o", "json"],
                &[],
            );
            world.history.record(
                "fault-setup",
                json!({"step": step.id, "slot": step.action.slot(), "stop": stop}),
            );
            kill_mid(
                world,
                step,
                &args,
                &[("AIMA_VLLM_IMAGE", &image)],
                *after_ms,
                true,
            )
        }
        (Action::KillStopper { after_ms, .. }, Some(id)) => kill_mid(
            world,
            step,
            &["service", "stop", &id, "-o", "json"],
            &[],
            *after_ms,
            false,
        ),
        (Action::DockerKill { .. }, Some(id)) => docker_on_engine(world, &id, &["kill"]),
        (Action::DockerRm { .. }, Some(id)) => docker_on_engine(world, &id, &["rm", "-f"]),
        _ => json!({"outcome": "skipped", "why": "not a fault"}),
    };
    (acting.complete(result), blocker)
}

/// Starts `aima ARGS`, SIGKILLs its process group `after_ms` later unless it ended first.
fn kill_mid(
    world: &World,
    step: &Step,
    args: &[&str],
    overrides: &[(&str, &str)],
    after_ms: u64,
    starter: bool,
) -> Value {
    let (stdout_log, stderr_log) = world.log_paths(step.action.name());
    let mut expression = duct::cmd(world.aima.as_os_str(), args)
        .stdin_null()
        .stdout_path(world.run_dir.join(&stdout_log))
        .stderr_path(world.run_dir.join(&stderr_log));
    for (key, value) in world
        .base_env
        .iter()
        .filter(|(k, _)| !overrides.iter().any(|(o, _)| o == k))
    {
        expression = expression.env(key, value);
    }
    for (key, value) in overrides {
        expression = expression.env(key, value);
    }
    let shown = format!("aima {}", args.join(" "));
    let started = Instant::now();
    let group = match ProcessGroup::start(&expression, "chaos victim") {
        Ok(group) => group,
        Err(err) => return json!({"outcome": "not started", "error": err.to_string()}),
    };
    if let Some(status) = group.wait_until(started + Duration::from_millis(after_ms)) {
        let record = crate::exec::CommandRecord {
            index: 0,
            step: step.action.name().into(),
            display: shown.clone(),
            exit_code: status.code(),
            timed_out: false,
            deadline_ms: after_ms,
            duration_ms: crate::exec::millis(started.elapsed()),
            started_at_ms: 0,
            stdout: String::new(),
            stderr: std::fs::read_to_string(world.run_dir.join(&stderr_log)).unwrap_or_default(),
            stdout_log: Some(stdout_log),
            stderr_log: Some(stderr_log.clone()),
        };
        check_command(world, step.action.slot(), &record, false);
        return json!({"outcome": "ended before the kill", "command": shown, "exit": status.code(), "ms": record.duration_ms, "stderr": tail(&record.stderr, 300), "log": stderr_log});
    }
    signal_group(group.pid(), Signal::KILL);
    let status = group.wait_until(Instant::now() + Duration::from_secs(5));
    // The rules count from the moment the starter is known to be gone.
    if starter {
        if let Some(slot) = step.action.slot() {
            world.slots()[slot].killed_start_ms = Some(world.history.now_ms());
        }
    }
    world.say(&format!("FAULT SIGKILL to `{shown}` after {after_ms} ms"));
    json!({"outcome": "killed", "command": shown, "killed_after_ms": after_ms, "status": status.map(|s| s.to_string()), "log": stderr_log})
}

/// SIGKILL of the daemon's process group, `down_ms` without a daemon, then a new one.
fn kill_daemon(world: &World, down_ms: u64) -> Value {
    let Some(mut daemon) = world.daemon().take() else {
        return json!({"outcome": "skipped", "why": "no daemon runs"});
    };
    let pid = daemon.pid;
    daemon.signal(Signal::KILL);
    let stopped = daemon.wait_for_exit(Duration::from_secs(5));
    world.say(&format!(
        "FAULT SIGKILL to the daemon (pid {pid}), down for {down_ms} ms"
    ));
    world.history.record("fault", json!({"fault": "kill-daemon", "pid": pid, "gone": stopped.verified, "evidence": stopped.describe()}));
    std::thread::sleep(Duration::from_millis(down_ms));
    match world.start_daemon() {
        Ok(()) => json!({"outcome": "restarted", "killed_pid": pid, "down_ms": down_ms}),
        Err(err) => {
            world.violation(
                "daemon-restart",
                None,
                "aima start",
                format!("after SIGKILL of pid {pid}, a new daemon did not become healthy: {err:#}"),
            );
            json!({"outcome": "daemon did not come back", "error": format!("{err:#}")})
        }
    }
}

/// Runs `docker VERB… ID` on every container of service `id` of this data dir.
fn docker_on_engine(world: &World, id: &str, verb: &[&str]) -> Value {
    let listed = duct::cmd(
        "docker",
        [
            "ps",
            "-aq",
            "--filter",
            &format!("label=aima.service={id}"),
            "--filter",
            &format!("label={INSTANCE_LABEL}={}", world.instance),
        ],
    )
    .stdout_capture()
    .stderr_capture()
    .unchecked()
    .run();
    let ids: Vec<String> = match &listed {
        Ok(out) => String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        Err(err) => return json!({"outcome": "docker ps failed", "error": err.to_string()}),
    };
    if ids.is_empty() {
        return json!({"outcome": "no container", "why": "the service has no container right now"});
    }
    let mut results = Vec::new();
    for container in &ids {
        let mut args: Vec<&str> = verb.to_vec();
        args.push(container);
        let out = duct::cmd("docker", &args)
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .run();
        let ok = out.as_ref().is_ok_and(|o| o.status.success());
        results.push(json!({"container": &container[..container.len().min(12)], "ok": ok}));
    }
    world.say(&format!(
        "FAULT docker {} of {} container(s) of {id}",
        verb.join(" "),
        ids.len()
    ));
    json!({"outcome": format!("docker {}", verb.join(" ")), "containers": results})
}

/// Pauses, slows or cuts the Docker proxy for `hold`, then lets traffic pass again.
fn docker_away(world: &World, step: &Step, fault: FaultKind, hold: Duration) -> Value {
    let Some(proxy) = &world.proxy else {
        return json!({"outcome": "skipped", "why": "no Docker proxy in this run (Docker is not behind a unix socket)"});
    };
    let mode = match fault {
        FaultKind::DockerPause => ProxyMode::Pause,
        FaultKind::DockerSlow => ProxyMode::Slow,
        _ => ProxyMode::Cut,
    };
    proxy.set(mode);
    world.history.record(
        "fault",
        json!({"fault": fault.name(), "step": step.id, "hold_ms": hold.as_millis() as u64}),
    );
    world.say(&format!(
        "FAULT Docker proxy {} for {} ms",
        fault.name(),
        hold.as_millis()
    ));
    std::thread::sleep(hold);
    proxy.set(ProxyMode::Pass);
    world
        .history
        .record("heal", json!({"fault": fault.name(), "step": step.id}));
    json!({"outcome": fault.name(), "hold_ms": hold.as_millis() as u64})
}
