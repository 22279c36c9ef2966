//! Scenario 7's steps: a live service; orphans planted and pruned by the CLI and the API; an
//! orphan and a killed start left to the reaper; another instance's and a foreign container
//! watched throughout; a service whose container the harness removes behind aima's back.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::exec::CommandRecord;
use crate::fixtures::census::ContainerInfo;
use crate::fixtures::http::HttpReply;
use crate::fixtures::port_check::free_port;
use crate::scenario::aima_ops::{
    QUICK, StatusRead, create_model, create_service, engine_health, get_service, read_status,
    start_in_background, start_wait,
};
use crate::scenario::context::RunContext;
use crate::timeline::EventKind;

use super::plant::{Kind, plant};

/// How long the reaper may take to remove an orphan (grace 3 s, period 1 s, plus slack).
pub const REAP_BOUND: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Default)]
pub struct Observations {
    pub missing: Vec<String>,
    /// The live service, its container and port.
    pub live: Option<(String, String, u16)>,
    pub cli_prune: Option<(String, CommandRecord)>,
    pub cli_prune_gone: bool,
    pub api_prune: Option<(String, Result<HttpReply, String>)>,
    pub api_prune_gone: bool,
    /// Planted orphan and killed start's container: (what, id, removed after ms or None).
    pub reaped: Vec<(String, String, Option<u64>)>,
    pub killed_service: Option<StatusRead>,
    /// Another instance's and the foreign container: (what, id, state at the end).
    pub bystanders: Vec<(String, String, Option<String>)>,
    /// Ids listed by either prune.
    pub pruned_ids: Vec<String>,
    pub yanked: Option<YankedService>,
    pub live_end: Option<(StatusRead, Option<String>, Result<u16, String>)>,
}

/// The service whose container was removed behind aima's back.
#[derive(Debug, Clone)]
pub struct YankedService {
    pub service: String,
    pub after: StatusRead,
    pub restart: CommandRecord,
    pub after_restart: StatusRead,
}

crate::scenario::judging::observed!(Observations);

pub fn run_steps(ctx: &mut RunContext) -> Observations {
    ctx.observe(Observations::default(), steps)
}

fn image(ctx: &RunContext) -> String {
    ctx.base_env
        .iter()
        .find(|(k, _)| k == "AIMA_VLLM_IMAGE")
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn ids_of(value: &Value) -> Vec<String> {
    value["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["container_id"].as_str().map(str::to_owned))
        .collect()
}

fn steps(ctx: &mut RunContext, obs: &mut Observations) -> anyhow::Result<()> {
    let image = image(ctx);
    let model = create_model(ctx, "orphan-model")?;
    let port = ctx.port;
    let live = create_service(ctx, "setup: live service", &model, Some(port))?;
    let started = start_wait(ctx, "setup: start the live service", &live, 60);
    anyhow::ensure!(
        started.succeeded(),
        "the live service did not start: {}",
        started.stderr.trim()
    );
    let (_, record) = get_service(ctx, "setup: live record", &live);
    let live_container = record["container_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    obs.live = Some((live.clone(), live_container.clone(), port));

    for kind in [Kind::OtherInstance, Kind::EngineOnly] {
        let id = plant(ctx, kind, &image)?;
        obs.bystanders.push((kind.describe().to_owned(), id, None));
    }

    // Prune through the CLI, then through the API, each right after planting.
    let orphan = plant(ctx, Kind::OwnOrphan, &image)?;
    let prune = ctx.aima(
        "service prune (CLI)",
        &["service", "prune", "--output", "json"],
        &[],
        QUICK,
    );
    obs.pruned_ids.extend(ids_of(
        &serde_json::from_str(prune.stdout.trim()).unwrap_or(Value::Null),
    ));
    obs.cli_prune_gone = ctx.docker.state_of(&orphan).is_none();
    obs.cli_prune = Some((orphan, prune));
    let orphan = plant(ctx, Kind::OwnOrphan, &image)?;
    let reply = ctx
        .http(
            "service prune (API)",
            ctx.api("POST", "/api/v2/services/prune"),
        )
        .map_err(|e| format!("{e:#}"));
    if let Some(value) = reply.as_ref().ok().and_then(HttpReply::json) {
        obs.pruned_ids.extend(ids_of(&value));
    }
    obs.api_prune_gone = ctx.docker.state_of(&orphan).is_none();
    obs.api_prune = Some((orphan, reply));

    // Left to the daemon: a planted orphan and the container of a start killed half-way.
    let orphan = plant(ctx, Kind::OwnOrphan, &image)?;
    let (killed, container) = killed_start(ctx, &model)?;
    let waiting = [
        ("planted orphan".to_owned(), orphan),
        ("container of the killed start".to_owned(), container),
    ];
    let since = Instant::now();
    let mut gone_at: Vec<Option<u64>> = vec![None; waiting.len()];
    while since.elapsed() < REAP_BOUND && gone_at.iter().any(Option::is_none) {
        for (n, (_, id)) in waiting.iter().enumerate() {
            if gone_at[n].is_none() && ctx.docker.state_of(id).is_none() {
                gone_at[n] = Some(crate::exec::millis(since.elapsed()));
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    for ((what, id), gone) in waiting.into_iter().zip(gone_at) {
        let text = match gone {
            Some(ms) => format!("{what} {} removed by aima after {ms}ms", &id[..12]),
            None => format!(
                "{what} {} still there after {}s",
                &id[..12],
                REAP_BOUND.as_secs()
            ),
        };
        ctx.event(EventKind::Observation, text);
        obs.reaped.push((what, id, gone));
    }
    obs.killed_service = Some(read_status(
        ctx,
        "status of the killed start's service",
        &killed,
    ));

    obs.yanked = Some(yank(ctx, &model)?);

    for (what, id, state) in &mut obs.bystanders {
        *state = ctx.docker.state_of(id);
        let shown = state.as_deref().unwrap_or("gone");
        ctx.event(
            EventKind::Observation,
            format!("{what} {}: {shown}", &id[..12]),
        );
    }
    let live_status = read_status(ctx, "live service at the end", &live);
    let (_, record) = get_service(ctx, "live record at the end", &live);
    let container = record["container_id"].as_str().map(str::to_owned);
    obs.live_end = Some((live_status, container, engine_health(port)));
    Ok(())
}

/// Starts a service on a slow engine as a separate process and SIGKILLs that process once the
/// container exists; returns the service and its container.
fn killed_start(ctx: &mut RunContext, model: &str) -> anyhow::Result<(String, String)> {
    let slow = ctx.sim_image(&[("AIMA_SIM_LOAD_SECS", "60")])?;
    let service = create_service(ctx, "setup: service to kill", model, Some(free_port()?))?;
    let mut child = start_in_background(ctx, &service, &slow, 120)?;
    let found = ctx
        .docker
        .wait_for_service_container(&service, Duration::from_secs(20))?;
    let _ = child.kill();
    let _ = child.wait();
    let Some(ContainerInfo { id: container, .. }) = found else {
        anyhow::bail!("the start of {service} made no container within 20s");
    };
    ctx.event(
        EventKind::Fault,
        format!(
            "SIGKILL to the start of {service} with its container {} created",
            &container[..12]
        ),
    );
    Ok((service, container))
}

/// Starts a service, removes its container through the Docker API, reads it back and starts
/// it again.
fn yank(ctx: &mut RunContext, model: &str) -> anyhow::Result<YankedService> {
    let service = create_service(ctx, "setup: service to yank", model, Some(free_port()?))?;
    let started = start_wait(ctx, "start the service to yank", &service, 60);
    anyhow::ensure!(
        started.succeeded(),
        "it did not start: {}",
        started.stderr.trim()
    );
    let (_, record) = get_service(ctx, "record of the service to yank", &service);
    let container = record["container_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    ctx.docker.remove(&container)?;
    // The fault is in place only once Docker no longer knows the container.
    let since = Instant::now();
    while ctx.docker.state_of(&container).is_some() && since.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    ctx.event(
        EventKind::Fault,
        format!(
            "container {} of {service} removed behind aima's back",
            &container[..12.min(container.len())]
        ),
    );
    let after = read_status(ctx, "status after the removal", &service);
    let restart = start_wait(ctx, "plain start after the removal", &service, 60);
    let after_restart = read_status(ctx, "status after the new start", &service);
    Ok(YankedService {
        service,
        after,
        restart,
        after_restart,
    })
}
