//! Service routes beyond create/start/stop: the engine's logs (whole or followed) and a
//! restart, each as its CLI verb does it (a chat is in [`super::chat`]).


use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use super::ApiState;
use super::body::{OptionalJsonBody, StrictQuery};
use super::error::{ApiResult, ErrorBodyDoc};
use super::service_update::ServiceDetail;
use super::services::{Id, Launch, StartRequest, launch};
use super::streamed;
use crate::domain::{Actor, PullPolicy};
use crate::error::{Error, Kind};
use crate::ops::{self, LogLines, LogsRequest, access};

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
/// `text/plain` body, one engine line per line, that ends when the container does, or with
/// the failure line of [`streamed`].
#[utoipa::path(get, path = "/api/v2/services/{id}/logs", operation_id = "serviceLogs",
    summary = "The engine's output: from its container while one exists, else the lines kept from a failed attempt.",
    description = "With `follow=true`, a chunked text/plain body, one engine line per line, that ends when the engine's container does. A follow that fails after the 200 (Docker fails, the daemon stops: code `interrupted`) ends with one last line: the byte 0x1E (record separator), the error as error answers carry it (`{\"error\": {code, message, causes, help}}`) and a newline. Engine output never carries 0x1E: the daemon drops it.",
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
    let (pieces, rx) = streamed::channel();
    let deps = state.deps.clone();
    let closing = state.closing.clone();
    state.tasks.spawn(async move {
        let lines = pieces.clone();
        let mut sink = move |line: String| lines.send(&(line + "\n"));
        tokio::select! {
            result = ops::service_logs(&deps, &store, &id, req, &mut sink) => {
                if let Err(e) = result {
                    pieces.fail(&e);
                }
            }
            () = pieces.gone() => {}
            () = closing.cancelled() => pieces.fail(&daemon_stopped(&id)),
        }
    });
    Ok(streamed::answer(rx))
}

/// Why a followed stream ended early: the daemon stops (exit 130, as a start it interrupts).
fn daemon_stopped(id: &str) -> Error {
    Error::new(
        Kind::Interrupted,
        format!("the daemon stopped while following the logs of {id}"),
    )
    .with_help(format!(
        "follow them again once the daemon is back: aima service logs {id} -f"
    ))
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
    description = "As a start: its steps (and pull progress) are sent to the event streams opened with `steps=true` while it runs.",
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
    let RestartRequest {
        force,
        time,
        wait,
        timeout,
        pull,
        node,
    } = req;
    let start = StartRequest {
        wait,
        timeout,
        pull,
        node,
    };
    launch(state, actor, id, start, Launch::Restart { force, time }).await
}
