//! The route table, the 404 and 405 answers, and helpers the handlers share.

use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use axum::routing::{get, post};
use axum::{Router, middleware};

use super::error::{ApiError, ApiResult};
use super::{ApiState, auth, browsers, health, models, services};
use crate::error::{Error, Kind, Result};
use crate::store::Store;

/// Request bodies are small JSON objects; anything larger is refused with 413.
pub const BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: ApiState) -> Router {
    let protected = Router::new()
        .route("/api/v2/models", get(models::list).post(models::create))
        .route(
            "/api/v2/models/{id}",
            get(models::get).delete(models::delete),
        )
        .route(
            "/api/v2/services",
            get(services::list).post(services::create),
        )
        .route(
            "/api/v2/services/{id}",
            get(services::get).delete(services::delete),
        )
        .route("/api/v2/services/prune", post(services::prune))
        .route("/api/v2/services/{id}/start", post(services::start))
        .route("/api/v2/services/{id}/stop", post(services::stop))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    Router::new()
        .route("/api/v2/health", get(health::health))
        .merge(protected)
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            browsers::refuse_web_pages,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    Error::new(Kind::NotFound, format!("no route {method} {}", uri.path()))
        .with_help("the API lives under /api/v2: models, services and health")
        .into()
}

/// axum adds the `Allow` header to this answer.
async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    let error = Error::usage(format!("{method} is not allowed on {}", uri.path()))
        .with_help("the Allow header lists the methods this route takes");
    ApiError::from(error).with_status(StatusCode::METHOD_NOT_ALLOWED)
}

/// A store per request: connections are cheap and `Store` is not `Sync`. Opening only reads.
pub(crate) fn open_store(state: &ApiState) -> ApiResult<Store> {
    Ok(Store::open(&state.deps.config.db_path())?)
}

/// Runs `f` on a store on the blocking pool: a slow disk, a big list or a write waiting for the
/// lock never holds up an async worker, so other requests go on.
pub(crate) async fn with_store<T: Send + 'static>(
    state: &ApiState,
    f: impl FnOnce(&mut Store) -> Result<T> + Send + 'static,
) -> Result<T> {
    let path = state.deps.config.db_path();
    tokio::task::spawn_blocking(move || f(&mut Store::open(&path)?))
        .await
        .map_err(|e| Error::internal("a store task failed").caused_by(e))?
}
