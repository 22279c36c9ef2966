//! Supervision: how fast a dead engine is healthy again — aima's daemon (`--restart always`)
//! against `docker run --restart always` — and what the daemon costs while it supervises
//! idle engines (CPU seconds per minute and RSS, with N engines and with none).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;

use super::lab::{Lab, RUN_LABEL, docker};
use super::lifecycle::{docker_run_labelled, health_ok, wait_healthy};
use super::model::{Figure, Series};
use crate::fixtures::port_check::free_port;

/// How often both sides poll the engine's `/health` after the kill.
const POLL: Duration = Duration::from_millis(50);
/// A restart slower than this is recorded as this bound.
const BACK_WITHIN: Duration = Duration::from_secs(60);

/// `restart_after_kill`: SIGKILL of the engine's process, then `/health` polled until 200;
/// `runs` times each side, alternating, each run on a fresh service or container (so neither
/// side's backoff for repeated failures plays a part).
pub(crate) fn restart_after_kill(lab: &Lab, runs: usize) -> anyhow::Result<Figure> {
    let label = format!("{RUN_LABEL}={}", lab.run_id);
    let (mut aima, mut raw) = (Vec::new(), Vec::new());
    let mut restarts = Vec::new();
    for _ in 0..runs {
        let port = free_port()?;
        let svc = supervised_service(lab, port)?;
        let container = container_of(&format!("aima.service={svc}"))?;
        aima.push(kill_and_time(&container, port)?);
        let (record, _) = lab.api("GET", &format!("/api/v2/services/{svc}"), None);
        restarts.push(
            record
                .json()
                .map_or("?".to_owned(), |r| r["restarts"].to_string()),
        );
        lab.api("POST", &format!("/api/v2/services/{svc}/stop"), Some("{}"));

        let port = free_port()?;
        let id = docker_run_labelled(lab, &[&label], port, &["--restart", "always"])?;
        wait_healthy(port)?;
        raw.push(kill_and_time(&id, port)?);
        docker(&["rm", "-f", &id], Duration::from_secs(60))?;
    }
    Ok(Figure::new(
        "restart_after_kill",
        "engine SIGKILLed to healthy again: aima daemon (`--restart always`) vs `docker run --restart always`, both + polling /health",
        Series::new("aima daemon", "ms", aima),
        Series::new("docker --restart always", "ms", raw),
    )
    .fact("the fault is SIGKILL to the engine's process from the host, as a crash or the OOM killer: Docker treats `docker kill` as a manual stop and never restarts after it")
    .fact(format!("aima's `restarts` after each run: {}", restarts.join(", ")))
    .fact("aima's daemon runs with its default settings (its reconcile period included)"))
}

/// A vLLM service with `--restart always`, started through the API with `wait`.
fn supervised_service(lab: &Lab, port: u16) -> anyhow::Result<String> {
    let port = port.to_string();
    let created = lab.aima_json(&[
        "service",
        "create",
        "--model-id",
        &lab.model,
        "--engine-type",
        "vllm",
        "--port",
        &port,
        "--restart",
        "always",
    ])?;
    let svc = created["id"]
        .as_str()
        .context("service create printed no id")?
        .to_owned();
    let (reply, _) = lab.api(
        "POST",
        &format!("/api/v2/services/{svc}/start"),
        Some(r#"{"wait":true,"timeout":60}"#),
    );
    if reply.status != 200 {
        bail!("the start of {svc} answered {}", reply.summary());
    }
    Ok(svc)
}

/// The id of the one running container carrying `label`.
fn container_of(label: &str) -> anyhow::Result<String> {
    let filter = format!("label={label}");
    let out = docker(
        &["ps", "-q", "--no-trunc", "--filter", &filter],
        Duration::from_secs(30),
    )?;
    out.stdout
        .split_whitespace()
        .next()
        .map(str::to_owned)
        .with_context(|| format!("no running container labelled {label}"))
}

/// SIGKILL to the container's main process; ms until its port answers `/health` with 200 again.
fn kill_and_time(container: &str, port: u16) -> anyhow::Result<f64> {
    let out = docker(
        &["inspect", "--format", "{{.State.Pid}}", container],
        Duration::from_secs(30),
    )?;
    let pid: i32 = out
        .stdout
        .trim()
        .parse()
        .with_context(|| format!("no pid for container {container}"))?;
    let pid = rustix::process::Pid::from_raw(pid).context("pid 0")?;
    let killed = Instant::now();
    rustix::process::kill_process(pid, rustix::process::Signal::KILL)
        .with_context(|| format!("SIGKILL to the engine of {container}"))?;
    // The dying engine may still answer for a moment: wait until it does not.
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    while health_ok(addr) && killed.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(5));
    }
    while killed.elapsed() < BACK_WITHIN {
        if health_ok(addr) {
            return Ok(killed.elapsed().as_secs_f64() * 1000.0);
        }
        std::thread::sleep(POLL);
    }
    Ok(BACK_WITHIN.as_secs_f64() * 1000.0)
}

/// The daemon's cost while it supervises `engines` running engines and nothing happens.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct IdleCost {
    pub engines: usize,
    pub window_secs: f64,
    /// CPU seconds (user + system, every thread) per minute of wall time.
    pub cpu_secs_per_min: f64,
    /// The same as a share of one core, in %.
    pub cpu_percent: f64,
    /// Resident memory at the end of the window.
    pub rss_kib: u64,
}

/// The idle cost with no engine, then with `engines` supervised engines started, each over
/// `window`, on `lab`'s daemon (which nothing else uses meanwhile).
pub(crate) fn idle_cost(
    lab: &Lab,
    engines: usize,
    window: Duration,
) -> anyhow::Result<Vec<IdleCost>> {
    let pid = lab.daemon.pid;
    let mut out = vec![measure_idle(pid, 0, window)?];
    let mut services = Vec::new();
    for _ in 0..engines {
        services.push(supervised_service(lab, free_port()?)?);
    }
    out.push(measure_idle(pid, engines, window)?);
    for svc in &services {
        lab.api("POST", &format!("/api/v2/services/{svc}/stop"), Some("{}"));
    }
    Ok(out)
}

fn measure_idle(pid: u32, engines: usize, window: Duration) -> anyhow::Result<IdleCost> {
    let before = cpu_ticks(pid)?;
    let started = Instant::now();
    std::thread::sleep(window);
    let ticks = cpu_ticks(pid)?.saturating_sub(before);
    let wall = started.elapsed().as_secs_f64();
    let per_sec = rustix::param::clock_ticks_per_second() as f64;
    let cpu = ticks as f64 / per_sec;
    Ok(IdleCost {
        engines,
        window_secs: wall,
        cpu_secs_per_min: cpu * 60.0 / wall,
        cpu_percent: cpu * 100.0 / wall,
        rss_kib: rss_kib(pid)?,
    })
}

/// utime + stime of a process (every thread), in clock ticks, from `/proc/<pid>/stat`.
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    parse_ticks(&stat).with_context(|| format!("/proc/{pid}/stat has no utime and stime"))
}

fn parse_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// `VmRSS` of `/proc/<pid>/status`, in KiB.
fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("/proc/{pid}/status has no VmRSS"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_ticks_past_a_name_with_spaces() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 9 0 1 2 3";
        assert_eq!(parse_ticks(stat), Some(280));
        assert_eq!(parse_ticks("42 (x) S 1"), None);
        assert!(rss_kib(std::process::id()).unwrap() > 0);
        assert!(cpu_ticks(std::process::id()).is_ok());
    }
}
