//! A service: a model served by an engine on a host port, its status and its start attempts.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use serde::{Deserialize, Serialize, Serializer};

use super::attempt::Attempt;
use super::engine::EngineType;
use super::gpu::Gpus;
use super::ids::{ContainerId, ModelId, ServiceId};
use super::port::HostPort;
use super::restart::{Desired, RestartPolicy};
use super::settings::ServiceSettings;
use super::wire;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Starting,
    Running,
    Stopping,
    Stopped,
    Failed,
    /// Waiting for the supervisor's next restart (crash-loop backoff); holds its port.
    Backoff,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Starting => "starting",
            Status::Running => "running",
            Status::Stopping => "stopping",
            Status::Stopped => "stopped",
            Status::Failed => "failed",
            Status::Backoff => "backoff",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub const ALL: [Status; 7] = [
        Status::Created,
        Status::Starting,
        Status::Running,
        Status::Stopping,
        Status::Stopped,
        Status::Failed,
        Status::Backoff,
    ];
    /// States from which `start` may begin (an operator's start from `backoff` comes first).
    pub const STARTABLE: [Status; 4] = [
        Status::Created,
        Status::Stopped,
        Status::Failed,
        Status::Backoff,
    ];
    /// States in which a service cannot be deleted: it may own a container, or the supervisor
    /// is about to start one (`backoff`).
    pub const BUSY: [Status; 4] = [
        Status::Starting,
        Status::Running,
        Status::Stopping,
        Status::Backoff,
    ];
    /// States whose service keeps its host port reserved against new services.
    pub const HOLDS_PORT: [Status; 4] = [
        Status::Created,
        Status::Starting,
        Status::Running,
        Status::Backoff,
    ];
}

/// The process that runs an attached start (or a stop), and how long its claim holds.
///
/// The start time tells a reused pid apart; the boot id and PID namespace say whether this
/// host can judge the pid at all (a starter in a container has pids of its own). The lease is
/// renewed by the owner's heartbeat: once it lapses, the owner is taken for hung or gone,
/// wherever it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Owner {
    pub pid: u32,
    pub start_time: u64,
    /// The kernel boot the owner ran in (`/proc/sys/kernel/random/boot_id`).
    #[serde(serialize_with = "as_uuid", deserialize_with = "from_uuid")]
    #[schema(value_type = String, format = "uuid")]
    pub boot_id: u128,
    /// The inode of the owner's PID namespace (`/proc/self/ns/pid`).
    pub pid_ns: u64,
    /// When the claim lapses unless renewed (ms since the epoch).
    #[serde(serialize_with = "as_rfc3339", deserialize_with = "wire::time")]
    #[schema(value_type = String, format = DateTime)]
    pub lease_until: i64,
    /// This claim among the owner's: a daemon runs many starts and stops, and one that lost its
    /// claim must not take a later claim of the same process for its own. 0: none recorded.
    #[serde(skip)]
    pub claim: i64,
}

fn as_uuid<S: Serializer>(id: &u128, s: S) -> Result<S::Ok, S::Error> {
    let hex = format!("{id:032x}");
    s.serialize_str(&format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Service {
    pub id: ServiceId,
    pub name: String,
    pub model_id: ModelId,
    pub engine_type: EngineType,
    #[schema(value_type = u16, minimum = 1, maximum = 65535)]
    pub port: HostPort,
    /// Host address the port is published on (`127.0.0.1` unless the operator chose otherwise).
    #[schema(value_type = String, example = "127.0.0.1")]
    pub bind: IpAddr,
    /// Where clients send requests: `http://ADDR:PORT`, derived from the published address.
    pub endpoint: String,
    /// The GPUs its engine gets, chosen at create (`--gpus`, else the engine's default).
    /// `None` only for services created before GPUs were chosen per service: those follow the
    /// engine's configured default at each start.
    #[schema(value_type = Option<String>, example = "count=1")]
    pub gpus: Option<Gpus>,
    /// Its container's memory limit in bytes (`--memory`); `None`: the engine's limit.
    pub memory_bytes: Option<u64>,
    /// Its own image, engine arguments, environment and `/dev/shm` size (secrets shown as
    /// `***`); what it leaves out, the engine's settings decide.
    pub settings: ServiceSettings,
    pub status: Status,
    /// What the operator asked for: `running` after a successful start, `stopped` after stop.
    pub desired: Desired,
    /// When the daemon's supervisor restarts its engine (`--restart`).
    #[schema(value_type = String, example = "on-failure:5")]
    pub restart: RestartPolicy,
    /// Restarts the supervisor made in a row (reset by an operator's start).
    pub restarts: u32,
    /// When the supervisor restarts it next, while it reads `backoff`.
    #[serde(
        serialize_with = "as_rfc3339_opt",
        deserialize_with = "wire::time_opt",
        default
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_restart_at: Option<i64>,
    pub last_error: Option<String>,
    pub attempts: Vec<Attempt>,
    /// What the runtime runs its engine as (see [`ContainerId`]), while it has one.
    #[schema(value_type = Option<String>)]
    pub container_id: Option<ContainerId>,
    pub owner: Option<Owner>,
    /// Who created it: its owner, who (with admins) may start, stop, update or delete it.
    /// Null for services created before aima knew who acts: only admins may change those.
    pub created_by: Option<String>,
    /// Who started it last (an operator's start; the supervisor's restarts keep it).
    pub started_by: Option<String>,
    #[serde(serialize_with = "as_rfc3339", deserialize_with = "wire::time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    #[serde(serialize_with = "as_rfc3339", deserialize_with = "wire::time")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
}

impl Service {
    /// Where the published engine is reached from this host: the bind address, or loopback of
    /// its family when it binds every address.
    pub fn local_address(&self) -> SocketAddr {
        let ip = match self.bind {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        SocketAddr::new(ip, self.port.get())
    }

    /// The address Docker publishes on, which preflight probes.
    pub fn published_address(&self) -> SocketAddr {
        SocketAddr::new(self.bind, self.port.get())
    }
}

/// `http://127.0.0.1:8000`, `http://[::1]:8000`: the URL of an engine reached at `addr`.
pub fn endpoint_url(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

fn from_uuid<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
    wire::text(d, |t| {
        u128::from_str_radix(&t.replace('-', ""), 16).map_err(|e| format!("{t:?} is not a uuid: {e}"))
    })
}

fn as_rfc3339_opt<S: Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => as_rfc3339(ms, s),
        None => s.serialize_none(),
    }
}

pub(crate) fn as_rfc3339<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::clock::rfc3339(*ms))
}
