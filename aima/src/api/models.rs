//! Model routes: list, register, show, delete; the request bodies and queries they take.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::ApiState;
use super::body::{JsonBody, StrictQuery};
use super::error::ApiResult;
use super::paging::{Page, PageQuery, unknown_cursor};
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

/// A page of models; see [`super::paging`].
pub(crate) async fn list(
    State(state): State<ApiState>,
    StrictQuery(q): StrictQuery<PageQuery>,
) -> ApiResult<Json<Page<Model>>> {
    let limit = q.limit()?;
    let page = state
        .with_store(move |store| {
            let after = q.after();
            let (models, total) = ops::list_models_after(store, after, limit + 1)?
                .ok_or_else(|| unknown_cursor(after.unwrap_or_default()))?;
            Ok(Page::fetched(models, limit, total, |m| m.id.as_str()))
        })
        .await?;
    Ok(Json(page))
}

pub(crate) async fn create(
    State(state): State<ApiState>,
    JsonBody(body): JsonBody<CreateModelBody>,
) -> ApiResult<(StatusCode, Json<Model>)> {
    let config = state.deps.config.clone();
    let model = state
        .with_store(move |store| ops::create_model(&config, store, body.into()))
        .await?;
    Ok((StatusCode::CREATED, Json(model)))
}

pub(crate) async fn get(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Model>> {
    Ok(Json(
        state
            .with_store(move |store| ops::get_model(store, &id))
            .await?,
    ))
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
    let model = state
        .with_store(move |store| ops::delete_model(store, &id, q.force))
        .await?;
    Ok(Json(model))
}
