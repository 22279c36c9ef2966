//! Ollama's pull phase against a fake Ollama API (a tiny HTTP server on a real socket): the model
//! is pulled at the first start and not again at a restart, and every start mounts the same
//! named cache volume.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::{Fixture, NewService, assert_has};
use crate::domain::{EngineType, Phase, ServiceId, Status};
use crate::error::Kind;

/// The requests the fake Ollama got (`POST /api/show`, ...), and whether it has the model.
#[derive(Default)]
struct FakeOllama {
    requests: Mutex<Vec<String>>,
    has_model: Mutex<bool>,
    /// What `/api/pull` answers with instead of success.
    pull_error: Mutex<Option<String>>,
}

impl FakeOllama {
    async fn serve(self: Arc<Self>) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let me = self.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let mut got = Vec::new();
                    // Headers and the small JSON body arrive together or soon after.
                    loop {
                        let n = conn.read(&mut buf).await.unwrap_or(0);
                        got.extend_from_slice(&buf[..n]);
                        let text = String::from_utf8_lossy(&got);
                        if n == 0 || text.contains("\r\n\r\n") && text.trim_end().ends_with('}') {
                            break;
                        }
                    }
                    let text = String::from_utf8_lossy(&got).into_owned();
                    let line = text.lines().next().unwrap_or_default();
                    let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
                    me.requests.lock().unwrap().push(format!("POST {path}"));
                    let (status, body) = me.answer(&path);
                    let reply = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/x-ndjson\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = conn.write_all(reply.as_bytes()).await;
                });
            }
        });
        port
    }

    fn answer(&self, path: &str) -> (&'static str, String) {
        let mut has = self.has_model.lock().unwrap();
        match path {
            "/api/show" if *has => ("200 OK", "{\"details\":{}}".to_owned()),
            "/api/show" => (
                "404 Not Found",
                "{\"error\":\"model 'tinyllama' not found\"}".to_owned(),
            ),
            "/api/pull" => match self.pull_error.lock().unwrap().clone() {
                Some(error) => (
                    "200 OK",
                    format!("{{\"status\":\"pulling manifest\"}}\n{{\"error\":\"{error}\"}}\n"),
                ),
                None => {
                    *has = true;
                    (
                        "200 OK",
                        "{\"status\":\"pulling manifest\"}\n{\"status\":\"downloading\",\"total\":100,\"completed\":100}\n{\"status\":\"success\"}\n".to_owned(),
                    )
                }
            },
            _ => ("404 Not Found", String::new()),
        }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// The fixture, a fake Ollama answering `/api/pull` with `pull_error` (when given) instead of
/// success, and an Ollama service on it.
async fn ollama_fixture(pull_error: Option<&str>) -> (Fixture, Arc<FakeOllama>, ServiceId) {
    let mut f = Fixture::new();
    let ollama = Arc::new(FakeOllama::default());
    *ollama.pull_error.lock().unwrap() = pull_error.map(str::to_owned);
    let port = ollama.clone().serve().await;
    let id = f.add_service(NewService {
        engine: EngineType::Ollama,
        port: Some(port),
        ..NewService::default()
    });
    (f, ollama, id)
}

#[tokio::test]
async fn a_restart_finds_the_model_in_the_store_and_does_not_pull_again() {
    let (mut f, ollama, id) = ollama_fixture(None).await;

    let svc = f.start_service(&id).await.unwrap();
    assert_eq!(svc.status, Status::Running);
    assert_eq!(ollama.requests(), ["POST /api/show", "POST /api/pull"]);

    f.stop_service(&id).await;
    f.start_service(&id).await.unwrap();
    assert_eq!(
        ollama.requests(),
        ["POST /api/show", "POST /api/pull", "POST /api/show"],
        "the second start asks, finds the model, and pulls nothing"
    );

    // Both containers mounted the same named volume at Ollama's store.
    let specs = f.rt.specs();
    let caches: Vec<_> = specs.iter().map(|s| s.cache.clone().unwrap()).collect();
    assert_eq!(caches.len(), 2);
    assert_eq!(caches[0], caches[1]);
    assert_eq!(caches[0].target, "/root/.ollama");
    assert_eq!(
        caches[0].name,
        format!("aima-cache-ollama-{}", f.deps.config.instance)
    );
    assert_eq!(specs[0].args, ["serve"]);
}

#[tokio::test]
async fn a_failed_pull_fails_the_start_once_with_ollamas_reason() {
    let (mut f, _ollama, id) =
        ollama_fixture(Some("pull model manifest: file does not exist")).await;

    let err = f.start_service(&id).await.unwrap_err();
    assert_eq!(err.code, Kind::StartFailed);
    assert_eq!(err.attempts.len(), 1, "a missing model is not retried");
    assert_eq!(err.attempts[0].phase, Phase::Pull);
    assert_has(&err.message, "file does not exist");
    assert!(
        f.rt.containers().is_empty(),
        "the engine container is removed"
    );
}

#[tokio::test]
async fn a_vllm_restart_mounts_the_same_hugging_face_cache() {
    let mut f = Fixture::new();
    let id = f.id.clone();
    f.start_service(&id).await.unwrap();
    f.stop_service(&id).await;
    f.start_service(&id).await.unwrap();
    let specs = f.rt.specs();
    assert_eq!(specs.len(), 2);
    assert_eq!(specs[0].cache, specs[1].cache);
    let cache = specs[0].cache.clone().unwrap();
    assert_eq!(cache.target, "/root/.cache/huggingface");
    assert_eq!(specs[0].shm_bytes, Some(crate::domain::VLLM_SHM_BYTES));
    assert_eq!(f.rt.volumes().len(), 1, "one volume, created once");
}
