//! Scenario 15's steps: a daemon without a token, asked without one; a daemon with the run's
//! token, every route asked without it, with a wrong one and with it; `aima start` on
//! 0.0.0.0 without a token; finally every log of the run searched for the token.

use std::time::Duration;

use crate::exec::CommandRecord;
use crate::fixtures::http::{HttpReply, HttpRequest};
use crate::fixtures::port_check::free_port;
use crate::scenario::context::RunContext;

/// One request as sent three ways: without the token, with a wrong one, with the token.
#[derive(Debug, Clone)]
pub struct Guarded {
    pub request: String,
    pub expected: u16,
    pub without: Result<HttpReply, String>,
    pub wrong: Result<HttpReply, String>,
    pub with: Result<HttpReply, String>,
}

#[derive(Debug, Clone, Default)]
pub struct Observations {
    pub missing: Vec<String>,
    /// Requests without a token to the daemon that has none.
    pub open: Vec<(String, Result<HttpReply, String>)>,
    pub guarded: Vec<Guarded>,
    pub health_without: Option<Result<HttpReply, String>>,
    /// Models listed (with the token) before and after the refused creations.
    pub models_before: Option<usize>,
    pub models_after: Option<usize>,
    pub exposed: Option<CommandRecord>,
    /// Files of the run's logs that contain the token, and how many were searched.
    pub leaks: Vec<String>,
    pub searched: usize,
}

impl Observations {
    pub fn skip_reason(&self, step: &str) -> String {
        match self.missing.first() {
            Some(why) => format!("{step} did not run: {why}"),
            None => format!("{step} did not run"),
        }
    }
}

pub fn run_steps(ctx: &mut RunContext) -> Observations {
    let mut obs = Observations::default();
    if let Err(err) = steps(ctx, &mut obs) {
        ctx.say(&format!("setup problem: {err:#}"));
        obs.missing.push(format!("{err:#}"));
    }
    obs.searched = search_logs(ctx, &mut obs.leaks);
    obs
}

fn send(ctx: &mut RunContext, step: &str, request: HttpRequest) -> Result<HttpReply, String> {
    ctx.http(step, request).map_err(|e| format!("{e:#}"))
}

fn steps(ctx: &mut RunContext, obs: &mut Observations) -> anyhow::Result<()> {
    // 1. No token configured (the variable set empty), loopback.
    ctx.start_daemon(&[("AIMA_API_TOKEN", "")])?;
    for path in ["/api/v2/models", "/api/v2/services"] {
        let reply = send(ctx, "no token configured", HttpRequest::new("GET", path));
        obs.open.push((format!("GET {path}"), reply));
    }
    ctx.signal_daemon("TERM", Duration::from_secs(10));

    // 2. The run's token.
    ctx.start_daemon(&[])?;
    obs.health_without = Some(send(
        ctx,
        "health without token",
        HttpRequest::new("GET", "/api/v2/health"),
    ));
    obs.models_before = count_models(ctx);
    let model_body = r#"{"name":"auth-model","source":"ollama","repo":"tinyllama"}"#;
    let model = guarded(
        ctx,
        obs,
        "POST",
        "/api/v2/models",
        Some(model_body.to_owned()),
        201,
    );
    obs.models_after = count_models(ctx);
    let model = model.ok_or_else(|| anyhow::anyhow!("the model was not created with the token"))?;
    guarded(ctx, obs, "GET", "/api/v2/models", None, 200);
    guarded(
        ctx,
        obs,
        "GET",
        &format!("/api/v2/models/{model}"),
        None,
        200,
    );
    let service_body = format!(
        r#"{{"model_id":"{model}","engine_type":"vllm","port":{}}}"#,
        ctx.port
    );
    let service = guarded(
        ctx,
        obs,
        "POST",
        "/api/v2/services",
        Some(service_body),
        201,
    )
    .ok_or_else(|| anyhow::anyhow!("the service was not created with the token"))?;
    guarded(ctx, obs, "GET", "/api/v2/services", None, 200);
    let path = format!("/api/v2/services/{service}");
    guarded(ctx, obs, "GET", &path, None, 200);
    let start_body = r#"{"wait":true,"timeout":60}"#.to_owned();
    guarded(
        ctx,
        obs,
        "POST",
        &format!("{path}/start"),
        Some(start_body),
        200,
    );
    guarded(
        ctx,
        obs,
        "POST",
        &format!("{path}/stop"),
        Some("{}".into()),
        200,
    );
    guarded(ctx, obs, "DELETE", &path, None, 200);
    guarded(
        ctx,
        obs,
        "DELETE",
        &format!("/api/v2/models/{model}"),
        None,
        200,
    );
    ctx.signal_daemon("TERM", Duration::from_secs(10));

    // 3. Exposed without a token.
    let exposed = format!("0.0.0.0:{}", free_port()?);
    obs.exposed = Some(ctx.aima(
        "listen on 0.0.0.0 without a token",
        &["start", "--listen", &exposed],
        &[("AIMA_API_TOKEN", "")],
        Duration::from_secs(15),
    ));
    Ok(())
}

/// Sends the request without the token, with a wrong one, then with it; returns the `id` of
/// the authorised answer.
fn guarded(
    ctx: &mut RunContext,
    obs: &mut Observations,
    method: &str,
    path: &str,
    body: Option<String>,
    expected: u16,
) -> Option<String> {
    let make = |request: HttpRequest| match &body {
        Some(body) => request.json(body.clone()).timeout(Duration::from_secs(90)),
        None => request,
    };
    let without = send(ctx, "without token", make(HttpRequest::new(method, path)));
    let wrong = send(
        ctx,
        "wrong token",
        make(HttpRequest::new(method, path).bearer("not-the-token")),
    );
    let with = send(ctx, "with token", make(ctx.api(method, path)));
    let id = with
        .as_ref()
        .ok()
        .and_then(HttpReply::json)
        .and_then(|v| v["id"].as_str().map(str::to_owned));
    obs.guarded.push(Guarded {
        request: format!("{method} {path}"),
        expected,
        without,
        wrong,
        with,
    });
    id
}

fn count_models(ctx: &mut RunContext) -> Option<usize> {
    let reply = ctx
        .http("count models", ctx.api("GET", "/api/v2/models"))
        .ok()?;
    reply.json()?["items"].as_array().map(Vec::len)
}

/// Every file under the run's `logs/` that contains the token; returns how many were searched.
fn search_logs(ctx: &RunContext, leaks: &mut Vec<String>) -> usize {
    let Ok(entries) = std::fs::read_dir(ctx.run_dir.join("logs")) else {
        return 0;
    };
    let mut searched = 0;
    for entry in entries.filter_map(Result::ok) {
        let Ok(bytes) = std::fs::read(entry.path()) else {
            continue;
        };
        searched += 1;
        if String::from_utf8_lossy(&bytes).contains(&ctx.api_token) {
            leaks.push(format!("logs/{}", entry.file_name().to_string_lossy()));
        }
    }
    searched
}
