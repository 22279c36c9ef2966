//! The Ollama flavour of `serve` (`aima-engine-sim serve serve`, as aima starts the ollama
//! image): the few routes of Ollama's API that aima and its tests use, over a model store on
//! disk, so a restart that mounts the same store finds what an earlier start pulled.
//!
//! - `GET /api/version`: the health check.
//! - `POST /api/show {"model"}`: 200 when the store has the model, else 404 with Ollama's error.
//! - `POST /api/pull {"model"}`: NDJSON progress, then the model is in the store. A name
//!   starting with `missing` fails the way Ollama fails for an unknown model.
//! - `GET /api/tags`: the store's models with the time each was pulled (`modified_at`).
//! - `POST /v1/chat/completions`: the OpenAI-compatible chat, for a model in the store.
//!
//! A "model" is a small JSON file under `$OLLAMA_MODELS/aima-sim/` (default
//! `/root/.ollama/models`); nothing is downloaded.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tracing::info;

use crate::server::{api_error, chat_answer};

/// Where Ollama keeps its models, as the official image does unless `OLLAMA_MODELS` says.
const DEFAULT_STORE: &str = "/root/.ollama/models";

/// `OLLAMA_HOST` (`0.0.0.0:11434` as aima sets it), else Ollama's own default.
pub fn address() -> String {
    std::env::var("OLLAMA_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "127.0.0.1:11434".to_owned())
}

pub fn store() -> PathBuf {
    let root = std::env::var("OLLAMA_MODELS")
        .ok()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| DEFAULT_STORE.to_owned());
    Path::new(&root).join("aima-sim")
}

pub fn router(store: PathBuf) -> Router {
    info!(target: "sim", "Ollama flavour, model store {}", store.display());
    Router::new()
        .route("/api/version", get(version))
        .route("/api/show", post(show))
        .route("/api/pull", post(pull))
        .route("/api/tags", get(tags))
        .route("/v1/chat/completions", post(chat_completions))
        .with_state(Arc::new(store))
}

/// Ollama's name for `model`: a tag is implied (`tinyllama` is `tinyllama:latest`).
fn full_name(model: &str) -> String {
    if model.contains(':') {
        model.to_owned()
    } else {
        format!("{model}:latest")
    }
}

fn entry(store: &Path, model: &str) -> PathBuf {
    let safe: String = full_name(model)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    store.join(format!("{safe}.json"))
}

fn requested(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v["model"]
        .as_str()
        .or(v["name"].as_str())
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
}

fn ollama_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

async fn version() -> Json<Value> {
    Json(json!({ "version": "0.0.0-aima-sim" }))
}

async fn show(State(store): State<Arc<PathBuf>>, body: Bytes) -> Response {
    let Some(model) = requested(&body) else {
        return ollama_error(StatusCode::BAD_REQUEST, "model is required");
    };
    let present = entry(&store, &model).is_file();
    info!(target: "sim", "POST /api/show {model}: {}", if present { "present" } else { "not found" });
    if present {
        Json(json!({ "details": { "format": "gguf" }, "modelfile": "" })).into_response()
    } else {
        let message = format!("model '{model}' not found");
        ollama_error(StatusCode::NOT_FOUND, &message)
    }
}

async fn pull(State(store): State<Arc<PathBuf>>, body: Bytes) -> Response {
    let Some(model) = requested(&body) else {
        return ollama_error(StatusCode::BAD_REQUEST, "model is required");
    };
    info!(target: "sim", "POST /api/pull {model}: pulling");
    let mut lines = vec![json!({ "status": "pulling manifest" })];
    if model.starts_with("missing") {
        lines.push(json!({ "error": "pull model manifest: file does not exist" }));
    } else {
        let record = json!({
            "name": full_name(&model),
            "modified_at": humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            "size": 1024,
        });
        let written = std::fs::create_dir_all(store.as_path())
            .and_then(|()| std::fs::write(entry(&store, &model), record.to_string()));
        match written {
            Ok(()) => lines.extend([
                json!({ "status": "pulling sim", "digest": "sha256:0", "total": 1024, "completed": 1024 }),
                json!({ "status": "writing manifest" }),
                json!({ "status": "success" }),
            ]),
            Err(e) => lines.push(json!({ "error": format!("write model store: {e}") })),
        }
    }
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    (
        [(axum::http::header::CONTENT_TYPE, "application/x-ndjson")],
        text,
    )
        .into_response()
}

async fn tags(State(store): State<Arc<PathBuf>>) -> Json<Value> {
    let mut models: Vec<Value> = std::fs::read_dir(store.as_path())
        .into_iter()
        .flatten()
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
        .collect();
    models.sort_by_key(|m: &Value| m["name"].as_str().unwrap_or_default().to_owned());
    Json(json!({ "models": models }))
}

async fn chat_completions(State(store): State<Arc<PathBuf>>, body: Bytes) -> Response {
    let model = requested(&body).unwrap_or_default();
    if !entry(&store, &model).is_file() {
        let message = format!("model \"{model}\" not found, try pulling it first");
        return api_error(StatusCode::NOT_FOUND, &message);
    }
    chat_answer(&model, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_get_ollamas_implied_tag_and_a_safe_file_name() {
        assert_eq!(full_name("tinyllama"), "tinyllama:latest");
        assert_eq!(full_name("llama3.2:1b"), "llama3.2:1b");
        let store = Path::new("/s");
        assert_eq!(
            entry(store, "tinyllama"),
            Path::new("/s/tinyllama_latest.json")
        );
        assert_eq!(entry(store, "tinyllama:latest"), entry(store, "tinyllama"));
        assert_eq!(entry(store, "../x"), Path::new("/s/___x_latest.json"));
    }

    #[test]
    fn the_model_is_read_from_either_field() {
        assert_eq!(requested(br#"{"model":"a"}"#).as_deref(), Some("a"));
        assert_eq!(requested(br#"{"name":"b"}"#).as_deref(), Some("b"));
        assert_eq!(requested(br#"{"model":""}"#), None);
        assert_eq!(requested(b"nope"), None);
    }
}
