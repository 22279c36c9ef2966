//! Scenario 21's steps: a simulator image that loads for LOAD_SECS; a CLI start with a shorter
//! timeout, the read-back, a retry with a longer one; then a long start through the daemon's
//! API while the harness keeps asking the daemon for its health and its service list.

use std::time::{Duration, Instant};

use crate::exec::CommandRecord;
use crate::fixtures::census::ContainerInfo;
use crate::fixtures::http::{HttpReply, HttpRequest};
use crate::fixtures::port_check::free_port;
use crate::scenario::aima_ops::{
    StatusRead, create_model, create_service, engine_health, read_status,
};
use crate::scenario::context::RunContext;

/// Seconds the slow engine answers 503 on `/health` before it is ready.
pub const LOAD_SECS: u64 = 8;
/// The short `--timeout` of the first start.
pub const SHORT_TIMEOUT: u64 = 3;
/// How far past its timeout the short start may end and still be prompt.
pub const PROMPT_MARGIN_MS: u64 = 5_000;
/// A probe slower than this counts as the daemon not answering.
pub const PROBE_BOUND_MS: u64 = 5_000;

/// One probe of the daemon during the long start.
#[derive(Debug, Clone)]
pub struct Probe {
    pub path: &'static str,
    pub answer: Result<u16, String>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Observations {
    pub missing: Vec<String>,
    pub short_start: Option<CommandRecord>,
    pub after_short: Option<StatusRead>,
    pub left_after_short: Vec<ContainerInfo>,
    pub retry: Option<CommandRecord>,
    pub after_retry: Option<StatusRead>,
    pub retry_health: Option<Result<u16, String>>,
    /// The daemon-side start: its answer (or error) and how long it took.
    pub api_start: Option<(Result<HttpReply, String>, u64)>,
    pub probes: Vec<Probe>,
}

crate::scenario::judging::observed!(Observations);

pub fn run_steps(ctx: &mut RunContext) -> Observations {
    ctx.observe(Observations::default(), steps)
}

fn steps(ctx: &mut RunContext, obs: &mut Observations) -> anyhow::Result<()> {
    let load = LOAD_SECS.to_string();
    let about = format!("loads for {LOAD_SECS}s");
    let slow = ctx.start_daemon_on_sim(&[("AIMA_SIM_LOAD_SECS", &load)], Some(&about))?;
    let model = create_model(ctx, "slow-model")?;
    let port = ctx.port;
    let service = create_service(ctx, "setup: service create", &model, Some(port))?;
    let image = [("AIMA_VLLM_IMAGE", slow.as_str())];

    let short = SHORT_TIMEOUT.to_string();
    obs.short_start = Some(ctx.aima(
        "short timeout start",
        &["service", "start", &service, "--wait", "--timeout", &short],
        &image,
        Duration::from_secs(SHORT_TIMEOUT + 30),
    ));
    obs.after_short = Some(read_status(ctx, "status after the timeout", &service));
    obs.left_after_short = ctx
        .docker
        .list_with_label(&format!("aima.service={service}"))?;

    obs.retry = Some(ctx.aima(
        "retry with a longer timeout",
        &["service", "start", &service, "--wait", "--timeout", "60"],
        &image,
        Duration::from_secs(90),
    ));
    obs.after_retry = Some(read_status(ctx, "status after the retry", &service));
    obs.retry_health = Some(engine_health(port));

    let other = create_service(
        ctx,
        "setup: service for the API start",
        &model,
        Some(free_port()?),
    )?;
    long_start_with_probes(ctx, obs, &other);
    Ok(())
}

fn long_start_with_probes(ctx: &mut RunContext, obs: &mut Observations, service: &str) {
    let path = format!("/api/v2/services/{service}/start");
    let listen = ctx.listen;
    let token = ctx.api_token.clone();
    let started = Instant::now();
    let worker = std::thread::spawn(move || {
        HttpRequest::new("POST", &path)
            .bearer(&token)
            .json(r#"{"wait": true, "timeout": 60}"#)
            .timeout(Duration::from_secs(90))
            .send(listen)
            .map_err(|e| e.to_string())
    });
    ctx.say(&format!(
        "long start of {service} through the API; probing the daemon"
    ));
    std::thread::sleep(Duration::from_millis(300));
    while !worker.is_finished() && started.elapsed() < Duration::from_secs(90) {
        for path in ["/api/v2/health", "/api/v2/services"] {
            let request = ctx
                .api("GET", path)
                .timeout(Duration::from_millis(PROBE_BOUND_MS));
            let probe = match ctx.http("probe during the long start", request) {
                Ok(reply) => Probe {
                    path,
                    answer: Ok(reply.status),
                    elapsed_ms: reply.elapsed_ms,
                },
                Err(err) => Probe {
                    path,
                    answer: Err(format!("{err:#}")),
                    elapsed_ms: PROBE_BOUND_MS,
                },
            };
            obs.probes.push(probe);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let answer = worker
        .join()
        .unwrap_or_else(|_| Err("the request thread panicked".to_owned()));
    let took = crate::exec::millis(started.elapsed());
    let text = match &answer {
        Ok(reply) => reply.summary(),
        Err(err) => err.clone(),
    };
    ctx.event(
        crate::timeline::EventKind::Operation,
        format!(
            "POST /api/v2/services/{service}/start (wait, timeout 60) -> {text} after {took}ms"
        ),
    );
    obs.api_start = Some((answer, took));
}
