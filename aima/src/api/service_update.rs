//! `PATCH /api/v2/services/{id}`: `service update` over HTTP, and the view of one service with
//! its effective settings and where each comes from.

use axum::extract::{Path, State};
use axum::{Extension, Json};

use super::ApiState;
use super::body::JsonBody;
use super::error::{ApiResult, ErrorBodyDoc};
use crate::domain::{Actor, Service};
use crate::error::Error;
use crate::ops::settings::{Effective, SettingsRequest, effective};
use crate::ops::{self, Effect, FieldChange, UpdateService, access};

/// The body of `PATCH /services/{id}`: every field optional, as `service update`'s flags.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UpdateService)]
pub(crate) struct UpdateServiceBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    #[schema(minimum = 1)]
    port: Option<u16>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    bind: Option<std::net::IpAddr>,
    #[serde(default)]
    gpus: Option<String>,
    #[serde(default)]
    memory: Option<String>,
    #[serde(default)]
    restart: Option<String>,
    #[serde(default)]
    image: Option<String>,
    /// Replace the service's engine arguments.
    #[serde(default)]
    args: Option<Vec<String>>,
    /// Variables to set (others stay); secret keys are shown as `***`.
    #[serde(default)]
    env: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    shm_size: Option<String>,
    /// Fields back to the engine's setting: image, args, env, env.KEY, shm-size, memory, gpus,
    /// restart.
    #[serde(default)]
    unset: Vec<String>,
    /// On a running service: stop it and start it again now.
    #[serde(default)]
    apply_now: bool,
}

impl From<UpdateServiceBody> for UpdateService {
    fn from(b: UpdateServiceBody) -> Self {
        UpdateService {
            name: b.name,
            port: b.port,
            bind: b.bind,
            gpus: b.gpus,
            memory: b.memory,
            restart: b.restart,
            settings: SettingsRequest {
                image: b.image,
                args: b.args,
                env: b.env.into_iter().collect(),
                secret_env: Vec::new(),
                env_file: None,
                shm_size: b.shm_size,
            },
            unset: b.unset,
            apply_now: b.apply_now,
        }
    }
}

/// One service with its effective settings.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ServiceDetail {
    #[serde(flatten)]
    pub(crate) service: Service,
    /// Image, arguments, environment and `/dev/shm` size as the next start uses them, each
    /// with its source: `service`, `file` (config.toml), `env` or `default`.
    pub(crate) effective: Vec<Effective>,
}

impl ServiceDetail {
    pub(crate) fn of(state: &ApiState, service: Service) -> Self {
        let effective = effective(&state.deps.config, service.engine_type, &service.settings);
        ServiceDetail { service, effective }
    }
}

/// The answer of `PATCH /services/{id}`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct UpdatedService {
    #[serde(flatten)]
    detail: ServiceDetail,
    /// Each field changed: old and new value (secrets as `***`).
    changes: Vec<FieldChange>,
    /// `unchanged`, `recorded`, `next_start` (it runs: the change applies at its next start)
    /// or `applied` (stopped and started again).
    effect: Effect,
}

#[utoipa::path(patch, path = "/api/v2/services/{id}", operation_id = "updateService",
    summary = "Change a service's configuration in place.", params(super::services::Id),
    description = "A created, stopped or failed service only records the change; a running one takes it at its next start, unless `apply_now` (stop, then start with preflight). A new port is checked as at create.",
    request_body = UpdateServiceBody,
    responses(
        (status = 200, description = "The service and what changed", body = UpdatedService),
        (status = 400, description = "Invalid body or a refused setting", body = ErrorBodyDoc),
        (status = 403, description = "Another user's service", body = ErrorBodyDoc),
        (status = 404, description = "No such service", body = ErrorBodyDoc),
        (status = 409, description = "The port is taken, or it runs and its port would move", body = ErrorBodyDoc),
    ))]
pub(crate) async fn update(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateServiceBody>,
) -> ApiResult<Json<UpdatedService>> {
    let deps = state.deps.clone();
    let abort = state.abort.clone();
    let store = state.stores.handle_as(&actor).await?;
    access::check_service(&store, &actor, &id, "update").await?;
    // A tracked task, as a start: a client that hangs up does not cut an --apply-now short.
    let task = state.tasks.spawn(async move {
        let interrupt = async move {
            abort.cancelled().await;
            "the daemon shutting down"
        };
        ops::update_service(&deps, &store, &id, body.into(), interrupt).await
    });
    let up = task
        .await
        .map_err(|e| Error::internal("the update task failed").caused_by(e))??;
    Ok(Json(UpdatedService {
        detail: ServiceDetail::of(&state, up.service),
        changes: up.changes,
        effect: up.effect,
    }))
}
