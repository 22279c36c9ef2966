//! `POST /api/v2/apply`: `aima apply` over HTTP. The body is the apply file, TOML
//! (`application/toml`, or any type but JSON) or JSON (`application/json`) with the same keys.
//! `GET /api/v2/export`: `aima export`, the data dir as such a file.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use super::ApiState;
use super::body::{StrictQuery, TextBody};
use super::error::{ApiResult, ErrorBodyDoc};
use crate::domain::Actor;
use crate::error::Error;
use crate::ops::apply::{self, Document, RunOptions};

/// `?dry_run=true&prune=true&wait=true&fail_fast=true`, as `aima apply`'s flags, and the
/// file's name.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ApplyQuery {
    /// The name errors and the answer give the file (the CLI sends its path); `the request
    /// body` when absent.
    #[serde(default)]
    file: Option<String>,
    /// Plan only; change nothing.
    #[serde(default)]
    dry_run: bool,
    /// Also delete the services and models the file does not name.
    #[serde(default)]
    prune: bool,
    /// Starts wait until each engine answers its health check.
    #[serde(default)]
    wait: bool,
    /// Stop at the first step that fails.
    #[serde(default)]
    fail_fast: bool,
}

#[utoipa::path(post, path = "/api/v2/apply", operation_id = "apply",
    summary = "Make the data dir what an apply file describes: the plan, then its steps.",
    params(ApplyQuery),
    description = "The body is the apply file (docs/apply.md): TOML, or JSON with `Content-Type: application/json`. An invalid file is a 400 and changes nothing. The answer lists the plan and, unless `dry_run`, each step's outcome; a failed step is reported in `outcome` with the exit code its CLI verb would give, and the answer is still 200.",
    request_body(content = String, content_type = "application/toml", description = "The apply file"),
    responses(
        (status = 200, description = "The plan and the outcome of each step", body = Document),
        (status = 400, description = "An invalid file", body = ErrorBodyDoc),
        (status = 413, description = "Body too large", body = ErrorBodyDoc),
    ))]
pub(crate) async fn apply(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
    StrictQuery(q): StrictQuery<ApplyQuery>,
    body: TextBody,
) -> ApiResult<Json<Document>> {
    let name = q.file.unwrap_or_else(|| "the request body".to_owned());
    let parsed = match body.content_type.as_deref() {
        Some("application/json") => apply::parse_json(&name, &body.text)?,
        _ => apply::parse(&name, &body.text)?,
    };
    let deps = state.deps_for(&actor);
    let stores = state.stores.clone();
    // A tracked task, as a start: a client that hangs up does not cut the run short.
    let task = state.tasks.spawn(async move {
        let store = stores.handle_as(&actor).await?;
        let plan = apply::plan_parsed(&deps, &store, &parsed, q.prune).await?;
        if q.dry_run || !plan.changes_anything() {
            return Ok(Document::new(&name, q.dry_run, plan, Vec::new()));
        }
        let opts = RunOptions {
            wait: q.wait,
            fail_fast: q.fail_fast,
        };
        let outcomes = apply::run(&deps, &store, &actor, &plan, opts, &|_| {}).await;
        Ok::<_, Error>(Document::new(&name, false, plan, outcomes))
    });
    let document = task
        .await
        .map_err(|e| Error::internal("the apply task failed").caused_by(e))??;
    Ok(Json(document))
}

/// `?format=json` for the file as JSON; TOML otherwise.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportQuery {
    /// `toml` (the default) or `json`, as `aima export -o`.
    #[serde(default)]
    #[param(inline)]
    format: ExportFormat,
}

#[derive(Debug, Default, Clone, Copy, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ExportFormat {
    #[default]
    Toml,
    Json,
}

#[utoipa::path(get, path = "/api/v2/export", operation_id = "export",
    summary = "The data dir's models and services as an apply file, as `aima export` writes it.",
    params(ExportQuery),
    description = "Secret values are written as `{ stored = true }` references, never as values, so applying the file again changes nothing (docs/apply.md). Everyone signed in may read it, as the lists.",
    responses(
        (status = 200, description = "The apply file: TOML, or JSON with `format=json`",
            content((String = "application/toml"), (Object = "application/json"))),
        (status = 400, description = "Bad format, or a name two models (or two services) share: an apply file names each once", body = ErrorBodyDoc),
    ))]
pub(crate) async fn export(
    State(state): State<ApiState>,
    StrictQuery(q): StrictQuery<ExportQuery>,
) -> ApiResult<Response> {
    let store = state.stores.handle().await?;
    let file = apply::export_store(&state.deps, &store).await?;
    Ok(match q.format {
        ExportFormat::Json => Json(file).into_response(),
        ExportFormat::Toml => {
            let toml = [(header::CONTENT_TYPE, "application/toml; charset=utf-8")];
            (toml, file.to_toml()?).into_response()
        }
    })
}
