//! Container labels: how aima knows which containers are its own, per service and data dir.

use std::collections::HashMap;

use crate::domain::{EngineType, ServiceId};

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

/// Label filters selecting this instance's containers, of one service when given.
pub fn selector(service: Option<&ServiceId>, instance: &str) -> Vec<String> {
    let mut labels = vec![format!("{MANAGED}=true"), format!("{INSTANCE}={instance}")];
    if let Some(id) = service {
        labels.push(format!("{SERVICE}={id}"));
    }
    labels
}
