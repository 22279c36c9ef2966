//! Engine caches: one named Docker volume per engine type and data dir, where the engine keeps
//! what it downloads (Hugging Face's cache for vLLM and llama.cpp `-hf`, Ollama's model store).
//! Every container of that engine mounts it, so a restart finds the model already there; it is
//! removed only by `aima cache rm ENGINE`.

use std::collections::HashMap;

use serde::Serialize;

use super::Deps;
use super::labels::{INSTANCE, MANAGED};
use crate::domain::{EngineSpec, EngineType, Status};
use crate::error::{Error, Kind, Result};
use crate::runtime::{CacheVolume, RuntimeError};
use crate::store::StoreHandle;

/// The label naming the engine type whose cache a volume is.
pub const CACHE: &str = "aima.cache";

/// The cache volume every container of `spec`'s engine mounts.
pub fn volume_for(spec: &EngineSpec, instance: &str) -> CacheVolume {
    let engine = spec.engine;
    CacheVolume {
        name: volume_name(engine, instance),
        target: spec.cache().target.to_owned(),
        labels: HashMap::from([
            (MANAGED.to_owned(), "true".to_owned()),
            (CACHE.to_owned(), engine.to_string()),
            (INSTANCE.to_owned(), instance.to_owned()),
        ]),
    }
}

pub fn volume_name(engine: EngineType, instance: &str) -> String {
    format!("aima-cache-{engine}-{instance}")
}

/// One engine cache as `aima cache list` shows it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CacheInfo {
    pub engine: EngineType,
    pub volume: String,
    /// Where the engine sees it inside its containers.
    pub target: String,
    /// Where its data lives on the Docker host.
    pub mountpoint: String,
}

/// This data dir's engine caches that exist (an engine's is created by its first start).
pub async fn list(deps: &Deps) -> Result<Vec<CacheInfo>> {
    let rt = deps.docker().await?;
    let labels = [
        format!("{MANAGED}=true"),
        format!("{INSTANCE}={}", deps.config.instance),
    ];
    let volumes = rt
        .list_volumes(&labels)
        .await
        .map_err(|e| Error::from(e).within("cannot list engine caches"))?;
    Ok(volumes
        .into_iter()
        .filter_map(|v| {
            let engine = EngineType::parse(v.labels.get(CACHE)?)?;
            Some(CacheInfo {
                engine,
                target: deps.config.engine(engine).cache().target.to_owned(),
                volume: v.name,
                mountpoint: v.mountpoint,
            })
        })
        .collect())
}

/// Removes `engine`'s cache: refused while a service of that engine is starting or running,
/// since its container has the volume mounted.
pub async fn remove(deps: &Deps, store: &StoreHandle, engine: EngineType) -> Result<String> {
    super::refresh_all(deps, store).await?;
    let busy: Vec<String> = store
        .list_services()
        .await?
        .into_iter()
        .filter(|s| {
            s.engine_type == engine && matches!(s.status, Status::Starting | Status::Running)
        })
        .map(|s| s.id.to_string())
        .collect();
    if !busy.is_empty() {
        return Err(Error::conflict(format!(
            "the {engine} cache is in use by service(s) {}",
            busy.join(", ")
        ))
        .with_help("stop those services first (`aima service stop ID`)"));
    }
    let rt = deps.docker().await?;
    let name = volume_name(engine, &deps.config.instance);
    match rt.remove_volume(&name).await {
        Ok(()) => Ok(name),
        Err(RuntimeError::Api { status: 404, .. }) => Err(Error::new(
            Kind::NotFound,
            format!("there is no {engine} cache (volume {name}) to remove"),
        )
        .with_help("`aima cache list` shows the caches that exist")),
        Err(RuntimeError::Api {
            status: 409, cause, ..
        }) => Err(
            Error::conflict(format!("Docker refused to remove volume {name}"))
                .caused_by(cause)
                .with_help("a container still uses it: stop the services of this engine first"),
        ),
        Err(e) => Err(Error::from(e).within(format!("cannot remove volume {name}"))),
    }
}
