//! Scenario 19's steps: a model, a running service R, a created service C and a service K whose
//! start the daemon is running (on a slow engine) when it gets SIGKILL; then a new daemon on
//! the same data dir, and what it reports.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fixtures::http::HttpReply;
use crate::fixtures::port_check::free_port;
use crate::scenario::aima_ops::{api_call, api_create_model, api_create_service, engine_health};
use crate::scenario::context::RunContext;
use crate::timeline::EventKind;

/// How long the restarted daemon may take to resolve the interrupted start.
pub const RESOLVE_BOUND: Duration = Duration::from_secs(15);

/// (id, port) of each record as listed.
pub type Records = Vec<(String, Option<u64>)>;

#[derive(Debug, Clone, Default)]
pub struct Observations {
    pub missing: Vec<String>,
    pub models_before: Vec<String>,
    pub services_before: Records,
    pub models_after: Vec<String>,
    pub services_after: Records,
    /// The running service, its container, its port.
    pub running: Option<(String, String, u16)>,
    pub killed_start: Option<(String, String)>,
    pub kill: Option<String>,
    pub restart_ready_ms: Option<u64>,
    /// After the restart: R's record as the API shows it, Docker's state of its container,
    /// its engine's health.
    pub adopted: Option<(Value, Option<String>, Result<u16, String>)>,
    pub stop: Option<(Result<HttpReply, String>, Vec<String>)>,
    /// K's status as the restarted daemon resolves it, and when; its containers then.
    pub resolved: Option<(Option<String>, Option<u64>, Vec<String>)>,
}

crate::scenario::judging::observed!(Observations);

pub fn run_steps(ctx: &mut RunContext) -> Observations {
    ctx.observe(Observations::default(), steps)
}

fn listed(value: &Value) -> Records {
    value["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            (
                i["id"].as_str().unwrap_or_default().to_owned(),
                i["port"].as_u64(),
            )
        })
        .collect()
}

fn steps(ctx: &mut RunContext, obs: &mut Observations) -> anyhow::Result<()> {
    let slow = ctx.sim_image(&[("AIMA_SIM_LOAD_SECS", "60")])?;
    ctx.start_daemon(&[("AIMA_RECONCILE_SECS", "1")])?;
    let model = api_create_model(ctx, "setup", "survivor")?;
    let port = ctx.port;
    let running = api_create_service(ctx, "setup", &model, port)?;
    api_create_service(ctx, "setup", &model, free_port()?)?;
    let killed = api_create_service(ctx, "setup", &model, free_port()?)?;
    let started = api_call(
        ctx,
        "start R",
        "POST",
        &format!("/api/v2/services/{running}/start"),
        Some(r#"{"wait":true,"timeout":60}"#),
    )?;
    let container = started["container_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    obs.running = Some((running.clone(), container.clone(), port));

    // The daemon is restarted on the slow image, so K's start is still loading when it dies.
    ctx.signal_daemon("TERM", Duration::from_secs(10));
    ctx.start_daemon(&[("AIMA_RECONCILE_SECS", "1"), ("AIMA_VLLM_IMAGE", &slow)])?;
    let models = api_call(ctx, "before the kill", "GET", "/api/v2/models", None)?;
    obs.models_before = listed(&models).into_iter().map(|(id, _)| id).collect();
    obs.services_before = listed(&api_call(
        ctx,
        "before the kill",
        "GET",
        "/api/v2/services",
        None,
    )?);

    let path = format!("/api/v2/services/{killed}/start");
    let request = ctx
        .api("POST", &path)
        .json(r#"{"wait":true,"timeout":120}"#)
        .timeout(Duration::from_secs(5));
    let listen = ctx.listen;
    let worker = std::thread::spawn(move || request.send(listen).map_err(|e| e.to_string()));
    let k_container = ctx
        .docker
        .wait_for_service_container(&killed, Duration::from_secs(20))?
        .ok_or_else(|| anyhow::anyhow!("K's start made no container within 20s"))?
        .id;
    obs.killed_start = Some((killed.clone(), k_container));
    let exit = ctx.signal_daemon("KILL", Duration::from_secs(5));
    obs.kill = exit.map(|e| e.describe());
    let _ = worker.join();

    let restart = Instant::now();
    ctx.start_daemon(&[("AIMA_RECONCILE_SECS", "1")])?;
    obs.restart_ready_ms = Some(crate::exec::millis(restart.elapsed()));
    let models = api_call(ctx, "after the restart", "GET", "/api/v2/models", None)?;
    obs.models_after = listed(&models).into_iter().map(|(id, _)| id).collect();
    obs.services_after = listed(&api_call(
        ctx,
        "after the restart",
        "GET",
        "/api/v2/services",
        None,
    )?);

    obs.resolved = Some(wait_resolved(ctx, &killed, restart));
    let record = api_call(
        ctx,
        "R after the restart",
        "GET",
        &format!("/api/v2/services/{running}"),
        None,
    )?;
    obs.adopted = Some((record, ctx.docker.state_of(&container), engine_health(port)));

    let reply = ctx
        .http(
            "stop R",
            ctx.api("POST", &format!("/api/v2/services/{running}/stop"))
                .json("{}"),
        )
        .map_err(|e| format!("{e:#}"));
    let left = ctx
        .docker
        .list_with_label(&format!("aima.service={running}"))?
        .into_iter()
        .map(|c| c.line())
        .collect();
    obs.stop = Some((reply, left));
    Ok(())
}

/// Reads K through the restarted daemon until it is no longer `starting` and Docker shows no
/// container of it (or the bound passes); returns its status, when both held, what remains.
fn wait_resolved(
    ctx: &mut RunContext,
    killed: &str,
    since: Instant,
) -> (Option<String>, Option<u64>, Vec<String>) {
    let path = format!("/api/v2/services/{killed}");
    let mut status = None;
    let mut left = Vec::new();
    let mut resolved_ms = None;
    while since.elapsed() < RESOLVE_BOUND {
        let reply = ctx.http("K after the restart", ctx.api("GET", &path));
        status = reply
            .ok()
            .and_then(|r| r.json())
            .and_then(|v| v["status"].as_str().map(str::to_owned));
        left = ctx
            .docker
            .list_with_label(&format!("aima.service={killed}"))
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.line())
            .collect();
        if status.as_deref().is_some_and(|s| s != "starting") && left.is_empty() {
            resolved_ms = Some(crate::exec::millis(since.elapsed()));
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    ctx.event(
        EventKind::Observation,
        format!(
            "K reads {} after the restart; {} container(s) of it remain",
            status.as_deref().unwrap_or("<unreadable>"),
            left.len()
        ),
    );
    (status, resolved_ms, left)
}
