//! `aima export`: the data dir's models and services as an apply file. Secret values are
//! written as `{ stored = true }` references, never as values, so applying the export again
//! keeps them and changes nothing.

use std::collections::BTreeMap;

use super::file::{ApplyFile, EnvValue, FileModel, FileService, SecretRef};
use crate::domain::{Model, Service, Status, size_text};
use crate::error::{Error, Result};

/// The file that describes `models` and `services` as they are.
pub fn export(models: &[Model], services: &[Service]) -> Result<ApplyFile> {
    let mut file = ApplyFile::default();
    let mut model_names = BTreeMap::new();
    for m in models {
        model_names.insert(m.id.to_string(), m.name.clone());
        let entry = FileModel {
            source: m.source.as_str().to_owned(),
            repo: m.repo.clone(),
            path: m.path.clone(),
            model_type: (m.model_type != "llm").then(|| m.model_type.clone()),
        };
        if file.models.insert(m.name.clone(), entry).is_some() {
            return Err(twice("models", &m.name));
        }
    }
    for s in services {
        let env = s
            .settings
            .env
            .iter()
            .map(|v| {
                let value = if v.secret {
                    EnvValue::Secret(SecretRef {
                        from_env: None,
                        stored: true,
                    })
                } else {
                    EnvValue::Text(v.value.clone())
                };
                (v.key.clone(), value)
            })
            .collect();
        let state = match (s.status, s.desired) {
            (Status::Running | Status::Starting, _) => Some("running"),
            (_, crate::domain::Desired::Running) => None,
            _ => Some("stopped"),
        };
        let entry = FileService {
            model: model_names
                .get(&s.model_id.to_string())
                .cloned()
                .unwrap_or_default(),
            engine: s.engine_type.as_str().to_owned(),
            port: Some(s.port.get()),
            bind: Some(s.bind.to_string()),
            gpus: s.gpus.as_ref().map(ToString::to_string),
            memory: s.memory_bytes.map(size_text),
            restart: Some(s.restart.text()),
            image: s.settings.image.clone(),
            args: s.settings.args.clone(),
            env,
            shm_size: s.settings.shm_bytes.map(size_text),
            state: state.map(str::to_owned),
        };
        if file.services.insert(s.name.clone(), entry).is_some() {
            return Err(twice("services", &s.name));
        }
    }
    Ok(file)
}

fn twice(kind: &str, name: &str) -> Error {
    Error::usage(format!(
        "the data dir has several {kind} named {name}: an apply file names each once"
    ))
    .with_help("rename or delete the others (aima service list / model list), then export again")
}
