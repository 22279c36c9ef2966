//! `service logs`: the engine's output from its container while one exists, else the lines kept
//! from a failed attempt (a failed attempt's container is removed, its last lines are recorded).

use crate::config::Config;
use crate::domain::{Attempt, Service};
use crate::error::{Error, Kind, Result};
use crate::lifecycle::{Deps, labels};
use crate::runtime::ContainerInfo;

/// What `service logs` asks for.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogsRequest {
    /// Only the last N lines.
    pub tail: Option<usize>,
    /// Keep reading until the container stops (only for a container, not for kept lines).
    pub follow: bool,
    /// Start attempt K instead of the newest.
    pub attempt: Option<u32>,
}

/// Where the lines came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSource {
    /// A container of the service, read from Docker.
    Container { name: String, attempt: Option<u32> },
    /// The lines recorded when this attempt failed; its container is gone.
    Kept { attempt: u32, reason: String },
}

/// Sends the service's log lines to `sink`, and says where they came from.
pub(super) async fn logs(
    deps: &Deps,
    svc: &Service,
    req: LogsRequest,
    sink: &mut (dyn FnMut(String) + Send),
) -> Result<LogSource> {
    let rt = deps.docker().await?;
    let mut containers = rt
        .list(&labels::selector(Some(&svc.id), &deps.config.instance))
        .await
        .map_err(|e| Error::from(e).within(format_args!("cannot read the logs of {}", svc.id)))?;
    containers.sort_by_key(|c| attempt_of(c, &deps.config));
    let container = match req.attempt {
        Some(k) => containers
            .iter()
            .find(|c| attempt_of(c, &deps.config) == Some(k)),
        None => containers
            .iter()
            .find(|c| svc.container_id.as_ref() == Some(&c.id))
            .or(containers.last()),
    };
    if let Some(c) = container {
        rt.logs(&c.id, req.tail, req.follow, sink)
            .await
            .map_err(|e| {
                Error::from(e).within(format_args!("cannot read the logs of {}", svc.id))
            })?;
        return Ok(LogSource::Container {
            name: c.name.clone(),
            attempt: attempt_of(c, &deps.config),
        });
    }
    let kept = kept_attempt(svc, req.attempt)?;
    let lines = &kept.log_tail;
    let from = req.tail.map_or(0, |n| lines.len().saturating_sub(n));
    lines[from..].iter().cloned().for_each(sink);
    Ok(LogSource::Kept {
        attempt: kept.number,
        reason: kept.reason.clone(),
    })
}

/// The attempt number in a container's name (`aima-<service>-<instance>-a<N>`).
fn attempt_of(c: &ContainerInfo, config: &Config) -> Option<u32> {
    let (head, n) = c.name.rsplit_once("-a")?;
    head.ends_with(&config.instance).then(|| n.parse().ok())?
}

/// The recorded attempt whose lines to show: attempt `k`, or the newest that kept any.
fn kept_attempt(svc: &Service, k: Option<u32>) -> Result<&Attempt> {
    let id = &svc.id;
    match k {
        Some(k) => {
            let Some(a) = svc.attempts.iter().find(|a| a.number == k) else {
                return Err(Error::new(
                    Kind::NotFound,
                    format!(
                        "service {id} has no container and no recorded attempt {k} (its last start recorded {})",
                        svc.attempts.len()
                    ),
                )
                .with_help(format!("`aima service get {id}` lists the recorded attempts")));
            };
            if a.log_tail.is_empty() {
                return Err(Error::new(
                    Kind::NotFound,
                    format!(
                        "attempt {k} of service {id} kept no engine output: it failed in {} ({})",
                        a.phase.as_str(),
                        a.reason
                    ),
                )
                .with_help("only attempts whose engine container ran keep log lines"));
            }
            Ok(a)
        }
        None => svc
            .attempts
            .iter()
            .rev()
            .find(|a| !a.log_tail.is_empty())
            .ok_or_else(|| {
                Error::new(
                    Kind::NotFound,
                    format!(
                        "service {id} has no engine logs: it has no container, and no failed attempt kept any output"
                    ),
                )
                .with_help(format!(
                    "logs exist while the engine's container does: start it (`aima service start {id}`) and look again"
                ))
            }),
    }
}

/// `service logs -o json` and the API's unfollowed logs: the lines and where they came from.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct LogLines {
    /// The service as it was named in the request.
    pub service: String,
    /// `container` or `attempt` (lines kept from a failed attempt).
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// Why the attempt whose kept lines these are failed (source `attempt` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub lines: Vec<String>,
}

impl LogLines {
    pub fn new(service: &str, source: LogSource, lines: Vec<String>) -> Self {
        let (source, container, attempt, reason) = match source {
            LogSource::Container { name, attempt } => ("container", Some(name), attempt, None),
            LogSource::Kept { attempt, reason } => ("attempt", None, Some(attempt), Some(reason)),
        };
        LogLines {
            service: service.to_owned(),
            source: source.to_owned(),
            container,
            attempt,
            reason,
            lines,
        }
    }
}
