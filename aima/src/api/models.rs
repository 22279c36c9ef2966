//! Model routes: list, register, show, delete.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::ApiState;
use super::body::{JsonBody, StrictQuery};
use super::error::ApiResult;
use super::routes::{List, open_store};
use crate::ids::ModelId;
use crate::ops::{self, CreateModel};
use crate::records::Model;

pub async fn list(State(state): State<ApiState>) -> ApiResult<Json<List<Model>>> {
    let store = open_store(&state)?;
    Ok(Json(List::of(store.list_models()?)))
}

pub async fn create(
    State(state): State<ApiState>,
    JsonBody(req): JsonBody<CreateModel>,
) -> ApiResult<(StatusCode, Json<Model>)> {
    let mut store = open_store(&state)?;
    Ok((
        StatusCode::CREATED,
        Json(ops::create_model(&state.deps.config, &mut store, req)?),
    ))
}

pub async fn get(State(state): State<ApiState>, Path(id): Path<String>) -> ApiResult<Json<Model>> {
    let store = open_store(&state)?;
    Ok(Json(store.get_model(&ModelId::parse(&id)?)?))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    /// Also delete the services that use it, as `model delete --force`.
    #[serde(default)]
    force: bool,
}

pub async fn delete(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    StrictQuery(q): StrictQuery<DeleteQuery>,
) -> ApiResult<Json<Model>> {
    let mut store = open_store(&state)?;
    Ok(Json(store.delete_model(&ModelId::parse(&id)?, q.force)?))
}
