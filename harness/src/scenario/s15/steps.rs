//! Scenario 15's steps: a daemon without a token, asked without one; a daemon with the run's
//! token, every route asked without it, with a wrong one and with it; `aima start` on
//! 0.0.0.0 without a token; the page's sign-out and a flood of unfinished sign-ins
//! ([`super::hostile`]); finally every log of the run searched for the token.

use std::time::Duration;

use crate::exec::CommandRecord;
use crate::fixtures::http::{HttpReply, HttpRequest};
use crate::fixtures::port_check::free_port;
use crate::scenario::context::RunContext;

use super::hostile::{self, LoginFlood, Revocation};

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
    /// No token configured: the generated token file's mode, and a request without a token
    /// and one with the generated token.
    pub generated_mode: Option<Result<u32, String>>,
    pub generated_without: Option<Result<HttpReply, String>>,
    pub generated_with: Option<Result<HttpReply, String>>,
    /// Requests without a token to the daemon that opted out of tokens.
    pub open: Vec<(String, Result<HttpReply, String>)>,
    pub guarded: Vec<Guarded>,
    pub health_without: Option<Result<HttpReply, String>>,
    /// Models listed (with the token) before and after the refused creations.
    pub models_before: Option<usize>,
    pub models_after: Option<usize>,
    pub exposed: Option<CommandRecord>,
    /// The page's sign-in, sign-out and a copy of the cookie (the daemon with the token).
    pub revocation: Option<Revocation>,
    /// Unfinished sign-ins filling the connection slots of a daemon.
    pub flood: Option<LoginFlood>,
    /// Files of the run's logs that contain the token, and how many were searched.
    pub leaks: Vec<String>,
    pub searched: usize,
}

crate::scenario::judging::observed!(Observations);

pub fn run_steps(ctx: &mut RunContext) -> Observations {
    let mut obs = ctx.observe(Observations::default(), steps);
    obs.searched = search_logs(ctx, &mut obs.leaks);
    obs
}

fn send(ctx: &mut RunContext, step: &str, request: HttpRequest) -> Result<HttpReply, String> {
    ctx.http(step, request).map_err(|e| format!("{e:#}"))
}

/// The environment of a daemon with no token configured (the variable set empty).
const NO_TOKEN: (&str, &str) = ("AIMA_API_TOKEN", "");
/// The operator's documented opt-out of tokens.
const OPT_OUT: (&str, &str) = ("AIMA_API_AUTH", "none");

fn steps(ctx: &mut RunContext, obs: &mut Observations) -> anyhow::Result<()> {
    // 1. No token configured: the daemon generates one into the data dir.
    ctx.start_daemon(&[NO_TOKEN])?;
    let file = ctx.data_dir.join(TOKEN_FILE);
    obs.generated_mode = Some(
        std::fs::metadata(&file)
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
            .map_err(|e| format!("{}: {e}", file.display())),
    );
    let request = HttpRequest::new("GET", "/api/v2/models");
    obs.generated_without = Some(send(ctx, "no token configured, none sent", request));
    let generated = std::fs::read_to_string(&file).unwrap_or_default();
    let request = HttpRequest::new("GET", "/api/v2/models").bearer(generated.trim());
    obs.generated_with = Some(send(ctx, "the generated token sent", request));
    ctx.signal_daemon("TERM", Duration::from_secs(10));

    // 2. The operator's explicit opt-out, loopback.
    ctx.start_daemon(&[NO_TOKEN, OPT_OUT])?;
    for path in ["/api/v2/models", "/api/v2/services"] {
        let reply = send(ctx, "opted out of tokens", HttpRequest::new("GET", path));
        obs.open.push((format!("GET {path}"), reply));
    }
    ctx.signal_daemon("TERM", Duration::from_secs(10));

    // 3. The run's token.
    ctx.start_daemon(&[])?;
    obs.health_without = Some(send(
        ctx,
        "health without token",
        HttpRequest::new("GET", "/api/v2/health"),
    ));
    obs.revocation = Some(hostile::revocation(ctx));
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

    // 4. Exposed without a token: opted out, on 0.0.0.0.
    let exposed = format!("0.0.0.0:{}", free_port()?);
    obs.exposed = Some(ctx.aima(
        "listen on 0.0.0.0 without a token",
        &["start", "--listen", &exposed],
        &[NO_TOKEN, OPT_OUT],
        Duration::from_secs(15),
    ));

    // 5. Unfinished sign-ins, as many as the daemon has connection slots.
    obs.flood = Some(hostile::login_flood(ctx)?);
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

/// The token file aima documents in its data dir.
pub const TOKEN_FILE: &str = "api-token";

/// Every file under the run's `logs/` that contains the run's token or the generated one;
/// returns how many were searched.
fn search_logs(ctx: &RunContext, leaks: &mut Vec<String>) -> usize {
    let generated = std::fs::read_to_string(ctx.data_dir.join(TOKEN_FILE)).unwrap_or_default();
    let tokens: Vec<&str> = [ctx.api_token.as_str(), generated.trim()]
        .into_iter()
        .filter(|t| t.len() >= 8)
        .collect();
    let Ok(entries) = std::fs::read_dir(ctx.run_dir.join("logs")) else {
        return 0;
    };
    let mut searched = 0;
    for entry in entries.filter_map(Result::ok) {
        let Ok(bytes) = std::fs::read(entry.path()) else {
            continue;
        };
        searched += 1;
        let text = String::from_utf8_lossy(&bytes);
        if tokens.iter().any(|t| text.contains(t)) {
            leaks.push(format!("logs/{}", entry.file_name().to_string_lossy()));
        }
    }
    searched
}
