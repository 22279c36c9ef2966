//! `inference chat`: one OpenAI-compatible chat request to a running service's engine, answered
//! whole or streamed as it is generated.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};

use crate::domain::{EngineType, ModelRef, ServiceId, Status};
use crate::error::{Error, Kind, Result};
use crate::host::engine_api::{Lines, post_json};
use crate::lifecycle::{self, Deps, model_ref};
use crate::store::StoreHandle;

/// How long an engine may take to answer one chat.
const CHAT_TIMEOUT: Duration = Duration::from_secs(300);

/// What `inference chat` asks for.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    pub service: String,
    pub message: String,
    pub max_tokens: Option<u32>,
    pub stream: bool,
}

/// The engine's answer.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ChatAnswer {
    pub service: ServiceId,
    pub engine: EngineType,
    /// The model name sent in the request (what the engine serves).
    pub model: String,
    pub content: String,
    pub finish_reason: Option<String>,
    /// Token counts, as the engine reported them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub usage: Option<Value>,
    /// From sending the request to the end of the answer.
    pub latency_ms: u64,
}

/// Sends `req.message` to the service's engine; with `req.stream`, `on_delta` gets each piece of
/// the answer as the engine produces it.
pub async fn chat(
    deps: &Deps,
    store: &StoreHandle,
    req: ChatRequest,
    on_delta: &(dyn Fn(&str) + Send + Sync),
) -> Result<ChatAnswer> {
    if req.message.trim().is_empty() {
        return Err(Error::usage("the chat message is empty"));
    }
    let id = super::service_id(store, &req.service).await?;
    let svc = lifecycle::refresh(deps, store, &id).await?;
    if svc.status != Status::Running {
        return Err(Error::conflict(format!(
            "service {id} is {}, not running: nothing answers chats",
            svc.status.as_str()
        ))
        .with_help(format!("start it first: aima service start {id} --wait")));
    }
    let model = store.get_model(&svc.model_id).await?;
    let model_name =
        match model_ref::resolve(svc.engine_type, &model, &deps.config.model_roots)?.model {
            ModelRef::Mounted(name) | ModelRef::Repository(name) | ModelRef::Pulled(name) => name,
        };
    let spec = deps.config.engine(svc.engine_type);
    let mut body = json!({
        "model": model_name,
        "messages": [{"role": "user", "content": req.message}],
        "stream": req.stream,
    });
    if let Some(n) = req.max_tokens {
        body["max_tokens"] = json!(n);
    }
    let key = spec.api_key.as_ref().map(|k| k.expose().to_owned());
    let began = Instant::now();
    let mut raw = Vec::new();
    let mut lines = Lines::default();
    let mut streamed = Streamed::default();
    let status = post_json(
        svc.local_address(),
        "/v1/chat/completions",
        &body,
        key.as_deref(),
        CHAT_TIMEOUT,
        |data| {
            raw.extend_from_slice(data);
            if req.stream {
                for line in lines.push(data) {
                    if let Some(delta) = streamed.take(&line) {
                        on_delta(&delta);
                    }
                }
            }
        },
    )
    .await
    .map_err(|e| Error::from(e).within(format_args!("cannot chat with service {id}")))?;
    let latency_ms = began.elapsed().as_millis() as u64;
    let text = String::from_utf8_lossy(&raw);
    if status != 200 {
        return Err(refused(&id, status, &text));
    }
    let mut answer = ChatAnswer {
        service: id,
        engine: svc.engine_type,
        model: model_name,
        content: String::new(),
        finish_reason: None,
        usage: None,
        latency_ms,
    };
    if req.stream {
        answer.content = streamed.content;
        answer.finish_reason = streamed.finish_reason;
        answer.usage = streamed.usage;
    } else {
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            Error::new(
                Kind::Engine,
                format!(
                    "service {} answered something that is not a chat completion: {e}",
                    answer.service
                ),
            )
        })?;
        let choice = &value["choices"][0];
        answer.content = choice["message"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        answer.finish_reason = choice["finish_reason"].as_str().map(str::to_owned);
        answer.usage = value.get("usage").cloned();
    }
    Ok(answer)
}

/// The engine's own error message, when its answer carries one (OpenAI's `error.message`).
fn refused(id: &ServiceId, status: u16, body: &str) -> Error {
    let said = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v["error"]["message"]
                .as_str()
                .or(v["error"].as_str())
                .or(v["message"].as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| body.chars().take(300).collect());
    let help = match status {
        401 | 403 => {
            "the engine wants an API key: set api_key for this engine in config.toml or AIMA_<ENGINE>_API_KEY"
        }
        404 => "the engine does not serve this model or path: check the service's model",
        _ => "see the engine's message above and its container logs",
    };
    Error::new(
        Kind::Engine,
        format!("service {id} refused the chat (HTTP {status}): {said}"),
    )
    .with_help(help)
}

/// A streamed answer (server-sent events) put back together.
#[derive(Debug, Default)]
struct Streamed {
    content: String,
    finish_reason: Option<String>,
    usage: Option<Value>,
}

impl Streamed {
    /// Takes one `data: {...}` line; returns the piece of content it adds.
    fn take(&mut self, line: &str) -> Option<String> {
        let data = line.strip_prefix("data:")?.trim();
        let value: Value = serde_json::from_str(data).ok()?;
        if let Some(usage) = value.get("usage").filter(|u| !u.is_null()) {
            self.usage = Some(usage.clone());
        }
        let choice = &value["choices"][0];
        if let Some(reason) = choice["finish_reason"].as_str() {
            self.finish_reason = Some(reason.to_owned());
        }
        let delta = choice["delta"]["content"].as_str()?;
        self.content.push_str(delta);
        Some(delta.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streamed_answer_is_put_back_together() {
        let mut s = Streamed::default();
        let pieces: Vec<String> = [
            r#"data: {"choices":[{"delta":{"role":"assistant"}}]}"#,
            r#"data: {"choices":[{"delta":{"content":"Hel"}}]}"#,
            r#"data: {"choices":[{"delta":{"content":"lo"},"finish_reason":"length"}],"usage":{"completion_tokens":2}}"#,
            "data: [DONE]",
        ]
        .iter()
        .filter_map(|l| s.take(l))
        .collect();
        assert_eq!(pieces, ["Hel", "lo"]);
        assert_eq!(s.content, "Hello");
        assert_eq!(s.finish_reason.as_deref(), Some("length"));
        assert_eq!(s.usage.unwrap()["completion_tokens"], 2);
    }

    #[test]
    fn a_refusal_quotes_the_engine() {
        let id = ServiceId::generate();
        let e = refused(
            &id,
            400,
            r#"{"error":{"message":"max_tokens must be positive","code":400}}"#,
        );
        assert_eq!(e.code, Kind::Engine);
        assert!(
            e.message.contains("HTTP 400): max_tokens must be positive"),
            "{}",
            e.message
        );
        let e = refused(&id, 401, "Unauthorized");
        assert!(e.help.unwrap().contains("API key"));
    }
}
