//! Model routes: list, register, show, delete; the request bodies and queries they take.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::ApiState;
use super::body::{JsonBody, StrictQuery};
use super::error::ApiResult;
use super::routes::{List, open_store};
use crate::domain::{Model, ModelSource};
use crate::ops::{self, CreateModel};

/// The body of `POST /models`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateModelBody {
    name: String,
    source: ModelSource,
    repo: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default, rename = "type")]
    model_type: Option<String>,
}

impl From<CreateModelBody> for CreateModel {
    fn from(b: CreateModelBody) -> Self {
        CreateModel {
            name: b.name,
            source: b.source,
            repo: b.repo,
            path: b.path,
            model_type: b.model_type,
        }
    }
}

pub(crate) async fn list(State(state): State<ApiState>) -> ApiResult<Json<List<Model>>> {
    let store = open_store(&state)?;
    Ok(Json(List::of(ops::list_models(&store)?)))
}

pub(crate) async fn create(
    State(state): State<ApiState>,
    JsonBody(body): JsonBody<CreateModelBody>,
) -> ApiResult<(StatusCode, Json<Model>)> {
    let mut store = open_store(&state)?;
    let model = ops::create_model(&state.deps.config, &mut store, body.into())?;
    Ok((StatusCode::CREATED, Json(model)))
}

pub(crate) async fn get(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Model>> {
    let store = open_store(&state)?;
    Ok(Json(ops::get_model(&store, &id)?))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeleteQuery {
    /// Also delete the services that use it, as `model delete --force`.
    #[serde(default)]
    force: bool,
}

pub(crate) async fn delete(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    StrictQuery(q): StrictQuery<DeleteQuery>,
) -> ApiResult<Json<Model>> {
    let mut store = open_store(&state)?;
    Ok(Json(ops::delete_model(&mut store, &id, q.force)?))
}
