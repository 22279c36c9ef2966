//! `serve`: the engine lifecycle (simulated loading, crashes, signals) and the
//! HTTP routes of a vLLM-style OpenAI-compatible server (or of Ollama's, see `ollama`).

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::Instant;
use tracing::{error, info};

use crate::args::{Crash, ServeArgs};
use crate::{chat, ollama};

/// Upper bound on graceful shutdown, so a lingering keep-alive client cannot
/// make `docker stop` fall back to SIGKILL.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

struct Engine {
    model: String,
    ready_at: Instant,
    /// From then on no request is answered (`--hang-after`).
    hang_at: Option<Instant>,
    /// As vLLM: when `VLLM_API_KEY` is set, `/v1` routes require `Authorization: Bearer <key>`.
    api_key: Option<String>,
}

impl Engine {
    fn is_loading(&self) -> bool {
        Instant::now() < self.ready_at
    }
}

pub async fn run(args: ServeArgs) -> Result<(), Box<dyn Error + Send + Sync>> {
    // Install handlers before anything else: as PID 1 in a container, SIGTERM
    // is ignored unless explicitly handled, and `docker stop` would hang.
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;

    let (addr, app) = match (args.ollama.is_some(), &args.model, args.port) {
        (true, _, _) => (ollama::address(), ollama::router(ollama::store())),
        (false, Some(model), Some(port)) => {
            let addr = format!("{}:{port}", args.host);
            info!(target: "sim", "Starting engine for model {model} on {addr}");
            let load_time = Duration::from_secs(args.load_secs);
            let ready_at = Instant::now() + load_time;
            let after = |secs: u64| ready_at + Duration::from_secs(secs);
            let engine = Arc::new(Engine {
                model: model.clone(),
                ready_at,
                hang_at: args.hang_after.map(after),
                api_key: std::env::var("VLLM_API_KEY").ok().filter(|k| !k.is_empty()),
            });
            info!(target: "sim", "Loading model weights ({}s simulated)", args.load_secs);
            tokio::spawn(async move {
                tokio::time::sleep(load_time).await;
                info!(target: "sim", "Application startup complete.");
            });
            if let Some(at) = args.crash_after.map(after) {
                let code = args.crash_exit_code;
                tokio::spawn(async move {
                    tokio::time::sleep_until(at).await;
                    error!(target: "sim", "Engine died while serving (simulated, exit code {code})");
                    std::process::exit(code);
                });
            }
            (addr, router(engine))
        }
        _ => return Err("--model and --port are required (clap enforces it)".into()),
    };

    if let Some(crash) = args.crash {
        // A short pause makes the failure look like it happened during init.
        tokio::time::sleep(Duration::from_millis(200)).await;
        match crash {
            Crash::Error => error!(target: "sim",
                "RuntimeError: Engine core initialization failed (simulated crash)"),
            Crash::Oom => error!(target: "sim",
                "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (simulated)"),
        }
        std::process::exit(1);
    }

    if let Some(mib) = args.alloc_mib {
        info!(target: "sim", "Allocating {mib} MiB for model weights");
        let held = crate::alloc::touch(mib);
        info!(target: "sim", "Allocated and touched {} MiB", held.len() >> 20);
        // Kept for the process's life, as loaded weights are.
        std::mem::forget(held);
    }

    let listener = TcpListener::bind(&addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async {
        let _ = stop_rx.await;
    });
    let mut server = tokio::spawn(server.into_future());

    let signal_name = loop {
        tokio::select! {
            result = &mut server => return Ok(result??),
            _ = sigterm.recv() => {
                if !args.ignore_sigterm {
                    break "SIGTERM";
                }
                info!(target: "sim", "Received SIGTERM, ignoring it");
            }
            _ = sigint.recv() => break "SIGINT",
        }
    };
    info!(target: "sim", "Received {signal_name}, shutting down");
    let _ = stop_tx.send(());
    if tokio::time::timeout(SHUTDOWN_GRACE, server).await.is_err() {
        tracing::warn!(target: "sim", "Open connections did not close in time; exiting anyway");
    }
    Ok(())
}

fn router(engine: Arc<Engine>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(chat_completions))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(engine.clone(), hang))
        .with_state(engine)
}

/// Once the engine hangs (`--hang-after`), a request is read and never answered.
async fn hang(
    State(engine): State<Arc<Engine>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if engine.hang_at.is_some_and(|at| Instant::now() >= at) {
        return std::future::pending().await;
    }
    next.run(request).await
}

async fn health(State(engine): State<Arc<Engine>>) -> Response {
    if engine.is_loading() {
        let body = json!({"status": "loading", "model": engine.model});
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    } else {
        Json(json!({"status": "ok"})).into_response()
    }
}

/// Refuses a `/v1` request without the configured key, as vLLM does.
fn unauthorized(engine: &Engine, headers: &HeaderMap) -> Option<Response> {
    let key = engine.api_key.as_deref()?;
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    (presented != Some(key)).then(|| api_error(StatusCode::UNAUTHORIZED, "Unauthorized"))
}

async fn models(State(engine): State<Arc<Engine>>, headers: HeaderMap) -> Response {
    if let Some(refused) = unauthorized(&engine, &headers) {
        return refused;
    }
    Json(json!({
        "object": "list",
        "data": [{"id": engine.model, "object": "model", "owned_by": "aima-engine-sim"}],
    }))
    .into_response()
}

async fn chat_completions(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = unauthorized(&engine, &headers) {
        return refused;
    }
    if engine.is_loading() {
        return api_error(StatusCode::SERVICE_UNAVAILABLE, "model is still loading");
    }
    chat_answer(&engine.model, &body)
}

/// A chat's answer as the engine sends it: JSON, or an event stream when the request asked.
pub(crate) fn chat_answer(model: &str, body: &[u8]) -> Response {
    match chat::answer(model, body) {
        Ok(chat::Answer::Whole(completion)) => Json(completion).into_response(),
        Ok(chat::Answer::Streamed(events)) => {
            ([(CONTENT_TYPE, "text/event-stream")], events).into_response()
        }
        Err(chat::BadRequest(message)) => api_error(StatusCode::BAD_REQUEST, &message),
    }
}

async fn not_found() -> Response {
    api_error(StatusCode::NOT_FOUND, "not found")
}

pub(crate) fn api_error(status: StatusCode, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": "invalid_request_error", "code": status.as_u16()}});
    (status, Json(body)).into_response()
}
