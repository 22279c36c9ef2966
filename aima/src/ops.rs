//! The operations behind both the CLI and the HTTP API, with inputs validated once, here.

use std::time::Duration;

use crate::config::Config;
use crate::engine::EngineType;
use crate::error::{Error, Result};
use crate::ids::{ModelId, ServiceId};
use crate::model_path;
use crate::records::{Model, ModelSource, Service};
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
    /// Host address to publish on; the engine's configured `bind` (loopback) when absent.
    #[serde(default)]
    pub bind: Option<std::net::IpAddr>,
}

pub fn create_model(config: &Config, store: &mut Store, req: CreateModel) -> Result<Model> {
    let name = req.name.trim();
    if name.is_empty() {
        return Err(Error::usage("a model needs a non-empty --name"));
    }
    if req.repo.trim().is_empty() {
        return Err(Error::usage("a model needs a non-empty --repo"));
    }
    let path = model_path::for_new_model(req.source, req.path.as_deref(), &config.model_roots)?;
    let model = Model {
        id: ModelId::generate(),
        name: name.to_owned(),
        source: req.source,
        repo: req.repo.trim().to_owned(),
        path,
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
        bind: req.bind.unwrap_or(spec.bind),
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
