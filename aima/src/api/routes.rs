//! The route table, the 404 and 405 answers, and helpers the handlers share.

use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use axum::routing::{get, post};
use axum::{Router, middleware};
use serde::Serialize;

use super::error::{ApiError, ApiResult};
use super::{ApiState, auth, browsers, health, models, services};
use crate::error::{Error, Kind};
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

/// `{"items": [...], "total": N}`, the CLI's JSON list shape.
#[derive(Serialize)]
pub(crate) struct List<T> {
    items: Vec<T>,
    total: usize,
}

impl<T> List<T> {
    pub fn of(items: Vec<T>) -> Self {
        List {
            total: items.len(),
            items,
        }
    }
}

/// A store per request: connections are cheap and `Store` is not `Sync`.
pub(crate) fn open_store(state: &ApiState) -> ApiResult<Store> {
    Ok(Store::open(&state.deps.config.db_path())?)
}
