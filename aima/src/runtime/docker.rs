//! The Docker implementation of [`Runtime`] on bollard, with every call bounded in time.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use bollard::errors::Error as BollardError;
use bollard::models::{
    ContainerCreateBody, HostConfig, HostConfigLogConfig, Mount, MountBindOptions,
    MountBindOptionsPropagationEnum, MountType, MountVolumeOptions, PortBinding,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, ListVolumesOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveVolumeOptions, StopContainerOptionsBuilder,
};
use bollard::{ClientVersion, Docker};

use crate::domain::DEFAULT_STOP_SECS;

use crate::domain::{ContainerId, HostPort};
use super::{
    CacheVolume, ContainerInfo, ContainerSpec, ContainerState, DataRoot, DockerEndpoint,
    DockerFault, DockerVersion, GpuSupport, KEPT_CAPS, PullProgress, Runtime, RuntimeError, RuntimeResult,
    VolumeInfo,
};

mod events;
mod streams;

/// The API version spoken first: Docker 20.10's, which has everything aima uses; newer daemons
/// still accept it.
const BASE_API: &ClientVersion = &ClientVersion {
    major_version: 1,
    minor_version: 41,
};
/// Ping is how we learn Docker is there at all: it must answer fast or be reported.
const PING_SECS: u64 = 3;
pub(super) const CALL_SECS: u64 = 20;

pub struct DockerRuntime {
    /// Replaced once by the version-negotiated client in [`Runtime::ping`].
    docker: Mutex<Docker>,
    endpoint: DockerEndpoint,
}

impl DockerRuntime {
    /// Connects lazily (bollard opens sockets per request); [`Runtime::ping`] proves the endpoint.
    pub fn connect(endpoint: DockerEndpoint) -> RuntimeResult<Self> {
        let docker = Self::client_at(&endpoint, BASE_API)?;
        Ok(DockerRuntime {
            docker: Mutex::new(docker),
            endpoint,
        })
    }

    /// A client of `endpoint` speaking `version` (no I/O yet).
    fn client_at(endpoint: &DockerEndpoint, version: &ClientVersion) -> RuntimeResult<Docker> {
        let client_timeout = CALL_SECS * 3;
        match endpoint {
            DockerEndpoint::Unix(path) => {
                if !path.exists() {
                    return Err(RuntimeError::Unavailable {
                        address: endpoint.to_string(),
                        cause: DockerFault::new(
                            "the socket does not exist (is the Docker daemon running?)",
                        ),
                    });
                }
                Docker::connect_with_unix(&path.to_string_lossy(), client_timeout, version)
            }
            DockerEndpoint::Tcp { host: h, port, .. } => {
                Docker::connect_with_http(&format!("tcp://{h}:{port}"), client_timeout, version)
            }
        }
        .map_err(|e| RuntimeError::Unavailable {
            address: endpoint.to_string(),
            cause: DockerFault::of(e.to_string(), e),
        })
    }

    pub(super) fn client(&self) -> Docker {
        self.docker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(super) async fn bounded<T>(
        &self,
        operation: &'static str,
        secs: u64,
        call: impl Future<Output = Result<T, BollardError>>,
    ) -> RuntimeResult<T> {
        match tokio::time::timeout(Duration::from_secs(secs), call).await {
            Ok(result) => result.map_err(|e| self.classify(operation, e)),
            Err(_) => Err(RuntimeError::Timeout {
                address: self.address(),
                operation,
                secs,
            }),
        }
    }

    /// Removes a container at once (killing it if it runs), with its anonymous volumes.
    async fn remove(&self, id: &ContainerId) -> RuntimeResult<()> {
        let options = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        match self
            .bounded(
                "remove container",
                CALL_SECS,
                self.client().remove_container(id.as_str(), Some(options)),
            )
            .await
        {
            // 404: gone already (or still being created: see `lifecycle::sweep`); 409: removal
            // already in progress elsewhere.
            Ok(()) => Ok(()),
            Err(RuntimeError::Api {
                status: status @ (404 | 409),
                ..
            }) => {
                tracing::debug!(
                    container = %id,
                    status,
                    "not removed: Docker has no such container now"
                );
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Docker's HTTP status tells most cases apart; connection-level failures mean "unavailable".
    /// bollard's error is kept as the cause, shown in Docker's words (or, for a connection, by
    /// its innermost cause).
    fn classify(&self, operation: &'static str, e: BollardError) -> RuntimeError {
        classify_at(&self.address(), operation, e)
    }
}

/// Docker's answer to `operation` at `address`, classified by status code and error variant.
pub(super) fn classify_at(address: &str, operation: &'static str, e: BollardError) -> RuntimeError {
    match e {
        BollardError::DockerResponseServerError {
            status_code,
            ref message,
        } => RuntimeError::Api {
            operation,
            status: status_code,
            cause: DockerFault::of(message.clone(), e),
        },
        BollardError::RequestTimeoutError => RuntimeError::Timeout {
            address: address.to_owned(),
            operation: "a request",
            secs: CALL_SECS * 3,
        },
        other => RuntimeError::Unavailable {
            address: address.to_owned(),
            cause: DockerFault::of(root_cause(&other), other),
        },
    }
}

/// The innermost error text ("Connection refused (os error 111)") is what a person can act on.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Docker answers HTTP 500 for a taken host port; only its text tells this case apart from
/// other failures, so this is the one place where the message is read.
fn port_conflict(port: HostPort, e: RuntimeError) -> RuntimeError {
    match e {
        RuntimeError::Api { cause, .. }
            if cause.text().contains("address already in use")
                || cause.text().contains("port is already allocated") =>
        {
            RuntimeError::PortConflict {
                port,
                node: None,
                cause,
            }
        }
        other => other,
    }
}

/// A read-only bind mount through the structured `Mounts` API: the source is one field, never
/// parsed out of a `src:dst:mode` string, and Docker refuses a source that does not exist.
pub(super) fn read_only_bind(dir: &str) -> Mount {
    Mount {
        target: Some(super::MOUNT_TARGET.to_owned()),
        source: Some(dir.to_owned()),
        typ: Some(MountType::BIND),
        read_only: Some(true),
        bind_options: Some(MountBindOptions {
            propagation: Some(MountBindOptionsPropagationEnum::RPRIVATE),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The engine's cache: a named volume, read-write, created (with aima's labels) on first use.
pub(super) fn cache_volume(cache: &CacheVolume) -> Mount {
    Mount {
        target: Some(cache.target.clone()),
        source: Some(cache.name.clone()),
        typ: Some(MountType::VOLUME),
        read_only: Some(false),
        volume_options: Some(MountVolumeOptions {
            labels: Some(cache.labels.clone()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[async_trait]
impl Runtime for DockerRuntime {
    fn address(&self) -> String {
        self.endpoint.to_string()
    }

    fn container_events(&self, labels: &[String], since: i64) -> Option<super::EventStream> {
        Some(self.event_stream(labels, since))
    }

    async fn ping(&self) -> RuntimeResult<()> {
        // `/_ping` answers in about a millisecond; `/version` (what negotiating reads) asks
        // containerd too and takes many. bollard 0.21 sends its paths without a version prefix
        // (strace shows `GET /_ping`, `GET /containers/json`), so the daemon answers at its own
        // version and the client's is a fallback: should a daemon refuse the ping as a client
        // error, the version is negotiated from bollard's own down to the daemon's and kept.
        match self.bounded("ping", PING_SECS, self.client().ping()).await {
            Ok(_) => Ok(()),
            Err(RuntimeError::Api { status: 400, .. }) => {
                let fresh = Self::client_at(&self.endpoint, bollard::API_DEFAULT_VERSION)?;
                let negotiated = self
                    .bounded("ping", PING_SECS, fresh.negotiate_version())
                    .await?;
                *self.docker.lock().unwrap_or_else(|e| e.into_inner()) = negotiated;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn list(&self, labels: &[String]) -> RuntimeResult<Vec<ContainerInfo>> {
        let mut filters = HashMap::new();
        if !labels.is_empty() {
            filters.insert("label", labels.to_vec());
        }
        let options = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        let found = self
            .bounded(
                "list containers",
                CALL_SECS,
                self.client().list_containers(Some(options)),
            )
            .await?;
        Ok(found
            .into_iter()
            .map(|c| ContainerInfo {
                id: c.id.unwrap_or_default().into(),
                name: c
                    .names
                    .unwrap_or_default()
                    .first()
                    .map(|n| n.trim_start_matches('/').to_owned())
                    .unwrap_or_default(),
                image: c.image.unwrap_or_default(),
                state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                labels: c.labels.unwrap_or_default(),
                published_ports: c
                    .ports
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|p| p.public_port.and_then(HostPort::new))
                    .collect(),
                node: None,
            })
            .collect())
    }

    async fn image_exists(&self, image: &str) -> RuntimeResult<bool> {
        match self
            .bounded(
                "inspect image",
                CALL_SECS,
                self.client().inspect_image(image),
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(RuntimeError::Api { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn gpu_support(&self) -> RuntimeResult<GpuSupport> {
        let info = self
            .bounded("info", CALL_SECS, self.client().info())
            .await?;
        let mut nvidia_runtimes: Vec<String> = info
            .runtimes
            .unwrap_or_default()
            .into_keys()
            .filter(|r| r.contains("nvidia"))
            .collect();
        nvidia_runtimes.sort();
        Ok(GpuSupport {
            nvidia_runtimes,
            cdi_spec_dirs: info.cdi_spec_dirs.unwrap_or_default(),
        })
    }

    async fn version(&self) -> RuntimeResult<DockerVersion> {
        let v = self
            .bounded("version", CALL_SECS, self.client().version())
            .await?;
        Ok(DockerVersion {
            version: v.version.unwrap_or_default(),
            api_version: v.api_version.unwrap_or_default(),
        })
    }

    async fn host_memory(&self) -> RuntimeResult<u64> {
        let info = self
            .bounded("info", CALL_SECS, self.client().info())
            .await?;
        Ok(info.mem_total.unwrap_or(0).max(0) as u64)
    }

    async fn data_root(&self) -> RuntimeResult<DataRoot> {
        let info = self
            .bounded("info", CALL_SECS, self.client().info())
            .await?;
        let local = match &self.endpoint {
            DockerEndpoint::Unix(_) => true,
            DockerEndpoint::Tcp { host, .. } => {
                let host = host.trim_start_matches('[').trim_end_matches(']');
                host == "localhost"
                    || host
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
        };
        Ok(DataRoot {
            path: info.docker_root_dir.unwrap_or_default(),
            local,
        })
    }

    async fn create(&self, spec: &ContainerSpec) -> RuntimeResult<ContainerId> {
        let container_port = format!("{}/tcp", spec.container_port);
        let bindings = HashMap::from([(
            container_port.clone(),
            Some(vec![PortBinding {
                // Always explicit: an empty host IP would make Docker publish on every address.
                host_ip: Some(spec.host_ip.to_string()),
                host_port: Some(spec.host_port.to_string()),
            }]),
        )]);
        let gpus = spec.gpus.as_ref().and_then(super::gpu::device_requests);
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            cmd: Some(spec.args.clone()),
            env: Some(spec.env.clone()),
            labels: Some(spec.labels.clone()),
            exposed_ports: Some(vec![container_port]),
            host_config: Some(HostConfig {
                port_bindings: Some(bindings),
                device_requests: gpus,
                mounts: Some(
                    spec.mount
                        .iter()
                        .map(|dir| read_only_bind(dir))
                        .chain(spec.cache.iter().map(cache_volume))
                        .collect(),
                ),
                shm_size: spec.shm_bytes.map(|b| b as i64),
                memory: Some(spec.limits.memory_bytes as i64),
                // Equal to the memory limit: no swap on top of it.
                memory_swap: Some(spec.limits.memory_bytes as i64),
                pids_limit: Some(i64::from(spec.limits.pids)),
                log_config: Some(HostConfigLogConfig {
                    typ: Some("json-file".to_owned()),
                    config: Some(HashMap::from([
                        ("max-size".to_owned(), spec.limits.log_max_bytes.to_string()),
                        ("max-file".to_owned(), spec.limits.log_max_files.to_string()),
                    ])),
                }),
                security_opt: Some(vec!["no-new-privileges:true".to_owned()]),
                cap_drop: Some(vec!["ALL".to_owned()]),
                cap_add: Some(KEPT_CAPS.iter().map(|c| (*c).to_owned()).collect()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::new()
            .name(&spec.name)
            .build();
        let created = self
            .bounded(
                "create container",
                CALL_SECS,
                self.client().create_container(Some(options), body),
            )
            .await;
        match created {
            Ok(c) => Ok(c.id.into()),
            Err(RuntimeError::Api { status: 404, .. }) => Err(RuntimeError::ImageMissing {
                image: spec.image.clone(),
                node: None,
            }),
            Err(e) => Err(e),
        }
    }

    async fn start(&self, id: &ContainerId, host_port: HostPort) -> RuntimeResult<()> {
        let started = self
            .bounded(
                "start container",
                CALL_SECS,
                self.client().start_container(id.as_str(), None),
            )
            .await;
        started.map_err(|e| port_conflict(host_port, e))
    }

    async fn state(&self, id: &ContainerId) -> RuntimeResult<ContainerState> {
        let inspected = self
            .bounded(
                "inspect container",
                CALL_SECS,
                self.client().inspect_container(id.as_str(), None),
            )
            .await;
        let state = match inspected {
            Ok(c) => c.state.unwrap_or_default(),
            Err(RuntimeError::Api { status: 404, .. }) => {
                return Err(RuntimeError::NoSuchContainer(id.clone()));
            }
            Err(e) => return Err(e),
        };
        Ok(ContainerState {
            running: state.running.unwrap_or(false),
            pid: state
                .pid
                .and_then(|pid| u32::try_from(pid).ok())
                .filter(|pid| *pid > 0),
            exit_code: state.exit_code,
            oom_killed: state.oom_killed.unwrap_or(false),
        })
    }

    async fn logs_tail(&self, id: &ContainerId, lines: usize) -> RuntimeResult<Vec<String>> {
        self.tail_lines(false, id, lines).await
    }

    async fn pull(
        &self,
        image: &str,
        progress: &(dyn for<'p> Fn(&'p PullProgress) + Send + Sync),
    ) -> RuntimeResult<()> {
        self.pull_image(image, progress).await
    }

    async fn logs(
        &self,
        id: &ContainerId,
        tail: Option<usize>,
        follow: bool,
        sink: &mut (dyn FnMut(String) + Send),
    ) -> RuntimeResult<()> {
        self.stream_logs(false, id, tail, follow, sink).await
    }

    async fn stop_and_remove(&self, id: &ContainerId, force: bool) -> RuntimeResult<()> {
        if force {
            self.remove(id).await
        } else {
            self.stop_within(id, DEFAULT_STOP_SECS).await
        }
    }

    async fn stop_within(&self, id: &ContainerId, grace_secs: u32) -> RuntimeResult<()> {
        // Docker takes the grace period as an i32; a longer one is a day anyway.
        let t = i32::try_from(grace_secs).unwrap_or(i32::MAX);
        let options = StopContainerOptionsBuilder::new().t(t).build();
        let secs = CALL_SECS + u64::from(grace_secs);
        match self
            .bounded(
                "stop container",
                secs,
                self.client().stop_container(id.as_str(), Some(options)),
            )
            .await
        {
            // 304: already stopped; 404: already gone.
            Ok(())
            | Err(RuntimeError::Api {
                status: 304 | 404, ..
            }) => {}
            Err(e) => return Err(e),
        }
        self.remove(id).await
    }

    async fn list_volumes(&self, labels: &[String]) -> RuntimeResult<Vec<VolumeInfo>> {
        let filters = HashMap::from([("label", labels.to_vec())]);
        let options = ListVolumesOptionsBuilder::new().filters(&filters).build();
        let listed = self
            .bounded(
                "list volumes",
                CALL_SECS,
                self.client().list_volumes(Some(options)),
            )
            .await?;
        let mut volumes: Vec<VolumeInfo> = listed
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| VolumeInfo {
                name: v.name,
                labels: v.labels,
                mountpoint: v.mountpoint,
            })
            .collect();
        volumes.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(volumes)
    }

    async fn remove_volume(&self, name: &str) -> RuntimeResult<()> {
        self.bounded(
            "remove volume",
            CALL_SECS,
            self.client()
                .remove_volume(name, None::<RemoveVolumeOptions>),
        )
        .await
    }
}
