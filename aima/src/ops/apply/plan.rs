//! The plan: what the file asks for compared with what the store holds, step by step —
//! create, update (each field old → new), start, restart, stop, delete (only with prune),
//! unchanged. Pure: it reads the records it is given and changes nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::file::{EnvValue, FileService, Parsed, Wanted, wanted};
use crate::config::Config;
use crate::domain::{EngineType, Model, Service, Status};
use crate::error::Result;
use crate::ops::settings::SettingsRequest;
use crate::ops::update::{
    FieldChange, UpdateService, configured, diff, gpus_of, memory_of, restart_of,
};
use crate::ops::{CreateModel, CreateService};
use crate::store::ServiceConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Start,
    /// Stop and start again, so a running engine takes its new configuration.
    Restart,
    Stop,
    Delete,
    Unchanged,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Start => "start",
            Action::Restart => "restart",
            Action::Stop => "stop",
            Action::Delete => "delete",
            Action::Unchanged => "unchanged",
        }
    }
}

/// One step of a plan, as shown.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Step {
    pub action: Action,
    /// `model` or `service`.
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    #[serde(skip)]
    pub(crate) work: Work,
}

/// What carrying a step out does.
#[derive(Debug, Clone, Default)]
pub(crate) enum Work {
    #[default]
    Nothing,
    CreateModel(CreateModel),
    CreateService(Box<CreateService>),
    UpdateService(String, Box<UpdateService>),
    Start(String),
    Restart(String),
    Stop(String),
    DeleteService(String),
    DeleteModel(String),
}

/// The steps, in the order they run.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    /// Whether carrying it out would change anything.
    pub fn changes_anything(&self) -> bool {
        self.steps.iter().any(|s| s.action != Action::Unchanged)
    }
}

/// The records the plan compares against.
pub struct Current<'a> {
    pub models: &'a [Model],
    pub services: &'a [Service],
}

/// The plan for `parsed` against `now`; `prune` adds deletes of what the file does not name.
/// Errors name the file, line and key; nothing is changed either way.
pub fn plan(config: &Config, parsed: &Parsed, now: &Current<'_>, prune: bool) -> Result<Plan> {
    let file = &parsed.file;
    let mut steps = Vec::new();
    let mut starts = Vec::new();
    let models_by_name = unique(
        now.models.iter().map(|m| (m.name.as_str(), m)),
        parsed,
        "models",
    )?;
    let services_by_name = unique(
        now.services.iter().map(|s| (s.name.as_str(), s)),
        parsed,
        "services",
    )?;
    for (name, fm) in &file.models {
        let table = format!("models.{name}");
        match models_by_name.get(name.as_str()) {
            Some(m) => {
                let same = m.source.as_str() == fm.source
                    && m.repo == fm.repo
                    && m.path == fm.path
                    && fm.model_type.as_ref().is_none_or(|t| *t == m.model_type);
                if !same {
                    return Err(parsed.place(&table, "").error(format!(
                        "model {} ({}) has another source, repo or path: a model cannot change",
                        name, m.id
                    )));
                }
                steps.push(step(Action::Unchanged, "model", name, Work::Nothing));
            }
            None => steps.push(step(
                Action::Create,
                "model",
                name,
                Work::CreateModel(CreateModel {
                    name: name.clone(),
                    source: crate::domain::ModelSource::parse(&fm.source)
                        .expect("checked when the file was read"),
                    repo: fm.repo.clone(),
                    path: fm.path.clone(),
                    model_type: fm.model_type.clone(),
                }),
            )),
        }
    }
    for (name, fs) in &file.services {
        let table = format!("services.{name}");
        let engine = EngineType::parse(&fs.engine).expect("checked when the file was read");
        if !file.models.contains_key(&fs.model) && !models_by_name.contains_key(fs.model.as_str()) {
            return Err(parsed.place(&table, "model").error(format!(
                "no model {:?}: add [models.{}] to the file, or register it first",
                fs.model, fs.model
            )));
        }
        let want = fs.state.as_deref().and_then(wanted);
        match services_by_name.get(name.as_str()) {
            None => {
                let req = new_service(name, engine, fs, parsed)?;
                steps.push(step(
                    Action::Create,
                    "service",
                    name,
                    Work::CreateService(Box::new(req)),
                ));
                if want == Some(Wanted::Running) {
                    starts.push(step(
                        Action::Start,
                        "service",
                        name,
                        Work::Start(name.clone()),
                    ));
                }
            }
            Some(svc) => {
                let model_name = now
                    .models
                    .iter()
                    .find(|m| m.id == svc.model_id)
                    .map_or("", |m| m.name.as_str());
                if svc.engine_type != engine || model_name != fs.model {
                    return Err(parsed.place(&table, "").error(format!(
                        "service {name} ({}) serves {model_name} on {}: its model and engine cannot change",
                        svc.id, svc.engine_type
                    ))
                    .with_help("give the new one another name, or delete this service first"));
                }
                let req = changed_service(svc, fs, parsed, &table)?;
                let new = configured(config, svc, &req)
                    .map_err(|e| parsed.place(&table, "").error(e.message))?;
                let changes = diff(&ServiceConfig::of(svc), &new);
                let runs = matches!(svc.status, Status::Running | Status::Starting);
                let mut acted = false;
                if !changes.is_empty() {
                    steps.push(Step {
                        changes,
                        ..step(
                            Action::Update,
                            "service",
                            name,
                            Work::UpdateService(svc.id.to_string(), Box::new(req)),
                        )
                    });
                    acted = true;
                    if runs && want != Some(Wanted::Stopped) {
                        starts.push(step(
                            Action::Restart,
                            "service",
                            name,
                            Work::Restart(svc.id.to_string()),
                        ));
                    }
                }
                match want {
                    Some(Wanted::Running) if !runs => {
                        starts.push(step(
                            Action::Start,
                            "service",
                            name,
                            Work::Start(svc.id.to_string()),
                        ));
                        acted = true;
                    }
                    Some(Wanted::Stopped) if Status::BUSY.contains(&svc.status) => {
                        starts.push(step(
                            Action::Stop,
                            "service",
                            name,
                            Work::Stop(svc.id.to_string()),
                        ));
                        acted = true;
                    }
                    _ => {}
                }
                if !acted {
                    steps.push(step(Action::Unchanged, "service", name, Work::Nothing));
                }
            }
        }
    }
    steps.extend(starts);
    if prune {
        for svc in now.services {
            if !file.services.contains_key(&svc.name) {
                if Status::BUSY.contains(&svc.status) {
                    let stop = Work::Stop(svc.id.to_string());
                    steps.push(step(Action::Stop, "service", &svc.name, stop));
                }
                let delete = Work::DeleteService(svc.id.to_string());
                steps.push(step(Action::Delete, "service", &svc.name, delete));
            }
        }
        for m in now.models {
            if !file.models.contains_key(&m.name) {
                let delete = Work::DeleteModel(m.id.to_string());
                steps.push(step(Action::Delete, "model", &m.name, delete));
            }
        }
    }
    Ok(Plan { steps })
}

fn step(action: Action, kind: &'static str, name: &str, work: Work) -> Step {
    Step {
        action,
        kind: kind.to_owned(),
        name: name.to_owned(),
        changes: Vec::new(),
        work,
    }
}

/// Records by name; a name the file names twice in the store is an error (apply needs to
/// know which one it means).
fn unique<'a, T>(
    records: impl Iterator<Item = (&'a str, &'a T)>,
    parsed: &Parsed,
    kind: &str,
) -> Result<BTreeMap<&'a str, &'a T>> {
    let mut out = BTreeMap::new();
    let mut twice = Vec::new();
    for (name, record) in records {
        if out.insert(name, record).is_some() {
            twice.push(name);
        }
    }
    let named = |name: &&&str| match kind {
        "models" => parsed.file.models.contains_key(**name),
        _ => parsed.file.services.contains_key(**name),
    };
    if let Some(name) = twice.iter().find(named) {
        return Err(parsed
            .place(&format!("{kind}.{name}"), "")
            .error(format!(
                "the data dir has several {kind} named {name}: apply needs one"
            ))
            .with_help("rename or delete the others, then apply again"));
    }
    Ok(out)
}

/// `KEY`, `VALUE` pairs.
type EnvPairs = Vec<(String, String)>;

/// The environment of a file's service: text, values of apply's environment (secret) and
/// stored values of `svc` (as secret as they were).
fn env_of(
    fs: &FileService,
    svc: Option<&Service>,
    parsed: &Parsed,
    table: &str,
) -> Result<(EnvPairs, EnvPairs)> {
    let (mut plain, mut secret) = (Vec::new(), Vec::new());
    for (key, value) in &fs.env {
        match value {
            EnvValue::Text(text) => plain.push((key.clone(), text.clone())),
            EnvValue::Secret(r) => match (&r.from_env, svc) {
                (Some(var), _) => {
                    let value = std::env::var(var).map_err(|_| {
                        parsed.place(table, &format!("env.{key}")).error(format!(
                            "the variable {var} is not set in apply's environment"
                        ))
                    })?;
                    secret.push((key.clone(), value));
                }
                (None, svc) => {
                    let stored = svc.and_then(|s| s.settings.env.iter().find(|v| v.key == *key));
                    let Some(var) = stored else {
                        return Err(parsed.place(table, &format!("env.{key}")).error(
                            "{ stored = true } keeps a value the service has, and it has none",
                        ));
                    };
                    let pair = (key.clone(), var.value.clone());
                    if var.secret {
                        secret.push(pair);
                    } else {
                        plain.push(pair);
                    }
                }
            },
        }
    }
    Ok((plain, secret))
}

fn settings_of(
    fs: &FileService,
    svc: Option<&Service>,
    parsed: &Parsed,
    table: &str,
) -> Result<SettingsRequest> {
    let (env, secret_env) = env_of(fs, svc, parsed, table)?;
    Ok(SettingsRequest {
        image: fs.image.clone(),
        args: fs.args.clone(),
        env,
        secret_env,
        env_file: None,
        shm_size: fs.shm_size.clone(),
    })
}

fn new_service(
    name: &str,
    engine: EngineType,
    fs: &FileService,
    parsed: &Parsed,
) -> Result<CreateService> {
    let table = format!("services.{name}");
    let settings = settings_of(fs, None, parsed, &table)?;
    // Checked now, so an invalid file changes nothing.
    let checked = || -> Result<()> {
        crate::ops::settings::merged(engine, &Default::default(), &settings)?;
        fs.memory.as_deref().map(memory_of).transpose()?;
        fs.gpus.as_deref().map(gpus_of).transpose()?;
        fs.restart.as_deref().map(restart_of).transpose()?;
        Ok(())
    };
    checked().map_err(|e| parsed.place(&table, "").error(e.message))?;
    Ok(CreateService {
        model_id: fs.model.clone(),
        engine_type: engine,
        port: fs.port,
        name: Some(name.to_owned()),
        bind: fs.bind.as_deref().and_then(|b| b.parse().ok()),
        gpus: fs.gpus.clone(),
        memory: fs.memory.clone(),
        restart: fs.restart.clone(),
        settings,
    })
}

/// The update that makes `svc` what `fs` says: given fields set, absent settings back to the
/// engine's (port, address and GPUs stay as they are when absent).
fn changed_service(
    svc: &Service,
    fs: &FileService,
    parsed: &Parsed,
    table: &str,
) -> Result<UpdateService> {
    let mut unset = vec!["env".to_owned()];
    for (field, given) in [
        ("image", fs.image.is_some()),
        ("args", fs.args.is_some()),
        ("shm-size", fs.shm_size.is_some()),
        ("memory", fs.memory.is_some()),
        ("restart", fs.restart.is_some()),
    ] {
        if !given {
            unset.push(field.to_owned());
        }
    }
    Ok(UpdateService {
        name: None,
        port: fs.port,
        bind: fs.bind.as_deref().and_then(|b| b.parse().ok()),
        gpus: fs.gpus.clone(),
        memory: fs.memory.clone(),
        restart: fs.restart.clone(),
        settings: settings_of(fs, Some(svc), parsed, table)?,
        unset,
        apply_now: false,
    })
}
