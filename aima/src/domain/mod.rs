//! The records aima keeps and shows — models, services, their start attempts, statuses and
//! engine types, and who acts on them — as plain data. Depends on nothing else in the crate
//! but the clock.

mod actor;
mod attempt;
mod engine;
mod gpu;
mod ids;
mod model;
mod port;
mod pull;
mod quota;
mod quota_use;
mod restart;
mod service;
mod settings;
mod text;
pub(crate) mod wire;

pub use actor::{Actor, DAEMON_NAME, LEGACY_TOKEN_NAME, Via};
pub use attempt::{Attempt, Phase};
pub use engine::{
    DEFAULT_STOP_SECS, EngineSpec, EngineType, MIN_MEMORY, ModelRef, Secret, parse_size,
    size_text,
};
#[cfg(any(test, feature = "test-support"))]
pub use engine::{EngineCache, EngineLimits, VLLM_SHM_BYTES};
pub use gpu::Gpus;
pub(crate) use ids::random_claim;
pub use ids::{BadId, ContainerId, ModelId, ServiceId};
pub use model::{Model, ModelSource};
pub use port::HostPort;
pub use pull::PullPolicy;
pub use quota::{Applied, Person, PortRange, Quota, Quotas, Table};
pub use quota_use::{
    Holding, UseRow, check as check_quota, check_port as check_quota_port,
    rows as quota_rows,
};
pub use restart::{BACKOFF_MAX, Desired, RESTART_TAKES, RestartPolicy, backoff};
pub(crate) use service::as_rfc3339 as rfc3339;
pub use service::{Owner, Service, Status, endpoint_url};
pub use settings::{EnvVar, MASK, ServiceSettings, StoredSettings, check as check_settings};
pub use text::check_text;
#[cfg(any(test, feature = "test-support"))]
pub use text::{BadText, MAX_TEXT_BYTES};
