//! Service routes: list, create, show, delete, start and stop; the request bodies they take.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::ApiState;
use super::body::{JsonBody, OptionalJsonBody, StrictQuery};
use super::error::ApiResult;
use super::paging::{Page, PageQuery, unknown_cursor};
use crate::domain::{EngineType, PullPolicy, Service};
use crate::error::{Error, Result};
use crate::lifecycle::{StartOptions, StopMode};
use crate::ops::{self, CreateService, DEFAULT_START_TIMEOUT, Pruned};

/// The body of `POST /services`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateServiceBody {
    model_id: String,
    engine_type: EngineType,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    name: Option<String>,
    /// Host address to publish on, as `--bind`.
    #[serde(default)]
    bind: Option<std::net::IpAddr>,
    /// GPUs, as `--gpus`.
    #[serde(default)]
    gpus: Option<String>,
    /// Memory limit, as `--memory`.
    #[serde(default)]
    memory: Option<String>,
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
        }
    }
}

/// The longest start a request may ask for, as `service start --timeout` allows.
const MAX_START_SECS: u64 = 86_400;

/// A page of services, each refreshed (the services of other pages are refreshed when their
/// page is read, and by the reconciler); see [`super::paging`].
pub(crate) async fn list(
    State(state): State<ApiState>,
    StrictQuery(q): StrictQuery<PageQuery>,
) -> ApiResult<Json<Page<Service>>> {
    let limit = q.limit()?;
    let store = state.stores.handle().await?;
    let after = q.after();
    let (services, total) =
        ops::refresh_and_list_services_after(&state.deps, &store, after, limit + 1)
            .await?
            .ok_or_else(|| unknown_cursor(after.unwrap_or_default()))?;
    Ok(Json(Page::fetched(services, limit, total, |s| {
        s.id.as_str()
    })))
}

pub(crate) async fn create(
    State(state): State<ApiState>,
    JsonBody(body): JsonBody<CreateServiceBody>,
) -> ApiResult<(StatusCode, Json<Service>)> {
    let deps = state.deps.clone();
    let svc = state
        .with_store(move |store| ops::create_service(&deps, store, body.into()))
        .await?;
    Ok((StatusCode::CREATED, Json(svc)))
}

pub(crate) async fn get(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Service>> {
    let store = state.stores.handle().await?;
    Ok(Json(
        ops::refresh_and_get_service(&state.deps, &store, &id).await?,
    ))
}

pub(crate) async fn delete(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Service>> {
    let store = state.stores.handle().await?;
    Ok(Json(ops::delete_service(&state.deps, &store, &id).await?))
}

/// The body of `POST /services/{id}/start`; absent means a detached start with the default
/// timeout, as `aima service start ID`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartRequest {
    #[serde(default)]
    wait: bool,
    /// Seconds the whole start may take.
    #[serde(default)]
    timeout: Option<u64>,
    /// When to pull the engine image (`missing`, `always`, `never`); the engine's setting when
    /// absent.
    #[serde(default)]
    pull: Option<PullPolicy>,
    /// The Swarm node to run on (Swarm runtime only).
    #[serde(default)]
    node: Option<String>,
}

impl StartRequest {
    fn timeout(&self) -> Result<Duration> {
        match self.timeout {
            None => Ok(DEFAULT_START_TIMEOUT),
            Some(secs @ 1..=MAX_START_SECS) => Ok(Duration::from_secs(secs)),
            Some(secs) => Err(Error::usage(format!(
                "timeout {secs} is out of range: give seconds between 1 and {MAX_START_SECS}"
            ))),
        }
    }
}

/// Answers 200 with the running service after `wait`, and 202 with the service still
/// `starting` after a detached start (its engine container runs; health is checked later).
///
/// Runs the start as a tracked task: a client that hangs up does not cut it short (which would
/// leave the row `starting` under a live owner), and shutdown waits for it or interrupts it.
/// No server timeout applies; the start's own `timeout` bounds it.
pub(crate) async fn start(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    OptionalJsonBody(req): OptionalJsonBody<StartRequest>,
) -> ApiResult<(StatusCode, Json<Service>)> {
    let timeout = req.timeout()?;
    let status = if req.wait {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let deps = state.deps.clone();
    let stores = state.stores.clone();
    let abort = state.abort.clone();
    let task = state.tasks.spawn(async move {
        let store = stores.handle().await?;
        let opts = StartOptions {
            wait: req.wait,
            timeout,
            progress: None,
            pull: req.pull,
            node: req.node,
        };
        let interrupt = async move {
            abort.cancelled().await;
            "the daemon shutting down"
        };
        ops::start_service(&deps, &store, &id, opts, interrupt).await
    });
    let svc = task
        .await
        .map_err(|e| Error::internal("the start task failed").caused_by(e))??;
    Ok((status, Json(svc)))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StopRequest {
    /// Kill the engine instead of stopping it gracefully.
    #[serde(default)]
    force: bool,
    /// Seconds between SIGTERM and SIGKILL (default: the engine's `stop_secs`).
    #[serde(default)]
    time: Option<u32>,
}

pub(crate) async fn stop(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    OptionalJsonBody(req): OptionalJsonBody<StopRequest>,
) -> ApiResult<Json<Service>> {
    let mode = StopMode::from_request(req.force, req.time)?;
    let store = state.stores.handle().await?;
    let stopped = ops::stop_service(&state.deps, &store, &id, mode).await?;
    if !stopped.port_released {
        tracing::warn!(
            service = %stopped.service.id,
            "port {} is still held by something else after the stop",
            stopped.service.port
        );
    }
    Ok(Json(stopped.service))
}

/// What `POST /services/prune` answers: the containers it removed, in the CLI's list shape.
#[derive(serde::Serialize)]
pub(crate) struct PrunedList {
    items: Vec<Pruned>,
    total: usize,
}

/// `POST /services/prune`, as `aima service prune`: removes this instance's orphaned containers.
pub(crate) async fn prune(State(state): State<ApiState>) -> ApiResult<Json<PrunedList>> {
    let store = state.stores.handle().await?;
    let items = ops::prune_services(&state.deps, &store).await?;
    Ok(Json(PrunedList {
        total: items.len(),
        items,
    }))
}
