//! Deterministic OpenAI-style chat completions: request parsing and the
//! simulated answer, whole or (with `"stream": true`) as server-sent event
//! chunks, one word each, kept free of HTTP so it is easy to unit test.

use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[derive(Debug, Deserialize)]
pub struct ChatRequest {
    pub messages: Vec<Message>,
    #[serde(default)]
    pub stream: bool,
}

#[derive(Debug, Deserialize)]
pub struct Message {
    pub role: String,
    /// A plain string or an array of content parts (`{"type":"text","text":...}`).
    #[serde(default)]
    pub content: Value,
}

/// Why a request cannot be answered; rendered as a 400 by the server.
#[derive(Debug, PartialEq, Eq)]
pub struct BadRequest(pub String);

/// What the engine answers: a whole completion, or the `text/event-stream`
/// body of a streamed one.
#[derive(Debug, PartialEq)]
pub enum Answer {
    Whole(Value),
    Streamed(String),
}

/// Parses the raw body ourselves so malformed JSON yields an OpenAI-style
/// error body instead of axum's plain-text rejection.
pub fn answer(model: &str, body: &[u8]) -> Result<Answer, BadRequest> {
    let request: ChatRequest = serde_json::from_slice(body)
        .map_err(|e| BadRequest(format!("invalid chat completion request: {e}")))?;
    let completion = complete(model, body)?;
    Ok(if request.stream {
        Answer::Streamed(chunks(&completion))
    } else {
        Answer::Whole(completion)
    })
}

/// The completion as OpenAI streams one: a role chunk, a chunk per word of the
/// content, a chunk with the finish reason and usage, then `[DONE]`.
fn chunks(completion: &Value) -> String {
    let content = completion["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default();
    let chunk = |delta: Value, finish: Value, usage: Value| {
        let mut c = json!({
            "id": completion["id"],
            "object": "chat.completion.chunk",
            "created": 0,
            "model": completion["model"],
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        if !usage.is_null() {
            c["usage"] = usage;
        }
        format!("data: {c}\n\n")
    };
    let mut body = chunk(json!({"role": "assistant"}), Value::Null, Value::Null);
    for (i, word) in content.split(' ').enumerate() {
        let piece = if i == 0 {
            word.to_owned()
        } else {
            format!(" {word}")
        };
        body.push_str(&chunk(json!({"content": piece}), Value::Null, Value::Null));
    }
    body.push_str(&chunk(
        json!({}),
        json!("stop"),
        completion["usage"].clone(),
    ));
    body.push_str("data: [DONE]\n\n");
    body
}

/// The whole completion of a request (its `stream` flag aside).
fn complete(model: &str, body: &[u8]) -> Result<Value, BadRequest> {
    let request: ChatRequest = serde_json::from_slice(body)
        .map_err(|e| BadRequest(format!("invalid chat completion request: {e}")))?;
    let prompt = request
        .messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map(|m| text_of(&m.content))
        .ok_or_else(|| BadRequest("messages must contain a user message".into()))?;

    let answer = format!("echo: {prompt}");
    let prompt_tokens: usize = request
        .messages
        .iter()
        .map(|m| word_count(&text_of(&m.content)))
        .sum();
    let completion_tokens = word_count(&answer);
    // Everything, including id and timestamp, is derived from the input so
    // that tests can compare whole responses.
    let digest = Sha256::digest(body);
    let id: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Ok(json!({
        "id": format!("chatcmpl-sim-{id}"),
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": answer},
            "finish_reason": "stop",
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }))
}

fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// Crude stand-in for a tokenizer; good enough for plausible `usage` numbers.
fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(v: &Value) -> &str {
        v["choices"][0]["message"]["content"].as_str().unwrap()
    }

    #[test]
    fn echoes_last_user_message_deterministically() {
        let body = br#"{"model":"x","messages":[
            {"role":"system","content":"be nice"},
            {"role":"user","content":"first"},
            {"role":"assistant","content":"echo: first"},
            {"role":"user","content":"hello there"}]}"#;
        let a = complete("tinyllama", body).unwrap();
        assert_eq!(content(&a), "echo: hello there");
        assert_eq!(a["model"], "tinyllama");
        assert_eq!(a["usage"]["completion_tokens"], 3);
        assert_eq!(a, complete("tinyllama", body).unwrap());
    }

    #[test]
    fn accepts_content_parts() {
        let body = br#"{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}"#;
        assert_eq!(content(&complete("m", body).unwrap()), "echo: a b");
    }

    #[test]
    fn rejects_bad_requests() {
        assert!(complete("m", b"{not json").is_err());
        assert!(complete("m", br#"{"messages":[]}"#).is_err());
    }

    #[test]
    fn a_streamed_answer_sends_the_content_word_by_word() {
        let body = br#"{"messages":[{"role":"user","content":"hi there"}],"stream":true}"#;
        let Ok(Answer::Streamed(events)) = answer("m", body) else {
            panic!("not streamed");
        };
        let chunks: Vec<Value> = events
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter(|d| *d != "[DONE]")
            .map(|d| serde_json::from_str(d).unwrap())
            .collect();
        let text: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(text, "echo: hi there");
        assert_eq!(
            chunks.last().unwrap()["choices"][0]["finish_reason"],
            "stop"
        );
        assert!(events.ends_with("data: [DONE]\n\n"), "{events}");
    }
}
