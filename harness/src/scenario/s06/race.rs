//! Scenario 6's race: `service start --wait` on an engine that loads for a minute, then, from
//! another shell, `service stop` and `service delete`. A stop wins over a start in progress:
//! nothing of the service is left when the stop returns or afterwards, the starter ends with
//! the "stopped while starting" conflict, and the port serves a new service at once.

use std::time::{Duration, Instant};

use crate::exec::CommandRecord;
use crate::fixtures::census::ContainerInfo;
use crate::fixtures::port_check::free_port;
use crate::scenario::aima_ops::{QUICK, create_service, start_in_background, stop};
use crate::scenario::context::RunContext;
use crate::timeline::EventKind;

pub const ROUNDS: usize = 3;
/// From the start to the stop, as the issue that found the race had it.
const INTO_THE_START: Duration = Duration::from_millis(2500);
/// How long Docker is watched for a container of the deleted service.
pub const WATCH: Duration = Duration::from_secs(3);
/// How long the starter may take to end at most before the harness kills it.
const STARTER_BOUND: Duration = Duration::from_secs(30);

/// One round as observed.
#[derive(Debug, Clone)]
pub struct Round {
    pub service: String,
    pub stop: CommandRecord,
    pub delete: CommandRecord,
    /// Containers of the service when the stop had returned.
    pub at_stop: Vec<ContainerInfo>,
    /// Containers of the service seen while Docker was watched after the delete.
    pub seen_after: Vec<ContainerInfo>,
    /// The starter's exit code (`None`: killed by the harness, or by a signal).
    pub starter_exit: Option<i32>,
    pub starter_stderr: String,
    /// Milliseconds from the stop's return to the starter's end (0: it had already ended).
    pub starter_end_ms: Option<u64>,
    /// `service create` and `service start` of a new service on the same port.
    pub again: Vec<CommandRecord>,
}

pub fn rounds(ctx: &mut RunContext, model: &str) -> anyhow::Result<Vec<Round>> {
    let slow = ctx.sim_image(&[("AIMA_SIM_LOAD_SECS", "60")])?;
    let port = free_port()?;
    (1..=ROUNDS)
        .map(|n| round(ctx, model, port, &slow, n))
        .collect()
}

fn round(
    ctx: &mut RunContext,
    model: &str,
    port: u16,
    slow: &str,
    n: usize,
) -> anyhow::Result<Round> {
    let service = create_service(ctx, &format!("race {n}: service create"), model, Some(port))?;
    let mut starter = start_in_background(ctx, &service, slow, 60)?;
    let found = ctx
        .docker
        .wait_for_service_container(&service, Duration::from_secs(20))?;
    if found.is_none() {
        let _ = starter.kill();
        let _ = starter.wait();
        anyhow::bail!("race {n}: the start of {service} made no container within 20s");
    }
    std::thread::sleep(INTO_THE_START);
    let label = format!("aima.service={service}");
    let stop = stop(ctx, &format!("race {n}: stop during the start"), &service);
    let stopped_at = Instant::now();
    let at_stop = ctx.docker.list_with_label(&label)?;
    let delete = ctx.aima(
        &format!("race {n}: delete"),
        &["service", "delete", &service],
        &[],
        QUICK,
    );
    let (starter_exit, starter_end_ms) = wait_for(&mut starter, stopped_at);
    let starter_stderr = starter
        .stderr
        .take()
        .map(|err| std::io::read_to_string(err).unwrap_or_default())
        .unwrap_or_default();
    ctx.event(
        EventKind::Observation,
        format!(
            "race {n}: the starter ended with {} {} ms after the stop returned",
            starter_exit.map_or("a signal".to_owned(), |c| format!("exit {c}")),
            starter_end_ms.map_or("(killed after 30 s)".to_owned(), |ms| ms.to_string()),
        ),
    );
    let mut seen_after = Vec::new();
    let until = Instant::now() + WATCH;
    while Instant::now() < until {
        for c in ctx.docker.list_with_label(&label)? {
            if !seen_after.iter().any(|s: &ContainerInfo| s.id == c.id) {
                seen_after.push(c);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let again = start_again(ctx, model, port, n)?;
    Ok(Round {
        service,
        stop,
        delete,
        at_stop,
        seen_after,
        starter_exit,
        starter_stderr,
        starter_end_ms,
        again,
    })
}

/// Waits for the starter to end (killing it after [`STARTER_BOUND`]); its exit code and when
/// it ended, in ms after `since`.
fn wait_for(starter: &mut std::process::Child, since: Instant) -> (Option<i32>, Option<u64>) {
    loop {
        if let Ok(Some(status)) = starter.try_wait() {
            return (status.code(), Some(since.elapsed().as_millis() as u64));
        }
        if since.elapsed() >= STARTER_BOUND {
            let _ = starter.kill();
            let status = starter.wait().ok();
            return (status.and_then(|s| s.code()), None);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A new service on the same port, started (without waiting for health), stopped and deleted.
fn start_again(
    ctx: &mut RunContext,
    model: &str,
    port: u16,
    n: usize,
) -> anyhow::Result<Vec<CommandRecord>> {
    let again = create_service(
        ctx,
        &format!("race {n}: a new service on the port"),
        model,
        Some(port),
    )?;
    let start = ctx.aima(
        &format!("race {n}: start the new service"),
        &["service", "start", &again],
        &[],
        QUICK,
    );
    let stop = stop(ctx, &format!("race {n}: stop the new service"), &again);
    let delete = ctx.aima(
        &format!("race {n}: delete the new service"),
        &["service", "delete", &again],
        &[],
        QUICK,
    );
    Ok(vec![start, stop, delete])
}
