//! `GET /api/v2/health`: can the daemon read its store and reach Docker? 200 when both, else
//! 503. Open to callers without the token, so it names no secret.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::ApiState;

/// Health answers within a second: a Docker that is slow to answer reads as not answering
/// here, while starts and the reconciler keep their own, longer bound (about 3 s).
const DOCKER_BOUND: std::time::Duration = std::time::Duration::from_millis(800);

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// `ok` or `unavailable`.
    #[schema(value_type = String, example = "ok")]
    status: &'static str,
    store: Check,
    docker: Check,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Check {
    ok: bool,
    /// Why not, when `ok` is false.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
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

/// Health answers without the token and names no secret.
#[utoipa::path(get, path = "/api/v2/health", operation_id = "health", security(()),
    summary = "Can the daemon read its store and reach Docker? Open without the token.",
    responses(
        (status = 200, description = "Store and Docker both answer", body = Health),
        (status = 503, description = "The store or Docker does not answer", body = Health),
    ))]
pub(crate) async fn health(State(state): State<ApiState>) -> (StatusCode, Json<Health>) {
    let store = Check::from_result(check_store(&state).await);
    let docker = match tokio::time::timeout(DOCKER_BOUND, state.deps.docker()).await {
        Ok(reached) => Check::from_result(reached.map(drop)),
        Err(_) => Check {
            ok: false,
            error: Some(format!(
                "Docker did not answer within {} ms",
                DOCKER_BOUND.as_millis()
            )),
        },
    };
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
