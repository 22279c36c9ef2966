//! `POST /api/v2/services/{id}/chat`: one chat with the running engine, as `inference chat`
//! does it: answered whole (JSON), or with `stream` as the engine's pieces arrive.

use std::sync::Mutex;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use tokio::sync::oneshot;

use super::ApiState;
use super::body::JsonBody;
use super::error::{ApiResult, ErrorBodyDoc};
use super::services::Id;
use super::streamed::{self, Pieces};
use crate::domain::Actor;
use crate::error::{Error, Kind, Result};
use crate::lifecycle::Deps;
use crate::ops::{self, ChatAnswer, ChatRequest, access};
use crate::store::StoreHandle;

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
    /// Answer with the content's pieces as the engine sends them (a chunked text/plain body)
    /// instead of the whole answer as JSON.
    #[serde(default)]
    stream: bool,
}

#[utoipa::path(post, path = "/api/v2/services/{id}/chat", operation_id = "chatService",
    summary = "Send one chat message to the running engine; answer with its whole reply, or stream its pieces.",
    description = "With `stream: true`, the 200 answer is a chunked text/plain body of the reply's content, piece by piece as the engine generates it (what `inference chat --stream` prints). A failure before the first piece is an error answer as usual; one after it ends the body with one last line: the byte 0x1E (record separator), the error as error answers carry it (`{\"error\": {code, message, causes, help}}`) and a newline. The engine's text never carries 0x1E: the daemon drops it.",
    params(Id), request_body = ChatBody,
    responses(
        (status = 200, description = "The engine's answer (JSON), or with stream its content as it comes (text/plain)",
            content((ChatAnswer = "application/json"), (String = "text/plain"))),
        (status = 400, description = "Invalid body, or an empty message", body = ErrorBodyDoc),
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
) -> ApiResult<Response> {
    let store = state.stores.handle_as(&actor).await?;
    let logs = state.deps.config.access.logs;
    access::check_logs(&store, &actor, &id, logs, "chat with").await?;
    let req = ChatRequest {
        service: id,
        message: body.message,
        max_tokens: body.max_tokens,
        stream: body.stream,
    };
    if !req.stream {
        return Ok(Json(ops::chat(&state.deps, &store, req, &|_| {}).await?).into_response());
    }
    let (pieces, rx) = streamed::channel();
    let (head, first) = oneshot::channel();
    let (deps, closing) = (state.deps.clone(), state.closing.clone());
    state.tasks.spawn(async move {
        tokio::select! {
            () = stream_chat(&deps, &store, req, &pieces, head) => {}
            () = pieces.gone() => {}
            () = closing.cancelled() => pieces.fail(&daemon_stopped()),
        }
    });
    // The status waits for the first piece: a chat that fails before any is an error answer.
    match first.await {
        Ok(Ok(())) => Ok(streamed::answer(rx)),
        Ok(Err(e)) => Err(e.into()),
        // The task ended before the first piece without saying why: the daemon is stopping.
        Err(_) => Err(daemon_stopped().into()),
    }
}

/// Runs the chat, sending its pieces; `head` learns whether the answer may begin (the first
/// piece came, or the chat ended without any) or is an error.
async fn stream_chat(
    deps: &Deps,
    store: &StoreHandle,
    req: ChatRequest,
    pieces: &Pieces,
    head: oneshot::Sender<Result<()>>,
) {
    let head = Mutex::new(Some(head));
    // Gives `outcome` as the answer's head unless one was given; else hands it back.
    let begin = |outcome: Result<()>| -> Result<()> {
        match head.lock().unwrap_or_else(|e| e.into_inner()).take() {
            Some(tx) => {
                let _ = tx.send(outcome);
                Ok(())
            }
            None => outcome,
        }
    };
    let on_delta = |piece: &str| {
        let _ = begin(Ok(()));
        pieces.send(piece);
    };
    let result = ops::chat(deps, store, req, &on_delta).await.map(|_| ());
    // Before the first piece the outcome is the answer itself; after it, only a failure line.
    if let Err(e) = begin(result) {
        pieces.fail(&e);
    }
}

fn daemon_stopped() -> Error {
    Error::new(Kind::Interrupted, "the daemon stopped during the chat")
        .with_help("send the message again once the daemon is back")
}
