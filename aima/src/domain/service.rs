//! A service: a model served by an engine on a host port, its status and its start attempts.

use serde::{Deserialize, Serialize, Serializer};

use super::attempt::Attempt;
use super::engine::EngineType;
use super::ids::{ModelId, ServiceId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Starting,
    Running,
    Stopping,
    Stopped,
    Failed,
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
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub const ALL: [Status; 6] = [
        Status::Created,
        Status::Starting,
        Status::Running,
        Status::Stopping,
        Status::Stopped,
        Status::Failed,
    ];
    /// States from which `start` may begin.
    pub const STARTABLE: [Status; 3] = [Status::Created, Status::Stopped, Status::Failed];
    /// States in which a service may own a container: it cannot be deleted then.
    pub const BUSY: [Status; 3] = [Status::Starting, Status::Running, Status::Stopping];
    /// States whose service keeps its host port reserved against new services.
    pub const HOLDS_PORT: [Status; 3] = [Status::Created, Status::Starting, Status::Running];
}

/// The process that runs an attached start; the start time tells a reused pid apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Owner {
    pub pid: u32,
    pub start_time: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub id: ServiceId,
    pub name: String,
    pub model_id: ModelId,
    pub engine_type: EngineType,
    pub port: u16,
    /// Where clients send requests: `http://ADDR:PORT`, derived from the published address.
    pub endpoint: String,
    pub status: Status,
    pub last_error: Option<String>,
    pub attempts: Vec<Attempt>,
    pub container_id: Option<String>,
    pub owner: Option<Owner>,
    #[serde(serialize_with = "as_rfc3339")]
    pub created_at: i64,
    #[serde(serialize_with = "as_rfc3339")]
    pub updated_at: i64,
}

/// `http://127.0.0.1:8000`, `http://[::1]:8000`: the URL of an engine reached at `addr`.
pub fn endpoint_url(addr: std::net::SocketAddr) -> String {
    format!("http://{addr}")
}

pub(super) fn as_rfc3339<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::clock::rfc3339(*ms))
}
