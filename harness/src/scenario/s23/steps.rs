//! Scenario 23's steps: a simulator image that writes ALLOC_MIB MiB before it answers; services
//! created on the command line with `--memory` and `--gpus`, started and read back through the
//! daemon's API; the containers inspected through Docker's.

use std::time::Duration;

use serde_json::Value;

use crate::fixtures::census::ContainerInfo;
use crate::fixtures::http::HttpReply;
use crate::fixtures::port_check::free_port;
use crate::scenario::aima_ops::{create_model, create_service_with};
use crate::scenario::context::RunContext;

/// MiB the engine allocates (and writes) while it loads.
pub const ALLOC_MIB: u64 = 256;
/// The limit it cannot fit in, and one it fits in.
pub const TIGHT: &str = "64m";
pub const TIGHT_BYTES: u64 = 64 << 20;
pub const ROOMY: &str = "512m";
pub const ROOMY_BYTES: u64 = 512 << 20;
/// The GPU the GPU service asks for.
pub const GPU: &str = "0";
/// The `wait` start's own timeout; a start that reaches it was not told apart as out of memory.
pub const START_TIMEOUT: u64 = 60;
/// A refusal slower than this is not "at once".
pub const REFUSAL_BOUND_MS: u64 = 10_000;

#[derive(Debug, Clone, Default)]
pub struct Observations {
    pub missing: Vec<String>,
    pub tight_start: Option<Result<HttpReply, String>>,
    pub tight_read: Option<Result<HttpReply, String>>,
    pub tight_left: Option<Vec<ContainerInfo>>,
    pub roomy_start: Option<Result<HttpReply, String>>,
    pub roomy_host: Option<Result<Value, String>>,
    pub roomy_read: Option<Result<HttpReply, String>>,
    /// What Docker offers for GPUs (`docker info`); `Some` makes the refusal not judgeable.
    pub gpu_path: Option<String>,
    pub gpu_start: Option<Result<HttpReply, String>>,
    pub gpu_read: Option<Result<HttpReply, String>>,
    pub gpu_left: Option<Vec<ContainerInfo>>,
}

crate::scenario::judging::observed!(Observations);

pub fn run_steps(ctx: &mut RunContext) -> Observations {
    ctx.observe(Observations::default(), steps)
}

fn steps(ctx: &mut RunContext, obs: &mut Observations) -> anyhow::Result<()> {
    let mib = ALLOC_MIB.to_string();
    let about = format!("writes {ALLOC_MIB} MiB while loading");
    ctx.start_daemon_on_sim(&[("AIMA_SIM_ALLOC_MIB", &mib)], Some(&about))?;
    let model = create_model(ctx, "memory-model")?;

    let tight = create_service_with(
        ctx,
        &model,
        ctx.port,
        &["--memory", TIGHT, "--gpus", "none"],
    )?;
    obs.tight_start = Some(api_start(ctx, "start past the memory limit", &tight));
    obs.tight_read = Some(api_get(ctx, "read back", &tight));
    obs.tight_left = Some(
        ctx.docker
            .list_with_label(&format!("aima.service={tight}"))?,
    );

    let roomy = create_service_with(
        ctx,
        &model,
        free_port()?,
        &["--memory", ROOMY, "--gpus", "none"],
    )?;
    obs.roomy_start = Some(api_start(ctx, "start within the memory limit", &roomy));
    obs.roomy_read = Some(api_get(ctx, "read back", &roomy));
    let container = obs
        .roomy_read
        .as_ref()
        .and_then(|r| r.as_ref().ok())
        .and_then(HttpReply::json)
        .and_then(|v| v["container_id"].as_str().map(str::to_owned));
    obs.roomy_host = Some(match container {
        Some(id) => ctx.docker.host_config(&id).map_err(|e| format!("{e:#}")),
        None => Err("no container is recorded for the running service".to_owned()),
    });
    let stop = format!("/api/v2/services/{roomy}/stop");
    let _ = ctx.http("stop", ctx.api("POST", &stop).json("{}"));

    obs.gpu_path = ctx.docker.gpu_path()?;
    let gpu = create_service_with(ctx, &model, free_port()?, &["--gpus", GPU])?;
    obs.gpu_start = Some(api_start(ctx, "start needing a GPU", &gpu));
    obs.gpu_read = Some(api_get(ctx, "read back", &gpu));
    obs.gpu_left = Some(ctx.docker.list_with_label(&format!("aima.service={gpu}"))?);
    Ok(())
}

fn api_start(ctx: &mut RunContext, step: &str, service: &str) -> Result<HttpReply, String> {
    let body = format!(r#"{{"wait": true, "timeout": {START_TIMEOUT}}}"#);
    let request = ctx
        .api("POST", &format!("/api/v2/services/{service}/start"))
        .json(body)
        .timeout(Duration::from_secs(START_TIMEOUT + 30));
    ctx.http(step, request).map_err(|e| format!("{e:#}"))
}

fn api_get(ctx: &mut RunContext, step: &str, service: &str) -> Result<HttpReply, String> {
    let request = ctx.api("GET", &format!("/api/v2/services/{service}"));
    ctx.http(step, request).map_err(|e| format!("{e:#}"))
}
