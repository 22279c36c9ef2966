//! Service routes beyond create/start/stop: the engine's logs (whole or followed), a restart,
//! and one chat with the engine, each as its CLI verb does it.

use std::convert::Infallible;
use std::time::Duration;

use axum::{Extension, Json};
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::ApiState;
use super::body::{JsonBody, OptionalJsonBody, StrictQuery};
use super::error::{ApiResult, ErrorBodyDoc};
use super::service_update::ServiceDetail;
use super::services::{Id, start_timeout};
use crate::domain::{Actor, PullPolicy};
use crate::error::{Error, Result};
use crate::lifecycle::{StartOptions, StopMode};
use crate::ops::{self, ChatAnswer, access, ChatRequest, LogLines, LogsRequest};

/// `?tail=N&follow=true&attempt=K` on the logs route, as `service logs` takes them.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct LogsQuery {
    /// Only the last N lines.
    #[serde(default)]
    tail: Option<usize>,
    /// Stream the lines as the engine writes them, until its container ends or the client
    /// leaves (plain text); without it, the lines so far as one JSON document.
    #[serde(default)]
    follow: bool,
    /// Start attempt K instead of the newest.
    #[serde(default)]
    #[param(minimum = 1)]
    attempt: Option<u32>,
}

/// Without `follow`, the answer is `service logs -o json`'s document. With it, a chunked
/// `text/plain` body, one engine line per line, that ends when the container does.
#[utoipa::path(get, path = "/api/v2/services/{id}/logs", operation_id = "serviceLogs",
    summary = "The engine's output: from its container while one exists, else the lines kept from a failed attempt.",
    params(Id, LogsQuery),
    responses(
        (status = 200, description = "The lines (JSON without follow; plain text lines, streamed, with follow=true)",
            content((LogLines = "application/json"), (String = "text/plain"))),
        (status = 400, description = "Bad query", body = ErrorBodyDoc),
        (status = 403, description = "Another user's service ([access] logs = \"owner\")", body = ErrorBodyDoc),
        (status = 404, description = "No such service, or no logs", body = ErrorBodyDoc),
        (status = 503, description = "Docker unavailable", body = ErrorBodyDoc),
    ))]
pub(crate) async fn logs(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    StrictQuery(q): StrictQuery<LogsQuery>,
) -> ApiResult<Response> {
    let store = state.stores.handle_as(&actor).await?;
    access::check_logs(&store, &actor, &id, state.deps.config.access.logs,
        "read the logs of").await?;
    let req = LogsRequest {
        tail: q.tail,
        follow: q.follow,
        attempt: q.attempt,
    };
    if !q.follow {
        let mut lines = Vec::new();
        let mut sink = |line: String| lines.push(line);
        let source = ops::service_logs(&state.deps, &store, &id, req, &mut sink).await?;
        return Ok(Json(LogLines::new(&id, source, lines)).into_response());
    }
    // A missing service is a 404, not an empty stream.
    ops::service_id(&store, &id).await?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
    let deps = state.deps.clone();
    let closing = state.closing.clone();
    state.tasks.spawn(async move {
        let left = tx.clone();
        let mut sink = move |line: String| {
            let _ = tx.send(Bytes::from(line + "\n"));
        };
        tokio::select! {
            result = ops::service_logs(&deps, &store, &id, req, &mut sink) => {
                if let Err(e) = result {
                    let _ = left.send(Bytes::from(format!("error: {}\n", e.message)));
                }
            }
            () = left.closed() => {}
            () = closing.cancelled() => {}
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, Infallible>(chunk), rx))
    });
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        Body::from_stream(stream),
    )
        .into_response())
}

/// The body of `POST /services/{id}/restart`: a stop's options, then a start's.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RestartRequest {
    /// Kill the engine instead of stopping it gracefully.
    #[serde(default)]
    force: bool,
    /// Seconds between SIGTERM and SIGKILL (default: the engine's `stop_secs`).
    #[serde(default)]
    time: Option<u32>,
    /// Answer once the engine is healthy (200) rather than once its container runs (202).
    #[serde(default)]
    wait: bool,
    /// Seconds the start may take (default 300, at most 86400).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 86_400)]
    timeout: Option<u64>,
    /// When to pull the engine image; the engine's setting when absent.
    #[serde(default)]
    pull: Option<PullPolicy>,
    /// The Swarm node to run on (Swarm runtime only).
    #[serde(default)]
    node: Option<String>,
}

/// A stop, then a start, as one tracked task as the start route runs it.
#[utoipa::path(post, path = "/api/v2/services/{id}/restart", operation_id = "restartService",
    summary = "Stop the service and start it again (picking up changed settings).", params(Id),
    request_body(content = Option<RestartRequest>, description = "Optional; absent: a graceful stop and a detached start"),
    responses(
        (status = 200, description = "Restarted and healthy (wait was true)", body = ServiceDetail),
        (status = 202, description = "Container started, health not yet known", body = ServiceDetail),
        (status = 400, description = "Invalid body", body = ErrorBodyDoc),
        (status = 403, description = "Another user's service, or past the owner's quota", body = ErrorBodyDoc),
        (status = 404, description = "No such service", body = ErrorBodyDoc),
        (status = 409, description = "Busy, or its port or GPU is in use", body = ErrorBodyDoc),
        (status = 502, description = "The engine failed to start", body = ErrorBodyDoc),
        (status = 503, description = "Docker unavailable, or the daemon is shutting down", body = ErrorBodyDoc),
        (status = 504, description = "Not healthy within the timeout", body = ErrorBodyDoc),
    ))]
pub(crate) async fn restart(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    OptionalJsonBody(req): OptionalJsonBody<RestartRequest>,
) -> ApiResult<(StatusCode, Json<ServiceDetail>)> {
    let timeout: Duration = start_timeout(req.timeout)?;
    let mode = StopMode::from_request(req.force, req.time)?;
    let store = state.stores.handle_as(&actor).await?;
    access::check_service(&store, &actor, &id, "restart").await?;
    let status = if req.wait {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let deps = state.deps_for(&actor);
    let abort = state.abort.clone();
    let task = state.tasks.spawn(async move {
        let opts = StartOptions {
            wait: req.wait,
            timeout,
            progress: None,
            pull: req.pull,
            node: req.node,
        };
        let interrupt = async move {
            abort.cancelled().await;
            "the daemon shutting down"
        };
        ops::restart_service(&deps, &store, &id, mode, opts, interrupt).await
    });
    let svc = task
        .await
        .map_err(|e| Error::internal("the restart task failed").caused_by(e))??;
    Ok((status, Json(ServiceDetail::of(&state, svc))))
}

/// The body of `POST /services/{id}/chat`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChatBody {
    /// The user message.
    message: String,
    /// Most tokens the answer may have (the engine's default when absent).
    #[serde(default)]
    #[schema(minimum = 1)]
    max_tokens: Option<u32>,
    /// Must be false or absent: the answer comes whole (a client that wants the pieces talks
    /// to the engine's own endpoint).
    #[serde(default)]
    stream: bool,
}

#[utoipa::path(post, path = "/api/v2/services/{id}/chat", operation_id = "chatService",
    summary = "Send one chat message to the running engine and answer with its whole reply.",
    params(Id), request_body = ChatBody,
    responses(
        (status = 200, description = "The engine's answer", body = ChatAnswer),
        (status = 400, description = "Invalid body, an empty message, or stream asked for", body = ErrorBodyDoc),
        (status = 403, description = "Another user's service ([access] logs = \"owner\")", body = ErrorBodyDoc),
        (status = 404, description = "No such service", body = ErrorBodyDoc),
        (status = 409, description = "The service is not running", body = ErrorBodyDoc),
        (status = 502, description = "The engine failed to answer", body = ErrorBodyDoc),
        (status = 504, description = "The engine took too long", body = ErrorBodyDoc),
    ))]
pub(crate) async fn chat(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ChatBody>,
) -> ApiResult<Json<ChatAnswer>> {
    refuse_stream(body.stream)?;
    let store = state.stores.handle_as(&actor).await?;
    access::check_logs(&store, &actor, &id, state.deps.config.access.logs,
        "chat with").await?;
    let req = ChatRequest {
        service: id,
        message: body.message,
        max_tokens: body.max_tokens,
        stream: false,
    };
    Ok(Json(ops::chat(&state.deps, &store, req, &|_| {}).await?))
}

fn refuse_stream(stream: bool) -> Result<()> {
    if stream {
        return Err(Error::usage("the chat route answers whole: stream must be false")
            .with_help("`aima inference chat --stream` through a daemon prints the whole answer at once; for pieces as they come, send the request to the service's endpoint"));
    }
    Ok(())
}
