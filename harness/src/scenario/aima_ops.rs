//! The aima commands and API calls scenarios share: register a model, create, start, stop and
//! read services, each recorded as evidence through the run context.

use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::exec::CommandRecord;
use crate::fixtures::http::HttpRequest;
use crate::timeline::EventKind;

use super::aima_json::{last_id, status_in_list};
use super::context::RunContext;

/// Deadline of commands that should answer at once.
pub const QUICK: Duration = Duration::from_secs(30);

/// A status read back through `service list --output json`.
#[derive(Debug, Clone)]
pub struct StatusRead {
    pub service: String,
    pub list: CommandRecord,
    pub status: Option<String>,
}

impl StatusRead {
    pub fn line(&self) -> String {
        format!(
            "{} status = {} (service list --output json)",
            self.service,
            self.status.as_deref().unwrap_or("<not found>")
        )
    }
}

/// Registers a model (source ollama, repository tinyllama) and returns its id.
pub fn create_model(ctx: &mut RunContext, name: &str) -> anyhow::Result<String> {
    let args = [
        "model",
        "create",
        "--name",
        name,
        "--source",
        "ollama",
        "--repo",
        "tinyllama",
    ];
    let create = ctx.aima("setup: model create", &args, &[], QUICK);
    if !create.succeeded() {
        bail!(
            "model create failed ({}): {}",
            create.outcome(),
            create.stderr.trim()
        );
    }
    let list = ctx.aima(
        "setup: model list",
        &["model", "list", "--output", "json"],
        &[],
        QUICK,
    );
    last_id(&list.stdout).context("model list --output json has no items[-1].id")
}

/// `service create --model-id MODEL --engine-type ENGINE`: how every service create begins.
fn service_create<'a>(model: &'a str, engine: &'a str) -> Vec<&'a str> {
    vec![
        "service",
        "create",
        "--model-id",
        model,
        "--engine-type",
        engine,
    ]
}

/// Creates a vllm service of `model` (on `port` when given) and returns its id.
pub fn create_service(
    ctx: &mut RunContext,
    step: &str,
    model: &str,
    port: Option<u16>,
) -> anyhow::Result<String> {
    let port = port.map(|p| p.to_string());
    let mut args = service_create(model, "vllm");
    if let Some(port) = &port {
        args.extend(["--port", port]);
    }
    let create = ctx.aima(step, &args, &[], QUICK);
    if !create.succeeded() {
        bail!(
            "service create failed ({}): {}",
            create.outcome(),
            create.stderr.trim()
        );
    }
    let list = ctx.aima(step, &["service", "list", "--output", "json"], &[], QUICK);
    last_id(&list.stdout).context("service list --output json has no items[-1].id")
}

/// The engine a scenario's services run, and the environment the aima commands about them get
/// (e.g. the engine's image).
#[derive(Debug, Clone, Copy)]
pub struct Engine<'a> {
    /// `--engine-type` (`vllm`, `llamacpp`).
    pub kind: &'a str,
    pub env: &'a [(&'a str, &'a str)],
}

/// vLLM on the run's environment (the simulator image, unless the scenario's daemon says else).
pub const VLLM: Engine<'static> = Engine {
    kind: "vllm",
    env: &[],
};

/// Runs a `create` command that prints the new record (`--output json`) with the extra
/// environment `env`; returns the record's id and the command. `what` names the command in the
/// error when it failed or printed no id.
pub fn create_json(
    ctx: &mut RunContext,
    step: &str,
    args: &[&str],
    env: &[(&str, &str)],
    what: &str,
) -> anyhow::Result<(String, CommandRecord)> {
    let record = ctx.aima(step, args, env, QUICK);
    let id = serde_json::from_str::<Value>(record.stdout.trim())
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_owned));
    match id {
        Some(id) if record.succeeded() => Ok((id, record)),
        _ => bail!(
            "{what} failed ({}): {}",
            record.outcome(),
            record.stderr.trim()
        ),
    }
}

/// `service create` of an `engine` service of `model` on `port` with `extra` flags
/// (`--memory 64m`), read from its JSON; returns its id and the command.
pub fn create_service_on(
    ctx: &mut RunContext,
    engine: Engine<'_>,
    step: &str,
    model: &str,
    port: u16,
    extra: &[&str],
) -> anyhow::Result<(String, CommandRecord)> {
    let port = port.to_string();
    let mut args = service_create(model, engine.kind);
    args.extend(["--port", &port, "--output", "json"]);
    args.extend_from_slice(extra);
    create_json(ctx, step, &args, engine.env, "service create")
}

/// `service create` of a vLLM service on `port` with `extra` flags (`--memory 64m`), read from
/// its JSON; returns its id.
pub fn create_service_with(
    ctx: &mut RunContext,
    model: &str,
    port: u16,
    extra: &[&str],
) -> anyhow::Result<String> {
    let step = format!("setup: service create {}", extra.join(" "));
    create_service_on(ctx, VLLM, &step, model, port, extra).map(|(id, _)| id)
}

/// One call to the daemon's API with the run's token, recorded under `step`: the reply's JSON,
/// or an error when nothing answered within 90 s, the status was 300 or more, or the body is no
/// JSON.
pub fn api_call(
    ctx: &mut RunContext,
    step: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> anyhow::Result<Value> {
    let mut request = ctx.api(method, path).timeout(Duration::from_secs(90));
    if let Some(body) = body {
        request = request.json(body);
    }
    let reply = ctx.http(step, request)?;
    anyhow::ensure!(
        reply.status < 300,
        "{method} {path} answered {}",
        reply.summary()
    );
    reply
        .json()
        .ok_or_else(|| anyhow::anyhow!("{method} {path}: no JSON"))
}

/// The `id` of a created record (empty when it has none).
pub fn id_of(record: &Value) -> String {
    record["id"].as_str().unwrap_or_default().to_owned()
}

/// `POST /api/v2/models` of a model named `name` (source ollama, repository tinyllama); returns
/// its id.
pub fn api_create_model(ctx: &mut RunContext, step: &str, name: &str) -> anyhow::Result<String> {
    let body = format!(r#"{{"name":"{name}","source":"ollama","repo":"tinyllama"}}"#);
    Ok(id_of(&api_call(
        ctx,
        step,
        "POST",
        "/api/v2/models",
        Some(&body),
    )?))
}

/// `POST /api/v2/services` of a vLLM service of `model` on `port`; returns its id.
pub fn api_create_service(
    ctx: &mut RunContext,
    step: &str,
    model: &str,
    port: u16,
) -> anyhow::Result<String> {
    let body = format!(r#"{{"model_id":"{model}","engine_type":"vllm","port":{port}}}"#);
    Ok(id_of(&api_call(
        ctx,
        step,
        "POST",
        "/api/v2/services",
        Some(&body),
    )?))
}

/// Reads one service's status from `service list --output json`.
pub fn read_status(ctx: &mut RunContext, step: &str, service: &str) -> StatusRead {
    let list = ctx.aima(step, &["service", "list", "--output", "json"], &[], QUICK);
    let status = status_in_list(&list.stdout, service);
    ctx.event(
        EventKind::Observation,
        format!(
            "{service} status = {}",
            status.as_deref().unwrap_or("<not found>")
        ),
    );
    StatusRead {
        service: service.to_owned(),
        list,
        status,
    }
}

/// `service start ID --wait --timeout SECS`, with a deadline comfortably past the timeout.
pub fn start_wait(ctx: &mut RunContext, step: &str, service: &str, timeout: u64) -> CommandRecord {
    start_wait_on(ctx, VLLM, step, service, timeout)
}

/// [`start_wait`] of a service of `engine`, with the engine's environment.
pub fn start_wait_on(
    ctx: &mut RunContext,
    engine: Engine<'_>,
    step: &str,
    service: &str,
    timeout: u64,
) -> CommandRecord {
    let secs = timeout.to_string();
    ctx.aima(
        step,
        &["service", "start", service, "--wait", "--timeout", &secs],
        engine.env,
        Duration::from_secs(timeout + 30),
    )
}

/// `service stop ID`.
pub fn stop(ctx: &mut RunContext, step: &str, service: &str) -> CommandRecord {
    ctx.aima(step, &["service", "stop", service], &[], QUICK)
}

/// `service get ID --output json`, parsed.
pub fn get_service(ctx: &mut RunContext, step: &str, service: &str) -> (CommandRecord, Value) {
    let get = ctx.aima(
        step,
        &["service", "get", service, "--output", "json"],
        &[],
        QUICK,
    );
    let value = serde_json::from_str(get.stdout.trim()).unwrap_or(Value::Null);
    (get, value)
}

/// The ids of every service in the list, oldest first.
pub fn service_ids(list_stdout: &str) -> Vec<String> {
    serde_json::from_str::<Value>(list_stdout.trim())
        .ok()
        .and_then(|v| v["items"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|item| item["id"].as_str().map(str::to_owned))
        .collect()
}

/// The HTTP status of the engine's `GET /health` on a host port, or why nothing answered.
pub fn engine_health(port: u16) -> Result<u16, String> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    HttpRequest::new("GET", "/health")
        .timeout(Duration::from_secs(5))
        .send(addr)
        .map(|r| r.status)
        .map_err(|e| e.to_string())
}

/// The HTTP status of one chat completion on a host port (the engine serving a request).
pub fn engine_chat(port: u16) -> Result<u16, String> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    HttpRequest::new("POST", "/v1/chat/completions")
        .json(r#"{"messages":[{"role":"user","content":"ping"}]}"#)
        .timeout(Duration::from_secs(10))
        .send(addr)
        .map(|r| r.status)
        .map_err(|e| e.to_string())
}

/// `status`, or `nothing answered: why`, for evidence lines.
pub fn answer_text(answer: &Result<u16, String>) -> String {
    match answer {
        Ok(status) => status.to_string(),
        Err(err) => format!("nothing answered ({err})"),
    }
}

/// `service start ID --wait --timeout SECS` with `image` as the vLLM engine, as a process of its
/// own (an operator's other shell), recorded on the timeline; its stderr is piped, to be read
/// once it has ended.
pub fn start_in_background(
    ctx: &mut RunContext,
    service: &str,
    image: &str,
    timeout: u64,
) -> anyhow::Result<std::process::Child> {
    use std::process::{Command, Stdio};
    let secs = timeout.to_string();
    let child = Command::new(&ctx.bins.aima)
        .args(["service", "start", service, "--wait", "--timeout", &secs])
        .envs(ctx.base_env.iter().cloned())
        .env("AIMA_VLLM_IMAGE", image)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    ctx.event(
        EventKind::Operation,
        format!(
            "AIMA_VLLM_IMAGE={image} aima service start {service} --wait --timeout {secs} in the background (pid {})",
            child.id()
        ),
    );
    Ok(child)
}
