//! Model routes: list, register, show, delete; the request bodies and queries they take.

use axum::extract::{Path, State};
use axum::{Extension, Json};
use axum::http::StatusCode;

use super::ApiState;
use super::body::{JsonBody, StrictQuery};
use super::error::{ApiResult, ErrorBodyDoc};
use super::paging::{Page, PageQuery, unknown_cursor};
use crate::domain::{Actor, Model, ModelSource};
use crate::ops::{self, CreateModel, access};

/// The body of `POST /models`.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateModel)]
pub(crate) struct CreateModelBody {
    /// A name for people; need not be unique.
    name: String,
    source: ModelSource,
    /// Repository id (e.g. `tinyllama`, `Qwen/Qwen2-0.5B`).
    repo: String,
    /// Absolute path of a local model directory or `.gguf` file, mounted read-only.
    #[serde(default)]
    path: Option<String>,
    /// Model type (default `llm`).
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
#[utoipa::path(get, path = "/api/v2/models", operation_id = "listModels",
    summary = "List models, oldest first.", params(PageQuery),
    responses(
        (status = 200, description = "A page of models", body = Page<Model>),
        (status = 400, description = "Bad limit or after", body = ErrorBodyDoc),
    ))]
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

#[utoipa::path(post, path = "/api/v2/models", operation_id = "createModel",
    summary = "Register a model.", request_body = CreateModelBody,
    responses(
        (status = 201, description = "The new model", body = Model),
        (status = 400, description = "Invalid body", body = ErrorBodyDoc),
        (status = 413, description = "Body too large", body = ErrorBodyDoc),
    ))]
pub(crate) async fn create(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
    JsonBody(body): JsonBody<CreateModelBody>,
) -> ApiResult<(StatusCode, Json<Model>)> {
    let config = state.deps.config.clone();
    let model = state
        .stores
        .call_as(&actor, move |store| ops::create_model(&config, store, body.into()))
        .await?;
    Ok((StatusCode::CREATED, Json(model)))
}

#[utoipa::path(get, path = "/api/v2/models/{id}", operation_id = "getModel",
    summary = "Show one model.", params(("id" = String, Path, description = "Model id, name or unique id prefix")),
    responses(
        (status = 200, description = "The model", body = Model),
        (status = 404, description = "No such model", body = ErrorBodyDoc),
    ))]
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

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeleteQuery {
    /// Also delete the services that use it, as `model delete --force`.
    #[serde(default)]
    force: bool,
}

#[utoipa::path(delete, path = "/api/v2/models/{id}", operation_id = "deleteModel",
    summary = "Delete a model (refused while services use it, unless force).",
    params(("id" = String, Path, description = "Model id, name or unique id prefix"), DeleteQuery),
    responses(
        (status = 200, description = "The deleted model", body = Model),
        (status = 400, description = "Bad query string", body = ErrorBodyDoc),
        (status = 403, description = "Another user's model", body = ErrorBodyDoc),
        (status = 404, description = "No such model", body = ErrorBodyDoc),
        (status = 409, description = "Services use it", body = ErrorBodyDoc),
    ))]
pub(crate) async fn delete(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    StrictQuery(q): StrictQuery<DeleteQuery>,
) -> ApiResult<Json<Model>> {
    let who = actor.clone();
    let model = state
        .stores
        .call_as(&actor, move |store| {
            access::check_model(store, &who, &id, "delete")?;
            ops::delete_model(store, &id, q.force)
        })
        .await?;
    Ok(Json(model))
}
