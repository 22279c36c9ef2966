//! Container labels: how aima knows which containers are its own, per service and data dir.

use std::collections::HashMap;

use crate::config::Config;
use crate::domain::{EngineType, ServiceId};
use crate::runtime::{ContainerInfo, Runtime, RuntimeResult};

pub const MANAGED: &str = "aima.managed";
pub const ENGINE: &str = "aima.engine";
pub const SERVICE: &str = "aima.service";
pub const INSTANCE: &str = "aima.instance";

pub fn labels_for(
    service: &ServiceId,
    engine: EngineType,
    instance: &str,
) -> HashMap<String, String> {
    HashMap::from([
        (MANAGED.to_owned(), "true".to_owned()),
        (ENGINE.to_owned(), engine.to_string()),
        (SERVICE.to_owned(), service.to_string()),
        (INSTANCE.to_owned(), instance.to_owned()),
    ])
}

/// The containers of one service of this data dir, including those labelled with its legacy
/// instance label (created before the data dir had an id): they are adopted, not orphaned.
pub async fn service_containers(
    rt: &dyn Runtime,
    service: &ServiceId,
    config: &Config,
) -> RuntimeResult<Vec<ContainerInfo>> {
    let filter = [format!("{MANAGED}=true"), format!("{SERVICE}={service}")];
    let found = rt.list(&filter).await?;
    Ok(found
        .into_iter()
        .filter(|c| {
            c.labels
                .get(INSTANCE)
                .is_some_and(|i| config.owns_instance(i))
        })
        .collect())
}

/// Label filters selecting this instance's containers (current id only: the reaper never
/// removes a container by its legacy label), of one service when given.
pub fn selector(service: Option<&ServiceId>, instance: &str) -> Vec<String> {
    let mut labels = vec![format!("{MANAGED}=true"), format!("{INSTANCE}={instance}")];
    if let Some(id) = service {
        labels.push(format!("{SERVICE}={id}"));
    }
    labels
}
