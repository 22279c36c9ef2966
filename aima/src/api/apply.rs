//! `POST /api/v2/apply`: `aima apply` over HTTP. The body is the apply file, TOML
//! (`application/toml`, or any type but JSON) or JSON (`application/json`) with the same keys.

use axum::extract::State;
use axum::{Extension, Json};

use super::ApiState;
use super::body::{StrictQuery, TextBody};
use super::error::{ApiResult, ErrorBodyDoc};
use crate::domain::Actor;
use crate::error::Error;
use crate::ops::apply::{self, Document, RunOptions};

/// `?dry_run=true&prune=true&wait=true&fail_fast=true`, as `aima apply`'s flags.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ApplyQuery {
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
    let name = "the request body";
    let parsed = match body.content_type.as_deref() {
        Some("application/json") => apply::parse_json(name, &body.text)?,
        _ => apply::parse(name, &body.text)?,
    };
    let deps = state.deps_for(&actor);
    let stores = state.stores.clone();
    // A tracked task, as a start: a client that hangs up does not cut the run short.
    let task = state.tasks.spawn(async move {
        let store = stores.handle_as(&actor).await?;
        let plan = apply::plan_parsed(&deps, &store, &parsed, q.prune).await?;
        if q.dry_run || !plan.changes_anything() {
            return Ok(Document::new(name, q.dry_run, plan, Vec::new()));
        }
        let opts = RunOptions {
            wait: q.wait,
            fail_fast: q.fail_fast,
        };
        let outcomes = apply::run(&deps, &store, &actor, &plan, opts, &|_| {}).await;
        Ok::<_, Error>(Document::new(name, false, plan, outcomes))
    });
    let document = task
        .await
        .map_err(|e| Error::internal("the apply task failed").caused_by(e))??;
    Ok(Json(document))
}
