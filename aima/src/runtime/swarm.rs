//! The Swarm implementation of [`Runtime`]: an engine is a one-replica Swarm service whose id
//! stands where a container id stands on plain Docker. Everything not about running engines
//! (images, volumes, memory, version) is the manager's Docker, through [`DockerRuntime`].
//!
//! A start creates the service and watches its one task: the first failure is classified with
//! the node it happened on, and the Swarm never replaces the task (restart condition `none`),
//! so a failed service is removed by the lifecycle like a failed container, with nothing left
//! retrying.

mod remove;
mod spec;
mod tasks;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bollard::models::{Node, Task};
use bollard::query_parameters::{
    ListNodesOptions, ListServicesOptionsBuilder, ListTasksOptionsBuilder,
};

use super::docker::CALL_SECS;
use crate::domain::{ContainerId, HostPort};
use super::{
    ContainerInfo, ContainerSpec, ContainerState, DataRoot, DockerEndpoint, DockerFault,
    DockerRuntime,
    DockerVersion, GpuSupport, Here, Placement, PullProgress, Runtime, RuntimeError, RuntimeResult,
    VolumeInfo,
};
use tasks::{NodeView, Progress, TaskView};

/// Between two looks at a new task: a failure shows within a second, so look often.
const WATCH: Duration = Duration::from_millis(100);
/// How long a task may take to be placed and started (the node may pull the image).
const START_SECS: u64 = 120;
/// Swarm's label on a task's container, naming its service.
const SERVICE_ID_LABEL: &str = "com.docker.swarm.service.id";

pub struct SwarmRuntime {
    docker: DockerRuntime,
}

impl SwarmRuntime {
    pub fn connect(endpoint: DockerEndpoint) -> RuntimeResult<Self> {
        Ok(SwarmRuntime {
            docker: DockerRuntime::connect(endpoint)?,
        })
    }

    async fn nodes(&self) -> RuntimeResult<Vec<NodeView>> {
        let nodes = self
            .docker
            .bounded(
                "list Swarm nodes",
                CALL_SECS,
                self.docker.client().list_nodes(None::<ListNodesOptions>),
            )
            .await?;
        Ok(nodes.into_iter().map(node_view).collect())
    }

    /// The tasks of one service, or of all when `service` is `None`.
    async fn tasks(&self, service: Option<&str>) -> RuntimeResult<Vec<TaskView>> {
        let mut filters = HashMap::new();
        if let Some(id) = service {
            filters.insert("service", vec![id.to_owned()]);
        }
        let options = ListTasksOptionsBuilder::new().filters(&filters).build();
        let listed = self
            .docker
            .bounded(
                "list Swarm tasks",
                CALL_SECS,
                self.docker.client().list_tasks(Some(options)),
            )
            .await;
        match listed {
            Ok(listed) => Ok(listed.into_iter().map(task_view).collect()),
            // The service is gone, and its tasks with it.
            Err(RuntimeError::Api { status: 404, .. }) if service.is_some() => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// The local node's id, as the manager's Docker reports it.
    async fn local_node(&self) -> RuntimeResult<String> {
        let info = self
            .docker
            .bounded("info", CALL_SECS, self.docker.client().info())
            .await?;
        Ok(info.swarm.and_then(|s| s.node_id).unwrap_or_default())
    }

    /// The service's image, for classifying its task's failure; [`RuntimeError::NoSuchContainer`]
    /// when there is no such service.
    async fn image_of(&self, id: &ContainerId) -> RuntimeResult<String> {
        let service = self
            .docker
            .bounded(
                "inspect Swarm service",
                CALL_SECS,
                self.docker.client().inspect_service(id.as_str(), None),
            )
            .await
            .map_err(|e| no_such_service(id, e))?;
        Ok(service
            .spec
            .as_ref()
            .and_then(|s| s.task_template.as_ref())
            .and_then(|t| t.container_spec.as_ref())
            .and_then(|c| c.image.clone())
            .unwrap_or_default())
    }

    /// The containers of a service's tasks on the manager's own node.
    async fn local_containers(&self, service: &ContainerId) -> RuntimeResult<Vec<ContainerInfo>> {
        self.docker
            .list(&[format!("{SERVICE_ID_LABEL}={service}")])
            .await
    }
}

fn node_view(node: Node) -> NodeView {
    NodeView {
        id: node.id.unwrap_or_default(),
        hostname: node
            .description
            .and_then(|d| d.hostname)
            .unwrap_or_default(),
        addr: node.status.and_then(|s| s.addr).unwrap_or_default(),
    }
}

fn task_view(task: Task) -> TaskView {
    let status = task.status.unwrap_or_default();
    let container = status.container_status.unwrap_or_default();
    TaskView {
        id: task.id.unwrap_or_default(),
        service_id: task.service_id.unwrap_or_default(),
        node_id: task.node_id.filter(|n| !n.is_empty()),
        state: status.state.map(|s| s.to_string()).unwrap_or_default(),
        desired: task
            .desired_state
            .map(|s| s.to_string())
            .unwrap_or_default(),
        err: status.err.filter(|e| !e.is_empty()),
        exit_code: container.exit_code,
        container_id: container
            .container_id
            .filter(|c| !c.is_empty())
            .map(ContainerId::from),
        version: task.version.and_then(|v| v.index).unwrap_or(0),
    }
}

/// A 404 on a service is the Swarm's "no such container".
fn no_such_service(id: &ContainerId, e: RuntimeError) -> RuntimeError {
    match e {
        RuntimeError::Api { status: 404, .. } => RuntimeError::NoSuchContainer(id.clone()),
        other => other,
    }
}

#[async_trait]
impl Runtime for SwarmRuntime {
    fn address(&self) -> String {
        self.docker.address()
    }

    async fn placement(&self, id: &ContainerId) -> RuntimeResult<Option<Placement>> {
        let tasks = self.tasks(Some(id.as_str())).await?;
        let nodes = self.nodes().await?;
        Ok(tasks::newest(&tasks, id.as_str()).and_then(|t| tasks::placement_of(t, &nodes)))
    }

    /// Also refuses a node asked for by name that the Swarm does not have, naming those it has.
    async fn here(&self, constraints: &[String]) -> RuntimeResult<Here> {
        let local = self.local_node().await?;
        let nodes = self.nodes().await?;
        if let Some(unknown) = tasks::unknown_node(&nodes, constraints) {
            let known: Vec<&str> = nodes.iter().map(|n| n.hostname.as_str()).collect();
            return Err(RuntimeError::Task {
                node: None,
                message: format!(
                    "the Swarm has no node named {unknown} (its nodes: {})",
                    known.join(", ")
                ),
            });
        }
        Ok(Here {
            possible: tasks::candidates(&nodes, constraints)
                .iter()
                .any(|n| n.id == local),
            node: Some(tasks::node_name(&nodes, &local)),
        })
    }

    /// Docker answers, and is a Swarm manager (only managers create services).
    async fn ping(&self) -> RuntimeResult<()> {
        self.docker.ping().await?;
        let info = self
            .docker
            .bounded("info", CALL_SECS, self.docker.client().info())
            .await?;
        let swarm = info.swarm.unwrap_or_default();
        let state = swarm
            .local_node_state
            .map(|s| s.to_string())
            .unwrap_or_default();
        if state == "active" && swarm.control_available == Some(true) {
            return Ok(());
        }
        let state = match (state.as_str(), swarm.control_available) {
            ("active", _) => "active, as a worker".to_owned(),
            ("", _) => "unknown".to_owned(),
            (other, _) => other.to_owned(),
        };
        Err(RuntimeError::NotSwarmManager {
            address: self.address(),
            state,
        })
    }

    /// Services carrying every one of `labels`, one entry per service: its id, name, image,
    /// its newest task's state and node, and its ports while that task holds them.
    async fn list(&self, labels: &[String]) -> RuntimeResult<Vec<ContainerInfo>> {
        let mut filters = HashMap::new();
        if !labels.is_empty() {
            filters.insert("label", labels.to_vec());
        }
        let options = ListServicesOptionsBuilder::new().filters(&filters).build();
        let services = self
            .docker
            .bounded(
                "list Swarm services",
                CALL_SECS,
                self.docker.client().list_services(Some(options)),
            )
            .await?;
        if services.is_empty() {
            return Ok(Vec::new());
        }
        let tasks = self.tasks(None).await?;
        let nodes = self.nodes().await?;
        Ok(services
            .into_iter()
            .map(|s| {
                let id = s.id.clone().unwrap_or_default();
                let task = tasks::newest(&tasks, &id);
                let active = task.is_some_and(TaskView::is_active);
                let spec = s.spec.as_ref();
                ContainerInfo {
                    name: spec.and_then(|s| s.name.clone()).unwrap_or_default(),
                    image: spec
                        .and_then(|s| s.task_template.as_ref())
                        .and_then(|t| t.container_spec.as_ref())
                        .and_then(|c| c.image.clone())
                        .unwrap_or_default(),
                    state: task.map_or_else(|| "no task".to_owned(), |t| t.state.clone()),
                    labels: spec.and_then(|s| s.labels.clone()).unwrap_or_default(),
                    published_ports: if active {
                        spec::published_ports(spec)
                    } else {
                        Vec::new()
                    },
                    node: task
                        .and_then(|t| t.node_id.as_deref())
                        .map(|n| tasks::node_name(&nodes, n)),
                    id: id.into(),
                }
            })
            .collect())
    }

    async fn image_exists(&self, image: &str) -> RuntimeResult<bool> {
        self.docker.image_exists(image).await
    }

    async fn gpu_support(&self) -> RuntimeResult<GpuSupport> {
        self.docker.gpu_support().await
    }

    async fn version(&self) -> RuntimeResult<DockerVersion> {
        self.docker.version().await
    }

    async fn host_memory(&self) -> RuntimeResult<u64> {
        self.docker.host_memory().await
    }

    /// The manager's: other nodes' disks are out of its sight.
    async fn data_root(&self) -> RuntimeResult<DataRoot> {
        self.docker.data_root().await
    }

    async fn create(&self, spec: &ContainerSpec) -> RuntimeResult<ContainerId> {
        if spec.gpus.is_some() {
            return Err(RuntimeError::Task {
                node: None,
                message: "aima does not place GPU engines on a Swarm yet".to_owned(),
            });
        }
        let created = self
            .docker
            .bounded(
                "create Swarm service",
                CALL_SECS,
                self.docker
                    .client()
                    .create_service(spec::service_spec(spec), None),
            )
            .await?;
        created.id.map(ContainerId::from).ok_or_else(|| RuntimeError::Api {
            operation: "create Swarm service",
            status: 200,
            cause: DockerFault::new("the Swarm created a service but gave no id"),
        })
    }

    /// Watches the service's task until its container runs, or the task fails: a failure
    /// before the engine ran is classified with its node; an engine that ran and exited is
    /// left to [`Runtime::state`], as a container that exited.
    async fn start(&self, id: &ContainerId, host_port: HostPort) -> RuntimeResult<()> {
        let image = self.image_of(id).await?;
        let until = Instant::now() + Duration::from_secs(START_SECS);
        let mut nodes = self.nodes().await?;
        loop {
            let tasks = self.tasks(Some(id.as_str())).await?;
            let task = tasks::newest(&tasks, id.as_str());
            if task.is_some_and(|t| t.node_id.iter().any(|n| !nodes.iter().any(|v| &v.id == n))) {
                nodes = self.nodes().await?;
            }
            match tasks::progress(task, &nodes, host_port, &image) {
                Progress::Running | Progress::Exited => return Ok(()),
                Progress::Failed(e) => return Err(e),
                Progress::Waiting => {}
            }
            if Instant::now() >= until {
                return Err(RuntimeError::Timeout {
                    address: self.address(),
                    operation: "starting the Swarm service's task",
                    secs: START_SECS,
                });
            }
            tokio::time::sleep(WATCH).await;
        }
    }

    async fn state(&self, id: &ContainerId) -> RuntimeResult<ContainerState> {
        let tasks = self.tasks(Some(id.as_str())).await?;
        let Some(task) = tasks::newest(&tasks, id.as_str()) else {
            // A service without a task was removed, or never got one: look which.
            self.image_of(id).await?;
            return Ok(ContainerState::default());
        };
        let running = matches!(
            task.state.as_str(),
            "running" | "starting" | "ready" | "preparing" | "assigned" | "accepted" | "pending"
        );
        // The kernel's verdict is on the node; on the manager's own node it can be read.
        let mut oom_killed = false;
        if !running && let Some(container) = &task.container_id {
            let local = self.local_node().await.unwrap_or_default();
            if task.node_id.as_deref() == Some(local.as_str())
                && let Ok(state) = self.docker.state(container).await
            {
                oom_killed = state.oom_killed;
            }
        }
        Ok(ContainerState {
            running,
            exit_code: task.exit_code,
            oom_killed,
            // The task may run on another node, out of this host's sight.
            pid: None,
        })
    }

    async fn logs_tail(&self, id: &ContainerId, lines: usize) -> RuntimeResult<Vec<String>> {
        self.docker
            .tail_lines(true, id, lines)
            .await
            .map_err(|e| no_such_service(id, e))
    }

    async fn pull(
        &self,
        image: &str,
        progress: &(dyn for<'p> Fn(&'p PullProgress) + Send + Sync),
    ) -> RuntimeResult<()> {
        self.docker.pull(image, progress).await
    }

    async fn logs(
        &self,
        id: &ContainerId,
        tail: Option<usize>,
        follow: bool,
        sink: &mut (dyn FnMut(String) + Send),
    ) -> RuntimeResult<()> {
        self.docker.stream_logs(true, id, tail, follow, sink).await
    }

    async fn stop_and_remove(&self, id: &ContainerId, force: bool) -> RuntimeResult<()> {
        let grace = (!force).then_some(crate::domain::DEFAULT_STOP_SECS);
        self.remove_service(id, grace).await
    }

    async fn stop_within(&self, id: &ContainerId, grace_secs: u32) -> RuntimeResult<()> {
        self.remove_service(id, Some(grace_secs)).await
    }

    async fn list_volumes(&self, labels: &[String]) -> RuntimeResult<Vec<VolumeInfo>> {
        self.docker.list_volumes(labels).await
    }

    async fn remove_volume(&self, name: &str) -> RuntimeResult<()> {
        self.docker.remove_volume(name).await
    }
}
