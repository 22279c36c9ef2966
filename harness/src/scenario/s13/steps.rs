//! Scenario 13's steps: walk every route of the API once with valid requests (creating,
//! starting, stopping and deleting a service and a model), then send each kind of bad request,
//! then ten list calls at once.

use std::time::Duration;

use crate::fixtures::http::{HttpReply, HttpRequest};
use crate::scenario::context::RunContext;

/// A request, the status it should get, and what it got.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub request: String,
    pub expected: u16,
    pub reply: Result<HttpReply, String>,
}

#[derive(Debug, Clone, Default)]
pub struct Observations {
    pub missing: Vec<String>,
    pub routes: Vec<Exchange>,
    pub health: Option<Exchange>,
    pub invalid_json: Option<Exchange>,
    pub unknown_route: Option<Exchange>,
    pub wrong_method: Option<Exchange>,
    pub too_large: Option<Exchange>,
    pub concurrent: Vec<Result<HttpReply, String>>,
    /// `POST /api/v2/apply` of one file, then the same file again.
    pub applies: Vec<Exchange>,
    /// `aima export -o json`, and that export applied back with `?dry_run=true`.
    pub export: Option<crate::exec::CommandRecord>,
    pub applied_back: Option<Exchange>,
}

crate::scenario::judging::observed!(Observations);

/// The request body limit aima documents (64 KiB); the oversized body is a little more.
pub const BODY_LIMIT: usize = 64 * 1024;

pub fn run_steps(ctx: &mut RunContext) -> Observations {
    ctx.observe(Observations::default(), steps)
}

fn exchange(ctx: &mut RunContext, step: &str, request: HttpRequest, expected: u16) -> Exchange {
    let shown = request.describe();
    Exchange {
        request: shown,
        expected,
        reply: ctx.http(step, request).map_err(|e| format!("{e:#}")),
    }
}

fn id_of(exchange: &Exchange) -> anyhow::Result<String> {
    exchange
        .reply
        .as_ref()
        .ok()
        .and_then(HttpReply::json)
        .and_then(|v| v["id"].as_str().map(str::to_owned))
        .ok_or_else(|| anyhow::anyhow!("{} gave no id", exchange.request))
}

fn steps(ctx: &mut RunContext, obs: &mut Observations) -> anyhow::Result<()> {
    let health = HttpRequest::new("GET", "/api/v2/health");
    obs.health = Some(exchange(ctx, "health", health, 200));

    let create_model = ctx
        .api("POST", "/api/v2/models")
        .json(r#"{"name":"api-model","source":"ollama","repo":"tinyllama"}"#);
    let created = exchange(ctx, "route", create_model, 201);
    let model = id_of(&created);
    obs.routes.push(created);
    let model = model?;
    let list_models = ctx.api("GET", "/api/v2/models");
    obs.routes.push(exchange(ctx, "route", list_models, 200));
    let model_path = format!("/api/v2/models/{model}");
    let get_model = ctx.api("GET", &model_path);
    obs.routes.push(exchange(ctx, "route", get_model, 200));

    let body = format!(
        r#"{{"model_id":"{model}","engine_type":"vllm","port":{}}}"#,
        ctx.port
    );
    let create_service = ctx.api("POST", "/api/v2/services").json(body);
    let created = exchange(ctx, "route", create_service, 201);
    let service = id_of(&created);
    obs.routes.push(created);
    let service = service?;
    let list_services = ctx.api("GET", "/api/v2/services");
    obs.routes.push(exchange(ctx, "route", list_services, 200));
    let service_path = format!("/api/v2/services/{service}");
    let get_service = ctx.api("GET", &service_path);
    obs.routes.push(exchange(ctx, "route", get_service, 200));
    let start_path = format!("{service_path}/start");
    let start = ctx
        .api("POST", &start_path)
        .json(r#"{"wait":true,"timeout":60}"#)
        .timeout(Duration::from_secs(90));
    obs.routes.push(exchange(ctx, "route", start, 200));
    let stop_path = format!("{service_path}/stop");
    let stop = ctx.api("POST", &stop_path).json("{}");
    obs.routes.push(exchange(ctx, "route", stop, 200));
    let delete_service = ctx.api("DELETE", &service_path);
    obs.routes.push(exchange(ctx, "route", delete_service, 200));
    let delete_model = ctx.api("DELETE", &model_path);
    obs.routes.push(exchange(ctx, "route", delete_model, 200));

    let invalid = ctx
        .api("POST", "/api/v2/models")
        .json(r#"{"name": "x", "source": "#);
    obs.invalid_json = Some(exchange(ctx, "invalid JSON", invalid, 400));
    let unknown = ctx.api("GET", "/api/v2/no-such-route");
    obs.unknown_route = Some(exchange(ctx, "unknown route", unknown, 404));
    let wrong = ctx.api("DELETE", "/api/v2/models");
    obs.wrong_method = Some(exchange(ctx, "wrong method", wrong, 405));
    let padding = "x".repeat(BODY_LIMIT + 4096);
    let large = ctx.api("POST", "/api/v2/models").json(format!(
        r#"{{"name":"{padding}","source":"ollama","repo":"r"}}"#
    ));
    obs.too_large = Some(exchange(ctx, "oversized body", large, 413));

    let workers: Vec<_> = (0..10)
        .map(|_| {
            let request = ctx.api("GET", "/api/v2/services");
            let listen = ctx.listen;
            std::thread::spawn(move || request.send(listen).map_err(|e| e.to_string()))
        })
        .collect();
    for worker in workers {
        let reply = worker
            .join()
            .unwrap_or_else(|_| Err("the request thread panicked".into()));
        obs.concurrent.push(reply);
    }
    let summary: Vec<String> = obs
        .concurrent
        .iter()
        .map(|r| match r {
            Ok(reply) => format!("{} in {}ms", reply.status, reply.elapsed_ms),
            Err(err) => err.clone(),
        })
        .collect();
    ctx.event(
        crate::timeline::EventKind::Operation,
        format!(
            "10 concurrent GET /api/v2/services -> {}",
            summary.join("; ")
        ),
    );
    round_trip(ctx, obs);
    Ok(())
}

/// An apply file (JSON, the keys of docs/apply.md) applied twice through the API, then the
/// data dir exported with the CLI and applied back as a dry run.
fn round_trip(ctx: &mut RunContext, obs: &mut Observations) {
    let file = serde_json::json!({
        "models": {"round-model": {"source": "ollama", "repo": "tinyllama"}},
        "services": {"round-svc": {
            "model": "round-model", "engine": "vllm", "port": ctx.port,
            "args": ["--load-secs", "0"], "env": {"LEVEL": "INFO"}, "state": "stopped",
        }},
    })
    .to_string();
    for step in ["apply", "apply again"] {
        let request = ctx.api("POST", "/api/v2/apply").json(file.clone());
        obs.applies.push(exchange(ctx, step, request, 200));
    }
    let export = ctx.aima(
        "export",
        &["export", "--output", "json"],
        &[],
        crate::scenario::aima_ops::QUICK,
    );
    if export.succeeded() {
        let request = ctx
            .api("POST", "/api/v2/apply?dry_run=true")
            .json(export.stdout.trim().to_owned());
        obs.applied_back = Some(exchange(ctx, "export applied back", request, 200));
    }
    obs.export = Some(export);
}
