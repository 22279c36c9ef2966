//! Scenario 22's steps: services R and K on an engine that loads for a few seconds; K's start
//! is in flight through the API when the daemon gets SIGTERM; a new connection is tried at
//! once; then the exit, the engines, the database; a restart; writes followed by SIGKILL; a
//! second restart.

use std::time::Duration;

use crate::fixtures::http::{HttpReply, HttpRequest};
use crate::fixtures::port_check::free_port;
use crate::scenario::aima_ops::{api_call, api_create_model, api_create_service, id_of};
use crate::scenario::context::RunContext;

use super::integrity::integrity_check;

/// Seconds the engine loads: long enough for SIGTERM to land while K's start is in flight.
pub const LOAD_SECS: u64 = 5;
/// aima's documented drain time for requests in flight, plus slack for a loaded machine.
pub const SHUTDOWN_BOUND: Duration = Duration::from_secs(35);

#[derive(Debug, Clone, Default)]
pub struct Observations {
    pub missing: Vec<String>,
    /// A new request sent 300 ms after SIGTERM.
    pub after_term: Option<Result<HttpReply, String>>,
    /// The in-flight start's answer.
    pub in_flight: Option<Result<HttpReply, String>>,
    pub term_exit: Option<crate::exec::group::Stopped>,
    /// Docker states of R's and K's containers once the daemon is gone: (service, state).
    pub engines_after_exit: Vec<(String, Option<String>)>,
    pub integrity_after_term: Option<Result<String, String>>,
    /// Statuses the restarted daemon reports for R and K.
    pub after_restart: Vec<(String, Option<String>)>,
    /// The model and service created (201) right before SIGKILL.
    pub committed: Vec<String>,
    pub kill_exit: Option<crate::exec::group::Stopped>,
    pub integrity_after_kill: Option<Result<String, String>>,
    /// After the second restart: health status, listed model and service ids, statuses.
    pub final_health: Option<Result<u16, String>>,
    pub final_ids: Vec<String>,
    pub final_statuses: Vec<(String, String)>,
}

crate::scenario::judging::observed!(Observations);

pub fn run_steps(ctx: &mut RunContext) -> Observations {
    ctx.observe(Observations::default(), steps)
}

fn steps(ctx: &mut RunContext, obs: &mut Observations) -> anyhow::Result<()> {
    let load = LOAD_SECS.to_string();
    let slow = ctx.start_daemon_on_sim(&[("AIMA_SIM_LOAD_SECS", &load)], None)?;
    let env = [("AIMA_VLLM_IMAGE", slow.as_str())];
    let db = ctx.data_dir.join("aima.db");
    let model = api_create_model(ctx, "call", "drain-model")?;
    let running = api_create_service(ctx, "call", &model, free_port()?)?;
    let in_flight = api_create_service(ctx, "call", &model, free_port()?)?;
    api_call(
        ctx,
        "call",
        "POST",
        &format!("/api/v2/services/{running}/start"),
        Some(r#"{"wait":true,"timeout":60}"#),
    )?;

    // K's start in flight, then SIGTERM once its container exists.
    let request = ctx
        .api("POST", &format!("/api/v2/services/{in_flight}/start"))
        .json(r#"{"wait":true,"timeout":60}"#)
        .timeout(Duration::from_secs(90));
    let listen = ctx.listen;
    let worker = std::thread::spawn(move || request.send(listen).map_err(|e| e.to_string()));
    ctx.docker
        .wait_for_service_container(&in_flight, Duration::from_secs(20))?
        .ok_or_else(|| anyhow::anyhow!("K's start made no container within 20s"))?;
    ctx.terminate_daemon();
    std::thread::sleep(Duration::from_millis(300));
    let probe = HttpRequest::new("GET", "/api/v2/health").timeout(Duration::from_secs(2));
    obs.after_term = Some(
        ctx.http("new request after SIGTERM", probe)
            .map_err(|e| format!("{e:#}")),
    );
    obs.term_exit = ctx.wait_daemon(SHUTDOWN_BOUND);
    obs.in_flight = Some(
        worker
            .join()
            .unwrap_or_else(|_| Err("the request thread panicked".into())),
    );
    for service in [&running, &in_flight] {
        let state = ctx
            .docker
            .list_with_label(&format!("aima.service={service}"))?
            .into_iter()
            .next()
            .map(|c| c.state);
        obs.engines_after_exit.push((service.clone(), state));
    }
    obs.integrity_after_term = Some(integrity_check(&db));

    // Restart: R and K are adopted.
    ctx.start_daemon(&env)?;
    for service in [&running, &in_flight] {
        let record = api_call(
            ctx,
            "call",
            "GET",
            &format!("/api/v2/services/{service}"),
            None,
        )?;
        obs.after_restart.push((
            service.clone(),
            record["status"].as_str().map(str::to_owned),
        ));
    }

    // Committed writes, then SIGKILL at once.
    let committed_model = api_create_model(ctx, "call", "last-words")?;
    let committed_service = api_create_service(ctx, "call", &committed_model, free_port()?)?;
    obs.committed = vec![committed_model, committed_service];
    obs.kill_exit = ctx.signal_daemon("KILL", Duration::from_secs(5));
    obs.integrity_after_kill = Some(integrity_check(&db));

    ctx.start_daemon(&env)?;
    let health = HttpRequest::new("GET", "/api/v2/health");
    obs.final_health = Some(
        ctx.http("health after the restart", health)
            .map(|r| r.status)
            .map_err(|e| format!("{e:#}")),
    );
    let models = api_call(ctx, "call", "GET", "/api/v2/models", None)?;
    let services = api_call(ctx, "call", "GET", "/api/v2/services", None)?;
    for list in [&models, &services] {
        obs.final_ids
            .extend(list["items"].as_array().into_iter().flatten().map(id_of));
    }
    obs.final_statuses = services["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                id_of(s),
                s["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    Ok(())
}
