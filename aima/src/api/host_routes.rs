//! What the daemon's host has beside services: `aima info` as the daemon sees it, and the
//! engines' download caches.

use axum::{Extension, Json};
use axum::extract::{Path, State};

use super::ApiState;
use super::error::{ApiResult, ErrorBodyDoc};
use crate::domain::{Actor, EngineType};
use crate::error::Error;
use crate::lifecycle::cache::CacheInfo;
use crate::ops;

/// `aima info -o json` of the daemon: its version, data dir, Docker endpoint and settings
/// (secrets shown only as set or not).
#[utoipa::path(get, path = "/api/v2/info", operation_id = "info",
    summary = "What this daemon is and runs with, as `aima info -o json` shows it on its host.",
    responses(
        (status = 200, description = "The daemon's info", body = Object),
    ))]
pub(crate) async fn info(State(state): State<ApiState>) -> Json<serde_json::Value> {
    let info = crate::cli::gather_info(&state.deps).await;
    Json(serde_json::to_value(&info).unwrap_or_default())
}

/// `{"items": [...], "total": N}`, as `aima cache list -o json`.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct CacheList {
    items: Vec<CacheInfo>,
    total: usize,
}

#[utoipa::path(get, path = "/api/v2/caches", operation_id = "listCaches",
    summary = "The engines' download caches (named volumes) that exist.",
    responses(
        (status = 200, description = "The caches", body = CacheList),
        (status = 503, description = "Docker unavailable", body = ErrorBodyDoc),
    ))]
pub(crate) async fn caches(State(state): State<ApiState>) -> ApiResult<Json<CacheList>> {
    let items = ops::list_caches(&state.deps).await?;
    Ok(Json(CacheList {
        total: items.len(),
        items,
    }))
}

/// What `DELETE /caches/{engine}` answers.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct RemovedCache {
    pub(crate) engine: EngineType,
    pub(crate) volume: String,
}

#[utoipa::path(delete, path = "/api/v2/caches/{engine}", operation_id = "removeCache",
    summary = "Remove one engine's cache; refused while a service of that engine is starting or running.",
    params(("engine" = EngineType, Path, description = "The engine whose cache to remove")),
    responses(
        (status = 200, description = "The removed cache", body = RemovedCache),
        (status = 400, description = "Not an engine", body = ErrorBodyDoc),
        (status = 403, description = "Not an admin", body = ErrorBodyDoc),
        (status = 404, description = "No cache for that engine", body = ErrorBodyDoc),
        (status = 409, description = "A service of that engine is starting or running", body = ErrorBodyDoc),
        (status = 503, description = "Docker unavailable", body = ErrorBodyDoc),
    ))]
pub(crate) async fn remove_cache(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
    Path(engine): Path<String>,
) -> ApiResult<Json<RemovedCache>> {
    // Every user's services share an engine's cache: only an admin may throw it away.
    crate::ops::access::admins_only(&actor, "remove an engine's cache")?;
    let engine = EngineType::parse(&engine).ok_or_else(|| {
        let engines: Vec<&str> = EngineType::ALL.iter().map(|e| e.as_str()).collect();
        Error::usage(format!("{engine} is not an engine"))
            .with_help(format!("give one of: {}", engines.join(", ")))
    })?;
    let store = state.stores.handle().await?;
    let volume = ops::remove_cache(&state.deps, &store, engine).await?;
    Ok(Json(RemovedCache { engine, volume }))
}
