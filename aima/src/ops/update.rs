//! `service update`: a service's configuration changed in place. A stopped, failed or created
//! service only records the change; a running one records it for its next start, or with
//! `apply_now` is stopped and started again (with preflight) under the new configuration.

use serde::Serialize;

use super::settings::{SettingsRequest, merged};
use super::{service_id, start_service, stop_service};
use crate::domain::{
    Gpus, HostPort, MASK, MIN_MEMORY, RESTART_TAKES, RestartPolicy, Service, Status, parse_size,
    size_text,
};
use crate::error::{Error, Result};
use crate::lifecycle::{Deps, StartOptions, StopMode};
use crate::store::{ServiceConfig, StoreHandle};

/// Fields `--unset` takes back to the engine's setting; `env.KEY` removes one variable.
pub const UNSETTABLE: [&str; 7] = [
    "image", "args", "env", "shm-size", "memory", "gpus", "restart",
];

/// What `service update` asks for; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct UpdateService {
    pub name: Option<String>,
    pub port: Option<u16>,
    pub bind: Option<std::net::IpAddr>,
    pub gpus: Option<String>,
    pub memory: Option<String>,
    pub restart: Option<String>,
    pub settings: SettingsRequest,
    /// Fields back to the engine's setting: see [`UNSETTABLE`].
    pub unset: Vec<String>,
    /// On a running service: stop it and start it again now.
    pub apply_now: bool,
}

/// One field a change touches, as people read it (secrets as `***`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FieldChange {
    pub field: String,
    pub old: String,
    pub new: String,
}

/// When an update takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Nothing changed.
    Unchanged,
    /// Recorded; the service was not running, so its next start uses it.
    Recorded,
    /// Recorded while the engine runs: it takes effect at the next start.
    NextStart,
    /// The service was stopped and started again with it.
    Applied,
}

/// The outcome of an update.
#[derive(Debug, Clone)]
pub struct Updated {
    pub service: Service,
    pub changes: Vec<FieldChange>,
    pub effect: Effect,
}

/// Statuses in which a change is only recorded.
const AT_REST: [Status; 3] = [Status::Created, Status::Stopped, Status::Failed];

pub async fn update_service(
    deps: &Deps,
    store: &StoreHandle,
    given: &str,
    req: UpdateService,
    interrupt: impl std::future::Future<Output = &'static str>,
) -> Result<Updated> {
    let id = service_id(store, given).await?;
    let svc = store.get_service(&id).await?;
    let old = ServiceConfig::of(&svc);
    let new = configured(&deps.config, &svc, &req)?;
    let changes = diff(&old, &new);
    if changes.is_empty() {
        return Ok(Updated {
            service: svc,
            changes,
            effect: Effect::Unchanged,
        });
    }
    let at_rest = AT_REST.contains(&svc.status);
    let moves = old.port != new.port || old.bind != new.bind;
    if !at_rest && !req.apply_now && moves {
        return Err(Error::conflict(format!(
            "service {id} is {} on {}:{}: its port and address change only with a new container",
            svc.status.as_str(),
            old.bind,
            old.port
        ))
        .with_help(format!(
            "add --apply-now to stop and start it now, or stop it first: aima service stop {id}"
        )));
    }
    if !at_rest && req.apply_now {
        stop_service(deps, store, id.as_str(), StopMode::Graceful(None)).await?;
        record(store, &id, new, &[Status::Stopped]).await?;
        let opts = StartOptions {
            wait: false,
            timeout: super::DEFAULT_START_TIMEOUT,
            progress: None,
            pull: None,
            node: None,
        };
        let service = start_service(deps, store, id.as_str(), opts, interrupt).await?;
        return Ok(Updated {
            service,
            changes,
            effect: Effect::Applied,
        });
    }
    let while_in: &[Status] = if at_rest { &AT_REST } else { &Status::ALL };
    let service = record(store, &id, new, while_in).await?;
    let effect = if at_rest {
        Effect::Recorded
    } else {
        Effect::NextStart
    };
    Ok(Updated {
        service,
        changes,
        effect,
    })
}

async fn record(
    store: &StoreHandle,
    id: &crate::domain::ServiceId,
    config: ServiceConfig,
    while_in: &'static [Status],
) -> Result<Service> {
    let key = id.clone();
    let done = store
        .call(move |s| s.update_service(&key, &config, while_in))
        .await?;
    done.ok_or_else(|| {
        Error::conflict(format!(
            "service {id} changed state while it was being updated"
        ))
        .with_help("look at it (aima service get), then run the update again")
    })
}

/// `svc`'s configuration with `req` applied: unset fields first, then the given ones.
pub(crate) fn configured(
    config: &crate::config::Config,
    svc: &Service,
    req: &UpdateService,
) -> Result<ServiceConfig> {
    let spec = config.engine(svc.engine_type);
    let mut new = ServiceConfig::of(svc);
    for field in &req.unset {
        let given = match field.as_str() {
            "image" => req.settings.image.is_some(),
            "args" => req.settings.args.is_some(),
            "shm-size" => req.settings.shm_size.is_some(),
            "memory" => req.memory.is_some(),
            "gpus" => req.gpus.is_some(),
            "restart" => req.restart.is_some(),
            _ => false,
        };
        if given {
            return Err(Error::usage(format!(
                "--unset {field} and --{field} both given: say one"
            )));
        }
        match field.as_str() {
            "image" => new.settings.image = None,
            "args" => new.settings.args = None,
            "env" => new.settings.env.clear(),
            "shm-size" => new.settings.shm_bytes = None,
            "memory" => new.memory_bytes = None,
            "gpus" => new.gpus = None,
            "restart" => new.restart = spec.restart,
            other => match other.strip_prefix("env.") {
                Some(key) if new.settings.env.iter().any(|v| v.key == key) => {
                    new.settings.env.retain(|v| v.key != key);
                }
                Some(key) => {
                    return Err(Error::usage(format!(
                        "--unset env.{key}: the service has no variable {key}"
                    )));
                }
                None => {
                    return Err(
                        Error::usage(format!("--unset {other} is not a field")).with_help(format!(
                            "give one of: {}, or env.KEY",
                            UNSETTABLE.join(", ")
                        )),
                    );
                }
            },
        }
    }
    new.settings = merged(svc.engine_type, &new.settings, &req.settings)?;
    if let Some(name) = &req.name {
        super::printable("--name", name)?;
        new.name = name.clone();
    }
    if let Some(port) = req.port {
        new.port = HostPort::new(port)
            .ok_or_else(|| Error::usage("port 0 is no host port: choose one of 1-65535"))?;
    }
    if let Some(bind) = req.bind {
        new.bind = bind;
    }
    if let Some(text) = &req.gpus {
        new.gpus = Some(gpus_of(text)?);
    }
    if let Some(text) = &req.memory {
        new.memory_bytes = Some(memory_of(text)?);
    }
    if let Some(text) = &req.restart {
        new.restart = restart_of(text)?;
    }
    Ok(new)
}

pub(super) fn gpus_of(text: &str) -> Result<Gpus> {
    Gpus::parse(text).map_err(|e| Error::usage(format!("bad --gpus {text:?}: {e}")))
}

pub(super) fn memory_of(text: &str) -> Result<u64> {
    match parse_size(text) {
        Some(bytes) if bytes >= MIN_MEMORY => Ok(bytes),
        Some(_) => Err(Error::usage(format!(
            "--memory {text} is below Docker's smallest container limit, 6m"
        ))),
        None => Err(Error::usage(format!(
            "bad --memory {text:?}: expected a size in bytes or with k, m or g (64m, 2g), at most 9223372036854775807 bytes"
        ))),
    }
}

pub(super) fn restart_of(text: &str) -> Result<RestartPolicy> {
    RestartPolicy::parse(text)
        .ok_or_else(|| Error::usage(format!("bad --restart {text:?}: expected {RESTART_TAKES}")))
}

/// Each field that differs between `old` and `new`, as people read them.
pub fn diff(old: &ServiceConfig, new: &ServiceConfig) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut field = |name: &str, a: String, b: String| {
        if a != b {
            out.push(FieldChange {
                field: name.to_owned(),
                old: a,
                new: b,
            });
        }
    };
    let default = || "default".to_owned();
    field("name", old.name.clone(), new.name.clone());
    field("port", old.port.to_string(), new.port.to_string());
    field("bind", old.bind.to_string(), new.bind.to_string());
    let gpus = |g: &Option<Gpus>| g.as_ref().map_or_else(default, ToString::to_string);
    field("gpus", gpus(&old.gpus), gpus(&new.gpus));
    let memory = |m: Option<u64>| m.map_or_else(default, size_text);
    field("memory", memory(old.memory_bytes), memory(new.memory_bytes));
    field("restart", old.restart.text(), new.restart.text());
    let (o, n) = (&old.settings, &new.settings);
    let image = |i: &Option<String>| i.clone().unwrap_or_else(default);
    field("image", image(&o.image), image(&n.image));
    let args = |a: &Option<Vec<String>>| a.as_ref().map_or_else(default, |a| format!("{a:?}"));
    field("args", args(&o.args), args(&n.args));
    let shm = |s: Option<u64>| s.map_or_else(default, size_text);
    field("shm-size", shm(o.shm_bytes), shm(n.shm_bytes));
    let mut keys: Vec<&str> = o.env.iter().chain(&n.env).map(|v| v.key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let before = o.env.iter().find(|v| v.key == key);
        let after = n.env.iter().find(|v| v.key == key);
        if before.map(|v| (&v.value, v.secret)) == after.map(|v| (&v.value, v.secret)) {
            continue;
        }
        let shown = |v: Option<&crate::domain::EnvVar>| {
            v.map_or_else(|| "unset".to_owned(), |v| v.shown().to_owned())
        };
        let (mut a, b) = (shown(before), shown(after));
        if a == b && a == MASK {
            a = format!("{MASK} (another value)");
        }
        out.push(FieldChange {
            field: format!("env.{key}"),
            old: a,
            new: b,
        });
    }
    out
}

#[cfg(test)]
#[path = "update_tests.rs"]
mod tests;
