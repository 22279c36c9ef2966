//! Service routes: list, create, show, delete, start and stop; the request bodies they take.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::{Extension, Json};
use axum::http::StatusCode;

use super::ApiState;
use super::body::{JsonBody, OptionalJsonBody, StrictQuery};
use super::service_update::ServiceDetail;
use super::error::{ApiResult, ErrorBodyDoc};
use super::paging::{Page, PageQuery, unknown_cursor};
use crate::domain::{Actor, EngineType, PullPolicy, Service, Status};
use crate::error::{Error, Result};
use crate::lifecycle::{StartOptions, StopMode, Trust};
use crate::ops::settings::SettingsRequest;
use crate::ops::{self, CreateService, DEFAULT_START_TIMEOUT, Pruned, access};

/// The body of `POST /services`.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateService)]
pub(crate) struct CreateServiceBody {
    /// The model to serve: id, name or unique id prefix.
    model_id: String,
    engine_type: EngineType,
    /// Host port (default: the engine's default port, skipping ports of other services).
    #[serde(default)]
    #[schema(minimum = 1)]
    port: Option<u16>,
    /// A name for people (default: MODEL-ENGINE-XXXX).
    #[serde(default)]
    name: Option<String>,
    /// Host address to publish on, as `--bind`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    bind: Option<std::net::IpAddr>,
    /// GPUs, as `--gpus`: `all`, `none`, `count=N`, or device indexes or UUIDs (`0,1`).
    #[serde(default)]
    gpus: Option<String>,
    /// Memory limit, as `--memory` (`64m`, `2g`).
    #[serde(default)]
    memory: Option<String>,
    /// Restart policy, as `--restart`: `no`, `on-failure`, `on-failure:N`, `always` or
    /// `unless-stopped` (stored as `always`). Default: the engine's `restart` setting.
    #[serde(default)]
    restart: Option<String>,
    /// The engine image for this service only, as `--image`.
    #[serde(default)]
    image: Option<String>,
    /// Engine arguments after aima's own, replacing the engine's `extra_args`, as `--arg`.
    #[serde(default)]
    args: Option<Vec<String>>,
    /// Environment variables for the engine, as `--env`; values of keys with TOKEN, KEY,
    /// SECRET or PASSWORD in them are secret and shown as `***`.
    #[serde(default)]
    env: std::collections::BTreeMap<String, String>,
    /// Size of the engine's `/dev/shm`, as `--shm-size` (`1g`).
    #[serde(default)]
    shm_size: Option<String>,
}

impl From<CreateServiceBody> for CreateService {
    fn from(b: CreateServiceBody) -> Self {
        CreateService {
            model_id: b.model_id,
            engine_type: b.engine_type,
            port: b.port,
            name: b.name,
            bind: b.bind,
            gpus: b.gpus,
            memory: b.memory,
            restart: b.restart,
            // No env file over HTTP: it would name a file on the daemon's host.
            settings: SettingsRequest {
                image: b.image,
                args: b.args,
                env: b.env.into_iter().collect(),
                secret_env: Vec::new(),
                env_file: None,
                shm_size: b.shm_size,
            },
        }
    }
}

/// The `{id}` of the service routes.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[expect(
    dead_code,
    reason = "describes the path parameter for the OpenAPI document only"
)]
pub(crate) struct Id {
    /// Service id, name or unique id prefix.
    id: String,
}

/// The longest start a request may ask for, as `service start --timeout` allows.
const MAX_START_SECS: u64 = 86_400;

/// `?limit=N&after=ID&status=S` on the service list: a page, of the services in one status.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// At most this many items (default 100, at most 1000).
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// Start after the item with this id: the `next` of the previous page.
    #[serde(default)]
    after: Option<String>,
    /// Only services in this status, as `service list --status`.
    #[serde(default)]
    #[param(value_type = Option<Status>)]
    status: Option<String>,
}

impl ListQuery {
    /// The status asked for; one that is not a status is a usage error naming the statuses.
    fn status(&self) -> Result<Option<Status>> {
        let Some(text) = &self.status else {
            return Ok(None);
        };
        Status::parse(text).map(Some).ok_or_else(|| {
            let statuses: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
            Error::usage(format!("status={text} is not a service status"))
                .with_help(format!("give one of: {}", statuses.join(", ")))
        })
    }
}

/// A page of services, each refreshed (the services of other pages are refreshed when their
/// page is read, and by the reconciler); see [`super::paging`].
#[utoipa::path(get, path = "/api/v2/services", operation_id = "listServices",
    summary = "List services, oldest first, each with its status made true.", params(ListQuery),
    responses(
        (status = 200, description = "A page of services", body = Page<Service>),
        (status = 400, description = "Bad limit, after or status", body = ErrorBodyDoc),
    ))]
pub(crate) async fn list(
    State(state): State<ApiState>,
    StrictQuery(q): StrictQuery<ListQuery>,
) -> ApiResult<Json<Page<Service>>> {
    let status = q.status()?;
    let page = PageQuery::new(q.limit, q.after);
    let limit = page.limit()?;
    let store = state.stores.handle().await?;
    let after = page.after();
    let trust = state.events.trust();
    let listed = match status {
        None => {
            ops::refresh_and_list_services_after(&state.deps, &store, after, limit + 1, trust)
                .await
        }
        Some(status) => {
            let deps = &state.deps;
            ops::refresh_and_list_services_in_after(deps, &store, status, after, limit + 1, trust)
                .await
        }
    };
    let (services, total) = listed?.ok_or_else(|| unknown_cursor(after.unwrap_or_default()))?;
    Ok(Json(Page::fetched(services, limit, total, |s| {
        s.id.as_str()
    })))
}

#[utoipa::path(post, path = "/api/v2/services", operation_id = "createService",
    summary = "Create a service; its host port is chosen now and kept.", request_body = CreateServiceBody,
    responses(
        (status = 201, description = "The new service, with its effective settings", body = ServiceDetail),
        (status = 400, description = "Invalid body", body = ErrorBodyDoc),
        (status = 404, description = "No such model", body = ErrorBodyDoc),
        (status = 403, description = "Outside the caller's port quota", body = ErrorBodyDoc),
        (status = 409, description = "The port is taken", body = ErrorBodyDoc),
        (status = 413, description = "Body too large", body = ErrorBodyDoc),
    ))]
pub(crate) async fn create(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
    JsonBody(body): JsonBody<CreateServiceBody>,
) -> ApiResult<(StatusCode, Json<ServiceDetail>)> {
    let deps = state.deps_for(&actor);
    let svc = state
        .stores
        .call_as(&actor, move |store| ops::create_service(&deps, store, body.into()))
        .await?;
    Ok((StatusCode::CREATED, Json(ServiceDetail::of(&state, svc))))
}

#[utoipa::path(get, path = "/api/v2/services/{id}", operation_id = "getService",
    summary = "Show one service, with its last error and start attempts.", params(Id),
    responses(
        (status = 200, description = "The service, with its effective settings", body = ServiceDetail),
        (status = 404, description = "No such service", body = ErrorBodyDoc),
    ))]
pub(crate) async fn get(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ServiceDetail>> {
    let trust = state.events.trust();
    if trust != Trust::Nothing {
        let given = id.clone();
        let recorded = state
            .with_store(move |store| ops::get_service_trusted(store, &given, trust))
            .await?;
        if let Some(svc) = recorded {
            return Ok(Json(ServiceDetail::of(&state, svc)));
        }
    }
    let store = state.stores.handle().await?;
    let svc = ops::refresh_and_get_service_trusting(&state.deps, &store, &id, trust).await?;
    Ok(Json(ServiceDetail::of(&state, svc)))
}

#[utoipa::path(delete, path = "/api/v2/services/{id}", operation_id = "deleteService",
    summary = "Delete a service (refused while it is starting or running).", params(Id),
    responses(
        (status = 200, description = "The deleted service", body = Service),
        (status = 403, description = "Another user's service", body = ErrorBodyDoc),
        (status = 404, description = "No such service", body = ErrorBodyDoc),
        (status = 409, description = "Starting or running", body = ErrorBodyDoc),
    ))]
pub(crate) async fn delete(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult<Json<Service>> {
    let store = state.stores.handle_as(&actor).await?;
    access::check_service(&store, &actor, &id, "delete").await?;
    Ok(Json(ops::delete_service(&state.deps, &store, &id).await?))
}

/// The body of `POST /services/{id}/start`; absent means a detached start with the default
/// timeout, as `aima service start ID`.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartRequest {
    /// Answer once the engine is healthy (200) rather than once its container runs (202).
    #[serde(default)]
    pub(super) wait: bool,
    /// Seconds the whole start may take (default 300, at most 86400).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 86_400)]
    pub(super) timeout: Option<u64>,
    /// When to pull the engine image (`missing`, `always`, `never`); the engine's setting when
    /// absent.
    #[serde(default)]
    pub(super) pull: Option<PullPolicy>,
    /// The Swarm node to run on (Swarm runtime only).
    #[serde(default)]
    pub(super) node: Option<String>,
}

/// A start's `timeout` (start and restart bodies): the default when absent.
pub(crate) fn start_timeout(secs: Option<u64>) -> Result<Duration> {
    match secs {
        None => Ok(DEFAULT_START_TIMEOUT),
        Some(secs @ 1..=MAX_START_SECS) => Ok(Duration::from_secs(secs)),
        Some(secs) => Err(Error::usage(format!(
            "timeout {secs} is out of range: give seconds between 1 and {MAX_START_SECS}"
        ))),
    }
}

/// Answers 200 with the running service after `wait`, and 202 with the service still
/// `starting` after a detached start (its engine container runs; health is checked later).
///
/// Runs the start as a tracked task: a client that hangs up does not cut it short (which would
/// leave the row `starting` under a live owner), and shutdown waits for it or interrupts it.
/// No server timeout applies; the start's own `timeout` bounds it.
#[utoipa::path(post, path = "/api/v2/services/{id}/start", operation_id = "startService",
    summary = "Start the service's engine container.", params(Id),
    description = "With `wait`, answers 200 once the engine is healthy; else 202 once its container runs (follow /api/v2/events or poll the service). Its steps (and pull progress) are sent to the event streams opened with `steps=true` while it runs. A client that hangs up does not cut the start short.",
    request_body(content = Option<StartRequest>, description = "Optional; absent: a detached start with the default timeout"),
    responses(
        (status = 200, description = "Started and healthy (wait was true)", body = ServiceDetail),
        (status = 202, description = "Container started, health not yet known (wait was false)", body = ServiceDetail),
        (status = 400, description = "Invalid body", body = ErrorBodyDoc),
        (status = 403, description = "Another user's service", body = ErrorBodyDoc),
        (status = 404, description = "No such service", body = ErrorBodyDoc),
        (status = 403, description = "Past the owner's quota (quota_exceeded)", body = ErrorBodyDoc),
        (status = 409, description = "Busy, or its port or GPU is in use", body = ErrorBodyDoc),
        (status = 502, description = "The engine failed to start", body = ErrorBodyDoc),
        (status = 503, description = "Docker unavailable, or the daemon is shutting down", body = ErrorBodyDoc),
        (status = 504, description = "Not healthy within the timeout", body = ErrorBodyDoc),
        (status = 507, description = "A disk is full", body = ErrorBodyDoc),
    ))]
pub(crate) async fn start(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    OptionalJsonBody(req): OptionalJsonBody<StartRequest>,
) -> ApiResult<(StatusCode, Json<ServiceDetail>)> {
    launch(state, actor, id, req, Launch::Start).await
}

/// What the start and restart routes launch.
pub(crate) enum Launch {
    Start,
    /// A stop first, with the restart body's `force` and `time`.
    Restart { force: bool, time: Option<u32> },
}

/// The start and restart routes' one course: the service looked up (404 before anything
/// else), the body and the caller's right checked, then one tracked task, which a client
/// hanging up does not cut short and the daemon's shutdown interrupts. Its steps go to the
/// event streams; the end note is sent when the task is over, however it ends.
pub(crate) async fn launch(
    state: ApiState,
    actor: Actor,
    id: String,
    req: StartRequest,
    what: Launch,
) -> ApiResult<(StatusCode, Json<ServiceDetail>)> {
    let store = state.stores.handle_as(&actor).await?;
    let (publish, end) = state.steps.follow(ops::service_id(&store, &id).await?);
    let timeout = start_timeout(req.timeout)?;
    let (verb, stop) = match what {
        Launch::Start => ("start", None),
        Launch::Restart { force, time } => ("restart", Some(StopMode::from_request(force, time)?)),
    };
    access::check_service(&store, &actor, &id, verb).await?;
    let status = if req.wait {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let deps = state.deps_for(&actor);
    let abort = state.abort.clone();
    let task = state.tasks.spawn(async move {
        let _end = end;
        let opts = StartOptions {
            wait: req.wait,
            timeout,
            progress: Some(&publish),
            pull: req.pull,
            node: req.node,
        };
        let interrupt = async move {
            abort.cancelled().await;
            "the daemon shutting down"
        };
        match stop {
            None => ops::start_service(&deps, &store, &id, opts, interrupt).await,
            Some(mode) => ops::restart_service(&deps, &store, &id, mode, opts, interrupt).await,
        }
    });
    let svc = task
        .await
        .map_err(|e| Error::internal(format!("the {verb} task failed")).caused_by(e))??;
    Ok((status, Json(ServiceDetail::of(&state, svc))))
}

#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StopRequest {
    /// Kill the engine instead of stopping it gracefully.
    #[serde(default)]
    force: bool,
    /// Seconds between SIGTERM and SIGKILL (default: the engine's `stop_secs`).
    #[serde(default)]
    time: Option<u32>,
}

#[utoipa::path(post, path = "/api/v2/services/{id}/stop", operation_id = "stopService",
    summary = "Stop a service from any state and remove its containers.", params(Id),
    request_body(content = Option<StopRequest>, description = "Optional; absent: a graceful stop"),
    responses(
        (status = 200, description = "The stopped service, with its effective settings", body = ServiceDetail),
        (status = 400, description = "Invalid body", body = ErrorBodyDoc),
        (status = 403, description = "Another user's service", body = ErrorBodyDoc),
        (status = 404, description = "No such service", body = ErrorBodyDoc),
        (status = 503, description = "Docker unavailable", body = ErrorBodyDoc),
    ))]
pub(crate) async fn stop(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    OptionalJsonBody(req): OptionalJsonBody<StopRequest>,
) -> ApiResult<Json<ServiceDetail>> {
    let mode = StopMode::from_request(req.force, req.time)?;
    let store = state.stores.handle_as(&actor).await?;
    access::check_service(&store, &actor, &id, "stop").await?;
    let stopped = ops::stop_service(&state.deps, &store, &id, mode).await?;
    if !stopped.port_released {
        tracing::warn!(
            service = %stopped.service.id,
            "port {} is still held by something else after the stop",
            stopped.service.port
        );
    }
    Ok(Json(ServiceDetail::of(&state, stopped.service)))
}

/// What `POST /services/prune` answers: the containers it removed, in the CLI's list shape.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct PrunedList {
    items: Vec<Pruned>,
    total: usize,
    /// Orphaned containers left because they are not the caller's: another user's service's,
    /// or a deleted service's (an admin may prune them; the daemon's reaper removes them after
    /// its grace). Always 0 for an admin.
    left: usize,
}

#[utoipa::path(post, path = "/api/v2/services/prune", operation_id = "pruneServices",
    summary = "Remove this data dir's containers that belong to no live service.",
    description = "A user who is not an admin removes only the containers of services they own; the others are counted in `left`.",
    responses(
        (status = 200, description = "The containers removed", body = PrunedList),
        (status = 503, description = "Docker unavailable", body = ErrorBodyDoc),
    ))]
/// `POST /services/prune`, as `aima service prune`: removes this instance's orphaned containers.
pub(crate) async fn prune(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<Json<PrunedList>> {
    let store = state.stores.handle_as(&actor).await?;
    let outcome = ops::prune_services(&state.deps, &store, &actor).await?;
    Ok(Json(PrunedList {
        total: outcome.pruned.len(),
        items: outcome.pruned,
        left: outcome.left,
    }))
}
