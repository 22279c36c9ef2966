//! The operations behind both the CLI and the HTTP API, with inputs validated once, here.

use std::path::Path;
use std::time::Duration;

use crate::engine::EngineType;
use crate::error::{Error, Result};
use crate::ids::{ModelId, ServiceId};
use crate::records::{Model, ModelSource, Service};
use crate::runtime::RuntimeError;
use crate::service::{self, Deps, StartOptions};
use crate::store::{NewService, Store};

pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateModel {
    pub name: String,
    pub source: ModelSource,
    pub repo: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default, rename = "type")]
    pub model_type: Option<String>,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateService {
    pub model_id: String,
    pub engine_type: EngineType,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub name: Option<String>,
}

pub fn create_model(store: &mut Store, req: CreateModel) -> Result<Model> {
    let name = req.name.trim();
    if name.is_empty() {
        return Err(Error::usage("a model needs a non-empty --name"));
    }
    if req.repo.trim().is_empty() {
        return Err(Error::usage("a model needs a non-empty --repo"));
    }
    if let Some(path) = &req.path
        && !Path::new(path).is_absolute()
    {
        return Err(Error::usage(format!(
            "--path {path} must be an absolute directory"
        )));
    }
    let model = Model {
        id: ModelId::generate(),
        name: name.to_owned(),
        source: req.source,
        repo: req.repo.trim().to_owned(),
        path: req.path,
        model_type: req.model_type.unwrap_or_else(|| "llm".to_owned()),
        status: "registered",
        created_at: crate::clock::now_ms(),
    };
    store.insert_model(&model)?;
    Ok(model)
}

pub fn create_service(deps: &Deps, store: &mut Store, req: CreateService) -> Result<Service> {
    if req.port == Some(0) {
        return Err(Error::usage(
            "port 0 is not a usable port: pick one between 1 and 65535",
        ));
    }
    let model_id = ModelId::parse(&req.model_id)?;
    let spec = deps.config.engine(req.engine_type);
    store.create_service(NewService {
        model_id,
        engine_type: req.engine_type,
        name: req.name,
        port: req.port,
        default_port: spec.default_port,
    })
}

pub async fn list_services(deps: &Deps, store: &mut Store) -> Result<Vec<Service>> {
    service::refresh_all(deps, store).await
}

pub async fn get_service(deps: &Deps, store: &mut Store, id: &str) -> Result<Service> {
    service::refresh(deps, store, &ServiceId::parse(id)?).await
}

pub async fn start_service(
    deps: &Deps,
    store: &mut Store,
    id: &str,
    opts: StartOptions<'_>,
    interrupt: impl std::future::Future<Output = &'static str>,
) -> Result<Service> {
    service::start(deps, store, &ServiceId::parse(id)?, opts, interrupt).await
}

pub async fn stop_service(
    deps: &Deps,
    store: &mut Store,
    id: &str,
    force: bool,
) -> Result<service::Stopped> {
    service::stop(deps, store, &ServiceId::parse(id)?, force).await
}

pub async fn delete_service(deps: &Deps, store: &mut Store, id: &str) -> Result<Service> {
    let svc = service::refresh(deps, store, &ServiceId::parse(id)?).await?;
    store.delete_service(&svc.id)
}

/// A container `service prune` removed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Pruned {
    pub container_id: String,
    pub name: String,
    /// Its `aima.service` label, when it has one.
    pub service: Option<String>,
    pub state: String,
}

/// Removes this data dir's containers that belong to no live service: the daemon's reaper at
/// once, without its grace period. Statuses are made true first; containers of a service that
/// is starting or stopping, other instances' and unlabelled containers are never touched.
pub async fn prune_services(deps: &Deps, store: &mut Store) -> Result<Vec<Pruned>> {
    service::refresh_all(deps, store).await?;
    let rt = deps.docker().await?;
    let instance = &deps.config.instance;
    let docker_error = |e: RuntimeError| {
        service::docker_unavailable(format!("cannot prune containers: {e}"), &rt.address())
    };
    // Containers before services: one created after this list belongs to a start that had
    // already claimed its service as starting, and is not in the list.
    let containers = rt
        .list(&service::selector(None, instance))
        .await
        .map_err(docker_error)?;
    let services = store.list_services()?;
    let mut pruned = Vec::new();
    for c in crate::daemon::orphans(&containers, &services, instance) {
        match rt.stop_and_remove(&c.id, true).await {
            Ok(()) | Err(RuntimeError::NoSuchContainer(_)) => {}
            Err(e) => return Err(docker_error(e)),
        }
        pruned.push(Pruned {
            container_id: c.id.clone(),
            name: c.name.clone(),
            service: c.labels.get(service::SERVICE).cloned(),
            state: c.state.clone(),
        });
    }
    Ok(pruned)
}
