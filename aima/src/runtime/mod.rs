//! The container runtime as the lifecycle sees it: a small trait, two implementations on
//! bollard — plain Docker, and Docker Swarm (an engine is a one-replica Swarm service) — and a
//! scriptable fake for tests (unit tests, and integration tests through the `test-support`
//! feature). No bollard type leaves this module.

mod docker;
mod endpoint;
mod events;
mod fault;
#[cfg(any(test, feature = "test-support"))]
pub mod fake;
mod gpu;
mod pull;
mod swarm;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;

pub(crate) use docker::DockerRuntime;
pub use endpoint::DockerEndpoint;
pub use events::{ContainerAction, ContainerEvent, EventStream};
#[cfg(any(test, feature = "test-support"))]
pub use endpoint::EndpointError;
pub use fault::DockerFault;
pub use gpu::{GpuPath, GpuRequest, GpuSupport};
pub use pull::{PullFailure, PullProgress};
pub(crate) use swarm::SwarmRuntime;

use crate::domain::{ContainerId, HostPort};
use crate::error::{Classified, Detail, Kind};

/// Where a local model's directory appears inside the engine container (read-only).
pub const MOUNT_TARGET: &str = "/model";

/// What to run: one engine container publishing `host_ip:host_port` → `container_port`.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub labels: HashMap<String, String>,
    pub host_ip: IpAddr,
    pub host_port: HostPort,
    pub container_port: u16,
    /// The GPUs to hand over, and how; `None`: no GPU.
    pub gpus: Option<GpuRequest>,
    pub limits: ContainerLimits,
    /// A local model's host directory, mounted read-only at [`MOUNT_TARGET`].
    pub mount: Option<String>,
    /// The engine's download cache: a named volume, created by Docker on first use.
    pub cache: Option<CacheVolume>,
    /// Size of `/dev/shm` in bytes; Docker's default (64 MB) when `None`.
    pub shm_bytes: Option<u64>,
    /// Where a Swarm may run it: placement constraints (`node.hostname==gpu-1`). Plain Docker
    /// runs everything on its one host and takes none.
    pub placement: Vec<String>,
    /// The grace period between SIGTERM and SIGKILL when the runtime itself stops the engine
    /// (a Swarm removing a service's task on another node).
    pub stop_secs: u32,
}

/// A named Docker volume mounted read-write at `target`, labelled so aima can list it.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheVolume {
    pub name: String,
    pub target: String,
    pub labels: HashMap<String, String>,
}

/// A named volume as Docker lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VolumeInfo {
    pub name: String,
    pub labels: HashMap<String, String>,
    /// Where its data lives on the Docker host.
    pub mountpoint: String,
}

/// Confinement of an engine container: memory (no swap beyond it), processes, log rotation.
/// Every container also gets `no-new-privileges` and only the capabilities in [`KEPT_CAPS`].
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerLimits {
    pub memory_bytes: u64,
    pub pids: u32,
    pub log_max_bytes: u64,
    pub log_max_files: u32,
}

/// The capabilities an engine keeps; all others are dropped. Engines listen on unprivileged
/// ports and need no network or device powers; these cover image entrypoints that fix file
/// ownership or switch to an unprivileged user.
pub const KEPT_CAPS: [&str; 5] = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"];

#[derive(Debug, Clone, PartialEq)]
pub struct ContainerInfo {
    /// A container's id on plain Docker; a Swarm service's id on a Swarm.
    pub id: ContainerId,
    pub name: String,
    pub image: String,
    pub state: String,
    pub labels: HashMap<String, String>,
    pub published_ports: Vec<HostPort>,
    /// The Swarm node it runs on; `None` on plain Docker (the one host).
    pub node: Option<String>,
}

/// Whether an engine may run on this machine, and its node name there (Swarm only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Here {
    pub possible: bool,
    pub node: Option<String>,
}

/// Where a Swarm placed an engine: the node's name and the address its port is published on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub node: String,
    pub address: IpAddr,
}

/// Where the Docker daemon keeps images, containers and volumes (`DockerRootDir`), and whether
/// that path names a directory of this machine (a daemon reached over a unix socket or on a
/// loopback address) or of another one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRoot {
    pub path: String,
    pub local: bool,
}

/// What the Docker daemon says it is: its release and the API version it speaks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DockerVersion {
    pub version: String,
    pub api_version: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerState {
    pub running: bool,
    /// The main process of a running container, in the Docker host's PID namespace.
    pub pid: Option<u32>,
    pub exit_code: Option<i64>,
    pub oom_killed: bool,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuntimeError {
    #[error("Docker is not reachable at {address}")]
    Unavailable {
        address: String,
        #[source]
        cause: DockerFault,
    },
    #[error("Docker at {address} did not answer {operation} within {secs}s")]
    Timeout {
        address: String,
        operation: &'static str,
        secs: u64,
    },
    /// Docker refused to publish the port because something holds it (on a Swarm: on `node`).
    #[error("Docker could not publish host port {port}{}", on_node(node))]
    PortConflict {
        port: HostPort,
        node: Option<String>,
        /// Docker's (or the Swarm task's) own words.
        #[source]
        cause: DockerFault,
    },
    #[error("engine image {image} is not present {}", node.as_ref().map_or_else(|| "locally".to_owned(), |n| format!("on node {n}")))]
    ImageMissing { image: String, node: Option<String> },
    /// The Swarm failed or rejected the engine's task for another reason (in its own words).
    #[error("the Swarm could not run the engine{}: {message}", on_node(node))]
    Task {
        node: Option<String>,
        message: String,
    },
    /// The Swarm runtime is configured, but this Docker is no Swarm manager.
    #[error("Docker at {address} is not a Swarm manager (its swarm state is {state})")]
    NotSwarmManager { address: String, state: String },
    #[error("cannot pull engine image {image}: {}", failure.describe())]
    Pull {
        image: String,
        failure: PullFailure,
        /// Docker's own words.
        #[source]
        detail: Detail,
    },
    #[error("no such container {0}")]
    NoSuchContainer(ContainerId),
    /// Docker answered the call `operation` ("create container") with an error status.
    #[error("Docker answered {status} to {operation}")]
    Api {
        operation: &'static str,
        status: u16,
        /// Docker's own words.
        #[source]
        cause: DockerFault,
    },
}

impl RuntimeError {
    /// Docker's answer `status` to `operation`, in Docker's words `message`: how the fake and
    /// tests script a refusal.
    #[cfg(any(test, feature = "test-support"))]
    pub fn api(operation: &'static str, status: u16, message: &str) -> Self {
        RuntimeError::Api {
            operation,
            status,
            cause: DockerFault::new(message),
        }
    }

    /// Transient failures that a new attempt may get past.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            RuntimeError::Timeout { .. } | RuntimeError::Api { status: 500.., .. }
        )
    }
}

/// The one classification of Docker failures, whichever operation met them: start, stop,
/// refresh and the API's health all report the same failure with the same kind and hint.
impl Classified for RuntimeError {
    fn kind(&self) -> Kind {
        match self {
            RuntimeError::Unavailable { .. }
            | RuntimeError::Timeout { .. }
            | RuntimeError::NotSwarmManager { .. } => Kind::DockerUnavailable,
            RuntimeError::PortConflict { .. } => Kind::PortInUse,
            RuntimeError::Pull {
                failure: PullFailure::NoSpace,
                ..
            } => Kind::DiskFull,
            RuntimeError::Api { cause, .. } if no_space(cause.text()) => Kind::DiskFull,
            // Docker answered, and refused: the container could not be run as asked.
            RuntimeError::ImageMissing { .. }
            | RuntimeError::Task { .. }
            | RuntimeError::Pull { .. }
            | RuntimeError::NoSuchContainer(_)
            | RuntimeError::Api { .. } => Kind::StartFailed,
        }
    }

    fn help(&self) -> Option<String> {
        match self {
            RuntimeError::Unavailable { address, .. } | RuntimeError::Timeout { address, .. } => {
                Some(format!(
                    "check that the Docker daemon is running and reachable at {address} (`docker info`), or set DOCKER_HOST"
                ))
            }
            RuntimeError::PortConflict { .. } => {
                Some("free the port, or create this service on another port with --port".to_owned())
            }
            RuntimeError::ImageMissing { image, node: None } => Some(format!(
                "let aima pull it (--pull missing, the default), pull it first (`docker pull {image}`), or point AIMA_<ENGINE>_IMAGE (e.g. AIMA_VLLM_IMAGE) at a local image"
            )),
            RuntimeError::ImageMissing {
                image,
                node: Some(node),
            } => Some(format!(
                "load or pull {image} on node {node} (`docker pull {image}` there), or place the engine on a node that has it (--node)"
            )),
            RuntimeError::Task { .. } => Some(
                "check the Swarm's nodes (`docker node ls`) and the task's history (`docker service ps --no-trunc SERVICE`)".to_owned(),
            ),
            RuntimeError::NotSwarmManager { .. } => Some(
                "run aima against a Swarm manager (`docker swarm init`, or DOCKER_HOST of a manager), or use plain Docker: AIMA_RUNTIME=docker".to_owned(),
            ),
            RuntimeError::Pull { image, failure, .. } => Some(failure.help(image)),
            RuntimeError::Api { cause, .. } if no_space(cause.text()) => Some(
                "free space on the Docker host's disk (`docker system df`; `docker image prune` removes unused images)"
                    .to_owned(),
            ),
            RuntimeError::NoSuchContainer(_) | RuntimeError::Api { .. } => None,
        }
    }
}

/// ` on node NAME` when a node is known, else nothing.
fn on_node(node: &Option<String>) -> String {
    node.as_ref()
        .map(|n| format!(" on node {n}"))
        .unwrap_or_default()
}

/// Docker reports a full disk only in words (`write /var/lib/docker/…: no space left on
/// device`): this is the one place they are read.
pub(crate) fn no_space(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("no space left on device") || m.contains("disk quota exceeded")
}

pub type RuntimeResult<T> = Result<T, RuntimeError>;

#[async_trait]
pub trait Runtime: Send + Sync {
    /// The endpoint, as people name it in errors (`unix:///var/run/docker.sock`).
    fn address(&self) -> String;
    /// Where the engine `id` runs, when not on this host: a Swarm's node. `None` on plain
    /// Docker, where the service's own bind address reaches it.
    async fn placement(&self, id: &ContainerId) -> RuntimeResult<Option<Placement>> {
        let _ = id;
        Ok(None)
    }
    /// Whether an engine placed by `constraints` may run on the machine aima runs on (so that
    /// this machine's port holders matter), and this machine's node name on a Swarm. Always on
    /// plain Docker.
    async fn here(&self, constraints: &[String]) -> RuntimeResult<Here> {
        let _ = constraints;
        Ok(Here {
            possible: true,
            node: None,
        })
    }
    async fn ping(&self) -> RuntimeResult<()>;
    /// Follows the deaths, OOM kills and removals of containers carrying every one of
    /// `labels`, from `since` (seconds since the epoch, Docker's clock: earlier events are
    /// replayed) on, until the stream breaks. `None`: this runtime has no such stream (a
    /// Swarm's engines are services whose tasks the reconciler polls).
    fn container_events(&self, labels: &[String], since: i64) -> Option<EventStream> {
        let _ = (labels, since);
        None
    }
    /// Containers in any state carrying every one of `labels` (`key=value`); all if empty.
    async fn list(&self, labels: &[String]) -> RuntimeResult<Vec<ContainerInfo>>;
    async fn image_exists(&self, image: &str) -> RuntimeResult<bool>;
    /// How this Docker can hand GPUs to containers, as `docker info` reports it.
    async fn gpu_support(&self) -> RuntimeResult<GpuSupport>;
    async fn version(&self) -> RuntimeResult<DockerVersion>;
    /// Total memory of the Docker host, in bytes.
    async fn host_memory(&self) -> RuntimeResult<u64>;
    /// Where Docker stores images and containers.
    async fn data_root(&self) -> RuntimeResult<DataRoot>;
    async fn create(&self, spec: &ContainerSpec) -> RuntimeResult<ContainerId>;
    async fn start(&self, id: &ContainerId, host_port: HostPort) -> RuntimeResult<()>;
    async fn state(&self, id: &ContainerId) -> RuntimeResult<ContainerState>;
    async fn logs_tail(&self, id: &ContainerId, lines: usize) -> RuntimeResult<Vec<String>>;
    /// Pulls `image`, reporting Docker's progress messages; not bounded in time (the caller is).
    async fn pull(
        &self,
        image: &str,
        progress: &(dyn for<'p> Fn(&'p PullProgress) + Send + Sync),
    ) -> RuntimeResult<()>;
    /// The container's log lines (the last `tail` when given) into `sink`; with `follow`, keeps
    /// going until the container stops.
    async fn logs(
        &self,
        id: &ContainerId,
        tail: Option<usize>,
        follow: bool,
        sink: &mut (dyn FnMut(String) + Send),
    ) -> RuntimeResult<()>;
    /// Stops (SIGTERM, then SIGKILL after the default grace period; at once when `force`) and
    /// removes.
    async fn stop_and_remove(&self, id: &ContainerId, force: bool) -> RuntimeResult<()>;
    /// Stops with SIGTERM, kills after `grace_secs` (as `docker stop -t`), and removes.
    async fn stop_within(&self, id: &ContainerId, grace_secs: u32) -> RuntimeResult<()>;
    /// Named volumes carrying every one of `labels` (`key=value`).
    async fn list_volumes(&self, labels: &[String]) -> RuntimeResult<Vec<VolumeInfo>>;
    /// Removes a named volume; Docker refuses (409) while a container uses it.
    async fn remove_volume(&self, name: &str) -> RuntimeResult<()>;
}

pub type SharedRuntime = Arc<dyn Runtime>;

/// The real Docker runtime at `endpoint`, for integration tests that check what aima sends
/// Docker at the runtime boundary (e.g. device requests a GPU-less host cannot start).
#[cfg(feature = "test-support")]
pub fn docker_at(endpoint: DockerEndpoint) -> RuntimeResult<SharedRuntime> {
    Ok(Arc::new(DockerRuntime::connect(endpoint)?))
}
