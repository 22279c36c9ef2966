//! Scenario 20's steps, in the scenario's order: block the port, start, read back, break
//! DOCKER_HOST, start again, stop the failed services, cycle three times, check for leaks.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::exec::CommandRecord;
use crate::fixtures::docker_host::{INVALID_DOCKER_HOST, SilentEndpoint, refused_endpoint};
use crate::fixtures::port_blocker::PortBlocker;
use crate::fixtures::port_check::check_port;
use crate::scenario::aima_ops::create_service;
use crate::scenario::context::RunContext;
use crate::timeline::EventKind;

use crate::scenario::aima_json::attempts_of_record;
use crate::scenario::aima_ops::{QUICK, create_model, read_status};

use super::observations::{Blocker, Cycle, Observations, PortRelease, StopRead};

/// The harness's deadline for `service start --timeout SECS`: aima's own timeout plus 30 s, so
/// a start that overruns its timeout is seen (and judged) rather than cut short.
fn start_deadline(timeout_secs: u64) -> Duration {
    Duration::from_secs(timeout_secs + 30)
}

/// Runs every step; a failed setup step is recorded in `missing` and ends the run early.
pub fn run_steps(ctx: &mut RunContext) -> Observations {
    let obs = Observations {
        port: ctx.port,
        ..Observations::default()
    };
    ctx.observe(obs, steps)
}

fn steps(ctx: &mut RunContext, obs: &mut Observations) -> anyhow::Result<()> {
    let model = create_model(ctx, "port-test-model")?;
    test1_blocked_start(ctx, obs, &model)?;
    let first = obs
        .status_after_failure
        .as_ref()
        .map(|r| r.service.clone())
        .context("no service from test 1")?;
    test4_docker_down(ctx, obs, &first);
    let second = test5_second_blocked_start(ctx, obs, &model)?;
    for service in [&first, &second] {
        let stop = ctx.aima(
            "test 6: stop failed service",
            &["service", "stop", service],
            &[],
            QUICK,
        );
        let after = read_status(ctx, "test 6: status after stop", service);
        obs.stops.push(StopRead { stop, after });
    }
    test7_cycles(ctx, obs, &model)
}

fn block(ctx: &mut RunContext) -> anyhow::Result<PortBlocker> {
    let addr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    let blocker = PortBlocker::start(addr, ctx.port, &ctx.run_id)?;
    ctx.event(
        EventKind::Fault,
        format!(
            "port {} blocked by {} pid {} on {addr}",
            ctx.port, blocker.program, blocker.pid
        ),
    );
    Ok(blocker)
}

/// Stops the blocker; the heal is recorded only once the blocker is verifiably gone and the
/// port free, otherwise the failed verification is recorded.
fn unblock(ctx: &mut RunContext, mut blocker: PortBlocker) {
    let stopped = blocker.stop();
    if stopped.verified {
        ctx.event(
            EventKind::Heal,
            format!(
                "blocker pid {} stopped: {}",
                blocker.pid,
                stopped.describe()
            ),
        );
    } else {
        ctx.event(
            EventKind::Observation,
            format!(
                "blocker pid {} did NOT stop: {}",
                blocker.pid,
                stopped.describe()
            ),
        );
    }
}

/// `service start SERVICE --wait --timeout SECS` with the harness deadline that goes with it.
fn start(ctx: &mut RunContext, step: &str, service: &str, timeout_secs: u64) -> CommandRecord {
    let timeout = timeout_secs.to_string();
    let args = ["service", "start", service, "--wait", "--timeout", &timeout];
    ctx.aima(step, &args, &[], start_deadline(timeout_secs))
}

fn test1_blocked_start(
    ctx: &mut RunContext,
    obs: &mut Observations,
    model: &str,
) -> anyhow::Result<()> {
    let blocker = block(ctx)?;
    obs.blocker = Some(Blocker {
        pid: blocker.pid,
        program: blocker.program.clone(),
    });
    let service = create_service(ctx, "test 1: service create", model, None)?;
    let start = start(ctx, "test 1: start on blocked port", &service, 60);
    obs.blocked_start = Some(start);
    unblock(ctx, blocker);
    obs.status_after_failure = Some(read_status(ctx, "test 2: status after failure", &service));
    obs.census_after_failure = Some(ctx.census("after the failed start")?);
    Ok(())
}

fn test4_docker_down(ctx: &mut RunContext, obs: &mut Observations, service: &str) {
    obs.docker_host = INVALID_DOCKER_HOST.to_owned();
    ctx.event(
        EventKind::Fault,
        format!("DOCKER_HOST={} for the next command", obs.docker_host),
    );
    let env = [("DOCKER_HOST", obs.docker_host.as_str())];
    let deadline = Duration::from_millis(super::judge::DOCKER_DOWN_BOUND_MS);
    let args = ["service", "start", service, "--wait", "--timeout", "30"];
    let start = ctx.aima(
        "test 4: start with Docker unreachable",
        &args,
        &env,
        deadline,
    );
    obs.docker_down_start = Some(start);
    ctx.event(EventKind::Heal, "DOCKER_HOST restored");
    docker_variants(ctx, obs, &args, deadline);
    // If aima ignored DOCKER_HOST the service may now run and hold the port; put it back.
    let read = read_status(ctx, "test 4: status after", service);
    if read.status.as_deref() == Some("running") {
        ctx.aima(
            "test 4: stop the service that started anyway",
            &["service", "stop", service],
            &[],
            QUICK,
        );
    }
}

/// The same start against an endpoint that refuses connections and one that never answers;
/// their times are reported as unjudged figures.
fn docker_variants(
    ctx: &mut RunContext,
    obs: &mut Observations,
    args: &[&str],
    deadline: Duration,
) {
    let silent = SilentEndpoint::open();
    let endpoints = [
        ("refused", refused_endpoint().ok()),
        (
            "silent",
            silent.as_ref().ok().map(|s| s.docker_host.clone()),
        ),
    ];
    for (what, endpoint) in endpoints {
        let Some(endpoint) = endpoint else {
            ctx.event(
                EventKind::Observation,
                format!("no {what} Docker endpoint could be made"),
            );
            continue;
        };
        ctx.event(
            EventKind::Fault,
            format!("DOCKER_HOST={endpoint} ({what} endpoint) for the next command"),
        );
        let env = [("DOCKER_HOST", endpoint.as_str())];
        let step = format!("test 4: start with a {what} Docker endpoint");
        let record = ctx.aima(&step, args, &env, deadline);
        ctx.event(EventKind::Heal, "DOCKER_HOST restored");
        obs.docker_variants
            .push((what.to_owned(), endpoint, record));
    }
}

fn test5_second_blocked_start(
    ctx: &mut RunContext,
    obs: &mut Observations,
    model: &str,
) -> anyhow::Result<String> {
    let service = create_service(ctx, "test 5: service create", model, None)?;
    let blocker = block(ctx)?;
    let start = start(ctx, "test 5: second start on blocked port", &service, 60);
    obs.second_blocked_start = Some(start);
    let get = ctx.aima(
        "test 5: read attempts",
        &["service", "get", &service, "--output", "json"],
        &[],
        QUICK,
    );
    obs.second_attempts = attempts_of_record(&get.stdout);
    obs.second_record = Some(get);
    unblock(ctx, blocker);
    Ok(service)
}

fn test7_cycles(ctx: &mut RunContext, obs: &mut Observations, model: &str) -> anyhow::Result<()> {
    let service = create_service(ctx, "test 7: service create", model, None)?;
    let blocker = block(ctx)?;
    for n in 1..=3 {
        let start = start(ctx, &format!("test 7: cycle {n} start"), &service, 30);
        let census = ctx.census(&format!("after cycle {n}"))?;
        obs.cycles.push(Cycle { start, census });
    }
    unblock(ctx, blocker);
    obs.final_stop = Some(ctx.aima(
        "test 7: stop cycled service",
        &["service", "stop", &service],
        &[],
        QUICK,
    ));
    obs.final_census = Some(ctx.census("after the cycles")?);
    obs.port_release = Some(wait_for_port(ctx));
    Ok(())
}

/// Docker's proxy may hold a port briefly after a container goes (the scenario's bug #31), so
/// the release check polls for up to 10 s and reports how long it took.
fn wait_for_port(ctx: &mut RunContext) -> PortRelease {
    let started = Instant::now();
    let mut check = check_port(ctx.port);
    while !check.is_free() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(200));
        check = check_port(ctx.port);
    }
    let waited_ms = crate::exec::millis(started.elapsed());
    ctx.event(
        EventKind::Observation,
        format!("{} (after {waited_ms}ms)", check.describe()),
    );
    PortRelease { check, waited_ms }
}
