//! Scenario 25's three larger faults: C's port taken between its engine's death and its
//! restart, the daemon killed while F's engine dies, and a hung engine H.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde_json::Value;

use crate::exec::CommandRecord;
use crate::fixtures::port_blocker::PortBlocker;
use crate::fixtures::port_check::check_port;
use crate::scenario::aima_json::words;
use crate::scenario::aima_ops::{Engine, stop};
use crate::scenario::context::RunContext;
use crate::timeline::EventKind;

use super::probe::{self, kill_engine, poll, record};
use super::setup::{Fleet, HANG_AFTER_SECS, LIVENESS_SECS, Svc, create_and_start, llamacpp};
use super::steps::{Killed, SETTLE, WAIT_BOUND};

/// C's port taken after its engine died.
#[derive(Debug, Clone, Default)]
pub struct PortObs {
    pub killed: Killed,
    /// The blocker's pid and program, and when it held the port.
    pub holder: Option<(u32, String, u64)>,
    /// C's record once it named the holder (or the last read when it never did), and when.
    pub named: Option<Value>,
    pub named_ms: Option<u64>,
    /// When the blocker was gone, and how it was stopped.
    pub left_ms: Option<u64>,
    pub left: String,
    /// From the blocker's exit to C's engine answering 200.
    pub healthy_ms: Option<u64>,
    pub after: Option<Value>,
}

/// The daemon killed while F's engine died.
#[derive(Debug, Clone, Default)]
pub struct ReviveObs {
    pub daemon_kill: String,
    pub killed: Killed,
    /// When the new daemon was healthy.
    pub restarted_ms: u64,
    /// From the new daemon's start to F's engine answering 200.
    pub healthy_ms: Option<u64>,
    pub after: Option<Value>,
}

/// The hung engine H.
#[derive(Debug, Clone, Default)]
pub struct HangObs {
    pub h: Svc,
    pub first: String,
    /// When H's engine stopped answering, and Docker's state of its container then.
    pub silent_ms: Option<u64>,
    pub state_when_silent: Option<String>,
    /// A new container of H whose engine answered 200, and when (from silence).
    pub replaced: Option<(String, u64)>,
    pub after: Option<Value>,
    pub stop: Option<CommandRecord>,
}

/// Kills C's engine, holds its port with a foreign process as soon as it is free, waits for C's
/// failed restart to name the holder, lets the holder go and waits for C to come back.
pub fn port_taken(ctx: &mut RunContext, c: &Svc) -> anyhow::Result<PortObs> {
    let container = kill_engine(ctx, c.name, &c.id)?;
    let mut obs = PortObs {
        killed: Killed {
            container,
            at_ms: ctx.timeline.elapsed_ms(),
        },
        ..PortObs::default()
    };
    let (port, run_id) = (c.port, ctx.run_id.clone());
    let any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    let blocker = poll(Duration::from_secs(5), Duration::from_millis(20), || {
        check_port(port)
            .is_free()
            .then(|| PortBlocker::start(any, port, &run_id).ok())
            .flatten()
    });
    let Some(mut blocker) = blocker else {
        anyhow::bail!("C's port {port} did not become free for the blocker within 5s of the kill");
    };
    let taken_ms = ctx.timeline.elapsed_ms();
    ctx.event(
        EventKind::Fault,
        format!(
            "port blocker {} (pid {}) holds 0.0.0.0:{port}",
            blocker.program, blocker.pid
        ),
    );
    obs.holder = Some((blocker.pid, blocker.program.clone(), taken_ms));
    let pid = blocker.pid.to_string();
    let mut last = None;
    let named = poll(WAIT_BOUND, Duration::from_millis(250), || {
        last = record(ctx, &c.id);
        last.as_ref().filter(|r| names(r, &pid)).map(|_| ())
    });
    obs.named_ms = named.map(|()| ctx.timeline.elapsed_ms());
    ctx.event(
        EventKind::Observation,
        format!("while the port is held: {}", probe::summary("C", &last)),
    );
    obs.named = last;
    let stopped = blocker.stop();
    obs.left = stopped.describe();
    let left_ms = ctx.timeline.elapsed_ms();
    obs.left_ms = Some(left_ms);
    ctx.event(
        EventKind::Heal,
        format!("port blocker stopped: {}", obs.left),
    );
    obs.healthy_ms = poll(WAIT_BOUND, Duration::from_millis(100), || {
        (probe::health(port, Duration::from_millis(500)) == Some(200)).then_some(())
    })
    .map(|()| ctx.timeline.elapsed_ms() - left_ms);
    obs.after = probe::read_when(ctx, "C after the holder left", &c.id, "running", SETTLE);
    Ok(obs)
}

/// True when a record's last error or attempts name the holder's pid.
fn names(record: &Value, pid: &str) -> bool {
    let text = format!("{} {}", record["last_error"], record["attempts"]);
    words(&text).any(|w| w == pid)
}

/// SIGKILL to the daemon, then `docker kill` of F's engine; a second later a new daemon (with the
/// hanging llama.cpp image and a 1 s liveness period); F's engine is read until it answers.
pub fn daemon_dies(ctx: &mut RunContext, fleet: &Fleet) -> anyhow::Result<ReviveObs> {
    let mut obs = ReviveObs::default();
    let stopped = ctx.signal_daemon("KILL", Duration::from_secs(5));
    obs.daemon_kill = stopped.map(|s| s.describe()).unwrap_or_default();
    let container = kill_engine(ctx, fleet.f.name, &fleet.f.id)?;
    obs.killed = Killed {
        container,
        at_ms: ctx.timeline.elapsed_ms(),
    };
    std::thread::sleep(Duration::from_secs(1));
    ctx.start_daemon(&[
        ("AIMA_LLAMACPP_IMAGE", &fleet.hang_image),
        ("AIMA_LLAMACPP_LIVENESS_SECS", LIVENESS_SECS),
    ])?;
    let restarted_ms = ctx.timeline.elapsed_ms();
    obs.restarted_ms = restarted_ms;
    let port = fleet.f.port;
    obs.healthy_ms = poll(WAIT_BOUND, Duration::from_millis(100), || {
        (probe::health(port, Duration::from_millis(500)) == Some(200)).then_some(())
    })
    .map(|()| ctx.timeline.elapsed_ms() - restarted_ms);
    obs.after = probe::read_when(
        ctx,
        "F after the daemon's restart",
        &fleet.f.id,
        "running",
        SETTLE,
    );
    Ok(obs)
}

/// H on the hanging engine: started, watched until its engine falls silent (its container
/// still there), then until a new container of H answers 200; then stopped.
pub fn hung_engine(ctx: &mut RunContext, fleet: &Fleet) -> anyhow::Result<HangObs> {
    let env = llamacpp(&fleet.hang_image);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let hanging = Engine {
        kind: "llamacpp",
        env: &env,
    };
    let h = create_and_start(ctx, &fleet.model, hanging, "H", "always", None)?;
    let first = probe::running_container(ctx, &h.id)
        .ok_or_else(|| anyhow::anyhow!("H has no running container after its start"))?;
    let mut obs = HangObs {
        h: h.clone(),
        first: first.clone(),
        ..HangObs::default()
    };
    let hang_bound = Duration::from_secs(HANG_AFTER_SECS.parse::<u64>().unwrap_or(2) + 10);
    let silent = poll(hang_bound, Duration::from_millis(200), || {
        (probe::health(h.port, Duration::from_millis(800)).is_none()).then_some(())
    });
    if silent.is_some() {
        let at = ctx.timeline.elapsed_ms();
        obs.silent_ms = Some(at);
        obs.state_when_silent = ctx.docker.state_of(&first);
        ctx.event(
            EventKind::Observation,
            format!(
                "H's engine stopped answering; its container is {}",
                obs.state_when_silent.as_deref().unwrap_or("gone")
            ),
        );
        let replaced = poll(WAIT_BOUND, Duration::from_millis(100), || {
            let now = probe::running_container(ctx, &h.id).filter(|c| *c != first)?;
            (probe::health(h.port, Duration::from_millis(500)) == Some(200)).then_some(now)
        });
        obs.replaced = replaced.map(|c| (c, ctx.timeline.elapsed_ms() - at));
    }
    obs.after = probe::read(ctx, "H after the hang", &h.id);
    obs.stop = Some(stop(ctx, "stop H", &h.id));
    Ok(obs)
}
