//! The operations behind both front ends, the CLI and the HTTP API: every model and service
//! command goes through here, with its inputs validated once, here.
//!
//! Reads of services refresh them first (`refresh_and_*`): a service whose start process died
//! or whose engine exited is marked failed, and its containers are removed, by whoever looks.

pub mod access;
pub mod apply;
mod chat;
pub mod settings;
pub mod tokens;
pub(crate) mod update;

use std::time::Duration;

pub use chat::{ChatAnswer, ChatRequest, chat};
pub use events::{EventsRequest, list_events};

use crate::config::Config;
use crate::domain::{
    Actor, ContainerId, EngineType, HostPort, Model, ModelId, ModelSource, Service, ServiceId,
    Status, check_text,
};
use crate::error::{Error, Result};
use crate::host::model_dir;
use crate::lifecycle::labels::{SERVICE, selector};
use crate::lifecycle::{self, Deps, StartOptions, StopMode, Stopped, Trust};
use crate::runtime::RuntimeError;
use crate::store::{NewService, ServiceEvent, Store, StoreHandle};

mod events;
mod logs;
pub(crate) mod quota;
mod resolve;

pub use logs::{LogLines, LogSource, LogsRequest};
pub use update::{Effect, FieldChange, UpdateService, Updated, update_service};

pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(300);

/// What `model create` asks for.
#[derive(Debug, Clone)]
pub struct CreateModel {
    pub name: String,
    pub source: ModelSource,
    pub repo: String,
    pub path: Option<String>,
    /// `llm` when absent.
    pub model_type: Option<String>,
}

/// What `service create` asks for; the model id is checked here.
#[derive(Debug, Clone)]
pub struct CreateService {
    pub model_id: String,
    pub engine_type: EngineType,
    pub port: Option<u16>,
    pub name: Option<String>,
    /// Host address to publish on; the engine's configured `bind` (loopback) when absent.
    pub bind: Option<std::net::IpAddr>,
    /// The GPUs its engine gets (`all`, `none`, `count=N`, `0,1`); the engine's default when
    /// absent.
    pub gpus: Option<String>,
    /// Its container's memory limit (`64m`, `2g`); the engine's limit when absent.
    pub memory: Option<String>,
    /// Restart policy in Docker's words (`no`, `on-failure[:N]`, `always`, `unless-stopped`);
    /// the engine's `restart` setting when absent.
    pub restart: Option<String>,
    /// Its own image, arguments, environment and `/dev/shm` size; the engine's when absent.
    pub settings: settings::SettingsRequest,
}

/// `value` of `flag` as a name or repository may be (see [`check_text`]), or a usage error.
fn printable(flag: &str, value: &str) -> Result<()> {
    check_text(value).map_err(|why| {
        // At most 64 characters of it: the refused text may be huge.
        let shown: String = value.chars().take(64).collect();
        let cut = if shown.len() < value.len() { "…" } else { "" };
        Error::usage(format!("bad {flag} {shown:?}{cut}: {why}"))
            .with_help("names, repositories and types are printable text of at most 256 bytes")
    })
}

pub fn create_model(config: &Config, store: &mut Store, req: CreateModel) -> Result<Model> {
    let name = req.name.trim();
    if name.is_empty() {
        return Err(Error::usage("a model needs a non-empty --name"));
    }
    if req.repo.trim().is_empty() {
        return Err(Error::usage("a model needs a non-empty --repo"));
    }
    printable("--name", &req.name)?;
    printable("--repo", &req.repo)?;
    if let Some(model_type) = &req.model_type {
        printable("--type", model_type)?;
    }
    let path = model_dir::for_new_model(req.source, req.path.as_deref(), &config.model_roots)?;
    let model = Model {
        id: ModelId::generate(),
        name: name.to_owned(),
        source: req.source,
        repo: req.repo.trim().to_owned(),
        path,
        model_type: req.model_type.unwrap_or_else(|| "llm".to_owned()),
        status: "registered",
        created_at: crate::clock::now_ms(),
        created_by: store.acting().map(str::to_owned),
    };
    store.insert_model(&model)?;
    Ok(model)
}

/// Models, oldest first.
pub fn list_models(store: &Store) -> Result<Vec<Model>> {
    store.list_models()
}

/// Up to `limit` models after the one with id `after`, oldest first, and the count of all;
/// `None` when `after` names no model.
pub fn list_models_after(
    store: &Store,
    after: Option<&str>,
    limit: usize,
) -> Result<Option<(Vec<Model>, usize)>> {
    let after = match after.map(ModelId::parse).transpose() {
        Ok(after) => after,
        // Not even an id: it names no model.
        Err(_) => return Ok(None),
    };
    store.models_after(after.as_ref(), limit)
}

pub fn get_model(store: &Store, id: &str) -> Result<Model> {
    store.get_model(&resolve::model(store, id)?)
}

/// Refused while services use the model; `force` deletes those services too, unless one of
/// them is starting or running.
pub fn delete_model(store: &mut Store, id: &str, force: bool) -> Result<Model> {
    let id = resolve::model(store, id)?;
    store.delete_model(&id, force)
}

pub fn create_service(deps: &Deps, store: &mut Store, req: CreateService) -> Result<Service> {
    if req.port == Some(0) {
        return Err(Error::usage(
            "port 0 is not a usable port: pick one between 1 and 65535",
        ));
    }
    if let Some(name) = &req.name {
        printable("--name", name)?;
    }
    let spec = deps.config.engine(req.engine_type);
    let gpus = match req.gpus.as_deref() {
        Some(text) => update::gpus_of(text)?,
        None => spec.default_gpus(),
    };
    let memory_bytes = req.memory.as_deref().map(update::memory_of).transpose()?;
    let restart = match req.restart.as_deref() {
        Some(text) => update::restart_of(text)?,
        None => spec.restart,
    };
    let settings = settings::merged(req.engine_type, &Default::default(), &req.settings)?;
    let model_id = resolve::model(store, &req.model_id)?;
    // An engine that cannot load this model is refused now, not at its first start. A model
    // that does not exist is left to the store, which says so in its own words.
    if let Ok(model) = store.get_model(&model_id) {
        lifecycle::model_ref::resolve(req.engine_type, &model, &deps.config.model_roots)?;
    }
    let port = req
        .port
        .map(|p| {
            HostPort::new(p)
                .ok_or_else(|| Error::usage("port 0 is no host port: choose one of 1-65535"))
        })
        .transpose()?;
    let port_range = quota::ports_at_create(deps, port, req.name.as_deref())?;
    store.create_service(NewService {
        model_id,
        engine_type: req.engine_type,
        name: req.name,
        port,
        default_port: spec.default_port,
        port_range,
        bind: req.bind.unwrap_or(spec.bind),
        gpus,
        memory_bytes,
        restart,
        settings,
    })
}

/// Services, oldest first, each refreshed against Docker (may fail them, remove containers);
/// only those in `status` when given (filtered after the refresh, so the status is current).
pub async fn refresh_and_list_services(
    deps: &Deps,
    store: &StoreHandle,
    status: Option<Status>,
) -> Result<Vec<Service>> {
    let mut services = lifecycle::refresh_all(deps, store).await?;
    services.retain(|s| status.is_none_or(|st| s.status == st));
    Ok(services)
}

/// Up to `limit` services created after `after` (from the start without it), oldest first,
/// each refreshed against Docker as [`refresh_and_list_services`] does, and how many services
/// there are in all; `None` when `after` names no service.
pub async fn refresh_and_list_services_after(
    deps: &Deps,
    store: &StoreHandle,
    after: Option<&str>,
    limit: usize,
    trust: Trust,
) -> Result<Option<(Vec<Service>, usize)>> {
    let after = match after.map(ServiceId::parse).transpose() {
        Ok(after) => after,
        Err(_) => return Ok(None),
    };
    let page = store.call(move |s| s.services_after(after.as_ref(), limit));
    let Some((page, total)) = page.await? else {
        return Ok(None);
    };
    let page = lifecycle::refresh_each_trusting(deps, store, page, trust).await?;
    Ok(Some((page, total)))
}

/// As [`refresh_and_list_services_after`], of the services in `status` only (`service list
/// --status`): every service is refreshed first, since a status is only true once refreshed.
/// `total` counts the services in that status; `after` may name a service in any status.
pub async fn refresh_and_list_services_in_after(
    deps: &Deps,
    store: &StoreHandle,
    status: Status,
    after: Option<&str>,
    limit: usize,
    trust: Trust,
) -> Result<Option<(Vec<Service>, usize)>> {
    let all = store.list_services().await?;
    let all = lifecycle::refresh_each_trusting(deps, store, all, trust).await?;
    let skip = match after {
        None => 0,
        Some(after) => match all.iter().position(|s| s.id.as_str() == after) {
            Some(at) => at + 1,
            None => return Ok(None),
        },
    };
    let total = all.iter().filter(|s| s.status == status).count();
    let page = all
        .into_iter()
        .skip(skip)
        .filter(|s| s.status == status)
        .take(limit)
        .collect();
    Ok(Some((page, total)))
}

/// Services as recorded, oldest first, without asking Docker: for read-only views (the status
/// page), which must not change anything; the reconciler keeps the records true.
pub fn list_services_recorded(store: &Store) -> Result<Vec<Service>> {
    store.list_services()
}

/// One service as recorded, without asking Docker (see [`list_services_recorded`]), with its
/// newest `changes` status changes from the change log, newest first.
pub fn get_service_recorded(
    store: &Store,
    id: &str,
    changes: usize,
) -> Result<(Service, Vec<ServiceEvent>)> {
    let svc = store.get_service(&resolve::service(store, id)?)?;
    let events = store.recent_events_of(svc.id.as_str(), changes)?;
    Ok((svc, events))
}

/// One service as recorded (see [`list_services_recorded`]), named by id, name or id prefix.
pub(crate) async fn get_service_recorded_by(store: &StoreHandle, given: &str) -> Result<Service> {
    let id = service_id(store, given).await?;
    store.get_service(&id).await
}

/// One service, refreshed against Docker (may fail it and remove its containers).
pub async fn refresh_and_get_service(
    deps: &Deps,
    store: &StoreHandle,
    id: &str,
) -> Result<Service> {
    refresh_and_get_service_trusting(deps, store, id, Trust::Nothing).await
}

/// As [`refresh_and_get_service`], taking what `trust` allows as recorded (the daemon's reads
/// while Docker's event stream keeps running services' records true).
pub(crate) async fn refresh_and_get_service_trusting(
    deps: &Deps,
    store: &StoreHandle,
    id: &str,
    trust: Trust,
) -> Result<Service> {
    lifecycle::refresh_trusting(deps, store, &service_id(store, id).await?, trust).await
}

/// One service as recorded, named by id, name or id prefix, in one call of the store: what a
/// read serves when `trust` allows it; `None` when the service needs a look
/// ([`refresh_and_get_service_trusting`] then).
pub(crate) fn get_service_trusted(
    store: &Store,
    id: &str,
    trust: Trust,
) -> Result<Option<Service>> {
    let svc = store.get_service(&resolve::service(store, id)?)?;
    Ok((!lifecycle::needs_a_look(&svc, trust)).then_some(svc))
}

/// The service `given` (an id, a name or an id prefix) names.
pub(crate) async fn service_id(store: &StoreHandle, given: &str) -> Result<ServiceId> {
    let given = given.to_owned();
    store.call(move |s| resolve::service(s, &given)).await
}

pub async fn start_service(
    deps: &Deps,
    store: &StoreHandle,
    id: &str,
    opts: StartOptions<'_>,
    interrupt: impl std::future::Future<Output = &'static str>,
) -> Result<Service> {
    lifecycle::start(deps, store, &service_id(store, id).await?, opts, interrupt).await
}

pub async fn stop_service(
    deps: &Deps,
    store: &StoreHandle,
    id: &str,
    mode: StopMode,
) -> Result<Stopped> {
    lifecycle::stop(deps, store, &service_id(store, id).await?, mode).await
}

/// `stop` (from any state, all containers removed, port released) and then `start`, with the
/// guarantees of each: a start that fails leaves the service `failed` and no container behind.
pub async fn restart_service(
    deps: &Deps,
    store: &StoreHandle,
    id: &str,
    mode: StopMode,
    opts: StartOptions<'_>,
    interrupt: impl std::future::Future<Output = &'static str>,
) -> Result<Service> {
    let id = service_id(store, id).await?;
    // A port still held after the stop fails the start's preflight, which names the holder.
    lifecycle::stop(deps, store, &id, mode).await?;
    lifecycle::start(deps, store, &id, opts, interrupt).await
}

/// The service's engine logs into `sink` (see [`LogsRequest`]); says where they came from.
pub async fn service_logs(
    deps: &Deps,
    store: &StoreHandle,
    id: &str,
    req: LogsRequest,
    sink: &mut (dyn FnMut(String) + Send),
) -> Result<LogSource> {
    let svc = store.get_service(&service_id(store, id).await?).await?;
    logs::logs(deps, &svc, req, sink).await
}

/// Refreshes first, so a service whose engine is gone can be deleted at once.
pub async fn delete_service(deps: &Deps, store: &StoreHandle, id: &str) -> Result<Service> {
    let svc = lifecycle::refresh(deps, store, &service_id(store, id).await?).await?;
    store.delete_service(&svc.id).await
}

/// A container `service prune` removed.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct Pruned {
    #[schema(value_type = String)]
    pub(crate) container_id: ContainerId,
    pub(crate) name: String,
    /// Its `aima.service` label, when it has one.
    pub(crate) service: Option<String>,
    pub(crate) state: String,
}

/// What `service prune` did: the containers it removed, and how many orphans it left because
/// they are not the caller's (another user's service, or a deleted one's: an admin's to prune,
/// or the daemon's reaper's after its grace).
#[derive(Debug, Default)]
pub(crate) struct PruneOutcome {
    pub(crate) pruned: Vec<Pruned>,
    pub(crate) left: usize,
}

/// Removes this data dir's containers that belong to no live service: the daemon's reaper at
/// once, without its grace period. Statuses are made true first; containers of a service that
/// is starting or stopping, other instances' and unlabelled containers are never touched. A
/// user who is not an admin prunes only the containers of services they own.
pub(crate) async fn prune_services(
    deps: &Deps,
    store: &StoreHandle,
    actor: &Actor,
) -> Result<PruneOutcome> {
    lifecycle::refresh_all(deps, store).await?;
    let rt = deps.docker().await?;
    let instance = &deps.config.instance;
    let docker_error = |e: RuntimeError| Error::from(e).within("cannot prune containers");
    // Containers before services: one created after this list belongs to a start that had
    // already claimed its service as starting, and is not in the list.
    let containers = rt
        .list(&selector(None, instance))
        .await
        .map_err(docker_error)?;
    let services = store.list_services().await?;
    let mut outcome = PruneOutcome::default();
    for c in lifecycle::orphans::orphans(&containers, &services, instance) {
        let owner = c
            .labels
            .get(SERVICE)
            .and_then(|id| services.iter().find(|s| s.id.as_str() == id))
            .and_then(|s| s.created_by.as_deref());
        if !actor.admin && !owner.is_some_and(|o| actor.is_or_admin(o)) {
            outcome.left += 1;
            continue;
        }
        match rt.stop_and_remove(&c.id, true).await {
            Ok(()) | Err(RuntimeError::NoSuchContainer(_)) => {}
            Err(e) => return Err(docker_error(e)),
        }
        outcome.pruned.push(Pruned {
            container_id: c.id.clone(),
            name: c.name.clone(),
            service: c.labels.get(SERVICE).cloned(),
            state: c.state.clone(),
        });
    }
    Ok(outcome)
}

/// This data dir's engine caches (named volumes) that exist.
pub async fn list_caches(deps: &Deps) -> Result<Vec<lifecycle::cache::CacheInfo>> {
    lifecycle::cache::list(deps).await
}

/// Removes one engine's cache; refused while a service of that engine is starting or running.
pub async fn remove_cache(deps: &Deps, store: &StoreHandle, engine: EngineType) -> Result<String> {
    lifecycle::cache::remove(deps, store, engine).await
}
