//! Model routes: list, register, show, delete.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::ApiState;
use super::body::{JsonBody, StrictQuery};
use super::error::ApiResult;
use super::routes::{List, with_store};
use crate::ids::ModelId;
use crate::ops::{self, CreateModel};
use crate::records::Model;

pub async fn list(State(state): State<ApiState>) -> ApiResult<Json<List<Model>>> {
    let models = with_store(&state, |store| store.list_models()).await?;
    Ok(Json(List::of(models)))
}

pub async fn create(
    State(state): State<ApiState>,
    JsonBody(req): JsonBody<CreateModel>,
) -> ApiResult<(StatusCode, Json<Model>)> {
    let model = with_store(&state, |store| ops::create_model(store, req)).await?;
    Ok((StatusCode::CREATED, Json(model)))
}

pub async fn get(State(state): State<ApiState>, Path(id): Path<String>) -> ApiResult<Json<Model>> {
    let id = ModelId::parse(&id)?;
    Ok(Json(
        with_store(&state, move |store| store.get_model(&id)).await?,
    ))
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
    let id = ModelId::parse(&id)?;
    let model = with_store(&state, move |store| store.delete_model(&id, q.force)).await?;
    Ok(Json(model))
}
