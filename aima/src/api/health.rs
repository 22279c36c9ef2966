//! `GET /api/v2/health`: can the daemon read its store and reach Docker? 200 when both, else
//! 503. Open to callers without the token, so it names no secret.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::ApiState;

#[derive(Serialize)]
pub(crate) struct Health {
    /// `ok` or `unavailable`.
    status: &'static str,
    store: Check,
    docker: Check,
}

#[derive(Serialize)]
pub(crate) struct Check {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Check {
    fn from_result(result: crate::error::Result<()>) -> Self {
        match result {
            Ok(()) => Check {
                ok: true,
                error: None,
            },
            Err(e) => Check {
                ok: false,
                error: Some(e.one_line()),
            },
        }
    }
}

pub(crate) async fn health(State(state): State<ApiState>) -> (StatusCode, Json<Health>) {
    let store = Check::from_result(check_store(&state).await);
    let docker = Check::from_result(state.deps.docker().await.map(drop));
    let ok = store.ok && docker.ok;
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let health = Health {
        status: if ok { "ok" } else { "unavailable" },
        store,
        docker,
    };
    (status, Json(health))
}

/// Opens the store and reads its header: cheap, and never waits for the write lock.
async fn check_store(state: &ApiState) -> crate::error::Result<()> {
    state.with_store(|store| store.readable()).await
}
