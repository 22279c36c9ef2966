//! A scriptable in-memory [`Runtime`] for tests: script what Docker does ("unreachable", "port
//! taken at start", "the engine exits on start N times", "image missing", "no GPU runtime",
//! foreign containers), then assert on the calls it saw and the containers it still holds.
//!
//! Compiled for aima's unit tests, and for its integration tests through the `test-support`
//! feature (never into the product): the HTTP router's tests drive it without Docker.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use tokio::sync::Semaphore;

use crate::domain::{ContainerId, HostPort};
use super::{
    ContainerAction, ContainerEvent, ContainerInfo, ContainerSpec, ContainerState, DataRoot,
    DockerFault, DockerVersion, EventStream, GpuSupport, PullProgress, Runtime, RuntimeError,
    RuntimeResult, VolumeInfo,
};

pub const ADDRESS: &str = "fake://docker";
/// The memory of the fake Docker host: 16 GiB.
pub const HOST_MEMORY: u64 = 16 << 30;
/// Where the fake Docker keeps its data.
pub const DATA_ROOT: &str = "/var/lib/docker";

/// The runtime operations, to script a failure of the next call of one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Ping,
    List,
    ImageExists,
    HasGpuRuntime,
    Version,
    HostMemory,
    DataRoot,
    Create,
    Start,
    State,
    LogsTail,
    Pull,
    Logs,
    StopAndRemove,
}

/// One call the caller made, in order, with the argument that identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Ping,
    List(Vec<String>),
    ImageExists(String),
    HasGpuRuntime,
    Version,
    HostMemory,
    DataRoot,
    /// The container name asked for.
    Create(String),
    Start(ContainerId),
    State(ContainerId),
    LogsTail(ContainerId),
    Pull(String),
    Logs(ContainerId),
    StopAndRemove {
        id: ContainerId,
        force: bool,
    },
    StopWithin {
        id: ContainerId,
        grace_secs: u32,
    },
}

/// How an engine ends right after its container started.
#[derive(Debug, Clone)]
struct Exit {
    code: i64,
    oom_killed: bool,
    logs: Vec<String>,
}

#[derive(Debug)]
struct Container {
    info: ContainerInfo,
    state: ContainerState,
    /// Published once started, as `docker ps` shows it.
    port: Option<HostPort>,
    logs: Vec<String>,
}

#[derive(Default)]
struct World {
    unreachable: bool,
    image_missing: bool,
    no_gpu: bool,
    remote: bool,
    failures: HashMap<Op, VecDeque<RuntimeError>>,
    exits: VecDeque<Exit>,
    containers: BTreeMap<ContainerId, Container>,
    created: Vec<ContainerId>,
    specs: Vec<ContainerSpec>,
    volumes: BTreeMap<String, VolumeInfo>,
    removed: Vec<ContainerId>,
    calls: Vec<Call>,
    next_id: u32,
    /// Code to run just before the next call of an operation (see [`FakeRuntime::before`]).
    hooks: HashMap<Op, VecDeque<Hook>>,
}

/// Something a test does at a chosen moment of a start, e.g. swapping a model directory.
type Hook = Box<dyn FnOnce() + Send>;

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("containers", &self.containers)
            .field("calls", &self.calls)
            .finish_non_exhaustive()
    }
}

/// By default Docker answers, every image exists, a GPU runtime is installed and engines start.
#[derive(Debug, Default)]
pub struct FakeRuntime {
    world: Mutex<World>,
    /// Calls to hold at the door until the test opens it (see [`FakeRuntime::hold_next`]).
    gates: Mutex<HashMap<Op, Arc<Gate>>>,
    /// The open event stream's sender, and how many streams were opened (see
    /// [`FakeRuntime::emit`]).
    events: Mutex<(Option<EventSender>, usize)>,
}

type EventSender = tokio::sync::mpsc::UnboundedSender<RuntimeResult<ContainerEvent>>;

/// A call held before it reaches the fake Docker, so that a test can act while it is in
/// flight (a stop during a create, say) and then let it through.
#[derive(Debug)]
pub struct Gate {
    arrived: Semaphore,
    open: Semaphore,
}

impl Gate {
    /// Waits until the held call has come to the door.
    pub async fn arrived(&self) {
        self.arrived.acquire().await.expect("never closed").forget();
    }

    /// Lets the held call through.
    pub fn open(&self) {
        self.open.add_permits(1);
    }
}

impl FakeRuntime {
    pub fn new() -> Self {
        Self::default()
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Holds the next call of `op` (create, start or state) at the door until the gate opens.
    pub fn hold_next(&self, op: Op) -> Arc<Gate> {
        let gate = Arc::new(Gate {
            arrived: Semaphore::new(0),
            open: Semaphore::new(0),
        });
        self.gates.lock().unwrap().insert(op, gate.clone());
        gate
    }

    async fn door(&self, op: Op) {
        let gate = self.gates.lock().unwrap().remove(&op);
        if let Some(gate) = gate {
            gate.arrived.add_permits(1);
            gate.open.acquire().await.expect("never closed").forget();
        }
    }

    /// Every call fails as if the daemon were gone.
    pub fn unreachable(&self) {
        self.world().unreachable = true;
    }

    pub fn image_missing(&self) {
        self.world().image_missing = true;
    }

    pub fn no_gpu_runtime(&self) {
        self.world().no_gpu = true;
    }

    /// Docker runs on another machine: its data root is not a path of this one.
    pub fn remote(&self) {
        self.world().remote = true;
    }

    /// Runs `hook` just before the next call of `op` does anything (queued: call again for
    /// later calls), outside the fake's lock: a test's moment between a check and Docker.
    pub fn before(&self, op: Op, hook: impl FnOnce() + Send + 'static) {
        self.world()
            .hooks
            .entry(op)
            .or_default()
            .push_back(Box::new(hook));
    }

    /// Runs the hook queued for `op`, if any.
    fn run_hook(&self, op: Op) {
        let hook = self
            .world()
            .hooks
            .get_mut(&op)
            .and_then(VecDeque::pop_front);
        if let Some(hook) = hook {
            hook();
        }
    }

    /// The next call of `op` fails with `error` (queued: call again for later calls).
    pub fn fail_next(&self, op: Op, error: RuntimeError) {
        self.world()
            .failures
            .entry(op)
            .or_default()
            .push_back(error);
    }

    /// Docker refuses to publish `port` at the next start: a race lost after preflight.
    pub fn port_taken_at_start(&self, port: HostPort) {
        let detail = format!(
            "driver failed programming external connectivity: listen tcp4 0.0.0.0:{port}: bind: address already in use"
        );
        self.fail_next(
            Op::Start,
            RuntimeError::PortConflict {
                port,
                node: None,
                cause: DockerFault::new(detail),
            },
        );
    }

    /// The next `times` engines exit with code 1 right after start, printing `logs`.
    pub fn crash_on_start(&self, times: usize, logs: &[&str]) {
        let exit = Exit {
            code: 1,
            oom_killed: false,
            logs: logs.iter().map(|l| l.to_string()).collect(),
        };
        self.world().exits.extend(std::iter::repeat_n(exit, times));
    }

    /// The next engine is killed by the kernel's OOM killer right after start, without a word.
    pub fn oom_killed_on_start(&self) {
        self.world().exits.push_back(Exit {
            code: 137,
            oom_killed: true,
            logs: Vec::new(),
        });
    }

    /// Adds an existing container (running when `port` is published); returns its id.
    pub fn add_container(
        &self,
        name: &str,
        image: &str,
        labels: HashMap<String, String>,
        port: Option<HostPort>,
    ) -> ContainerId {
        let mut w = self.world();
        let id = w.new_id();
        let container = Container {
            info: ContainerInfo {
                id: id.clone(),
                name: name.to_owned(),
                image: image.to_owned(),
                state: if port.is_some() { "running" } else { "created" }.to_owned(),
                labels,
                published_ports: port.into_iter().collect(),
                node: None,
            },
            state: ContainerState {
                running: port.is_some(),
                ..ContainerState::default()
            },
            port,
            logs: Vec::new(),
        };
        w.containers.insert(id.clone(), container);
        id
    }

    /// A running container that aima does not manage (no labels), publishing `port`.
    pub fn add_foreign(&self, name: &str, image: &str, port: HostPort) -> ContainerId {
        self.add_container(name, image, HashMap::new(), Some(port))
    }

    /// A running engine dies later, e.g. after a detached start.
    pub fn exit_container(&self, id: &ContainerId, code: i64, logs: &[&str]) {
        let mut w = self.world();
        let c = w
            .containers
            .get_mut(id)
            .expect("exit_container: no such container");
        c.state = ContainerState {
            running: false,
            exit_code: Some(code),
            oom_killed: false,
            pid: None,
        };
        c.info.state = "exited".to_owned();
        c.info.published_ports.clear();
        c.logs.extend(logs.iter().map(|l| l.to_string()));
    }

    /// The kernel's OOM killer stops a running container (exit code 137, `OOMKilled`).
    pub fn oom_kill(&self, id: &ContainerId) {
        self.exit_container(id, 137, &[]);
        if let Some(c) = self.world().containers.get_mut(id) {
            c.state.oom_killed = true;
        }
    }

    /// Sends `event` down the open event stream; false when none is open.
    pub fn emit(&self, event: ContainerEvent) -> bool {
        let events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        events.0.as_ref().is_some_and(|tx| tx.send(Ok(event)).is_ok())
    }

    /// The `die` event of a container that [`FakeRuntime::exit_container`] ended.
    pub fn death_of(&self, id: &ContainerId) -> ContainerEvent {
        let w = self.world();
        let c = w.containers.get(id).expect("death_of: no such container");
        ContainerEvent {
            container: id.clone(),
            action: ContainerAction::Die,
            labels: c.info.labels.clone(),
            exit_code: c.state.exit_code,
        }
    }

    /// Breaks the open event stream with `error`, as a Docker restart does.
    pub fn break_events(&self, error: RuntimeError) {
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = events.0.take() {
            let _ = tx.send(Err(error));
        }
    }

    /// How many event streams were opened.
    pub fn event_streams_opened(&self) -> usize {
        self.events.lock().unwrap_or_else(|e| e.into_inner()).1
    }

    pub fn calls(&self) -> Vec<Call> {
        self.world().calls.clone()
    }

    /// Ids of the containers created through [`Runtime::create`], in order.
    pub fn created(&self) -> Vec<ContainerId> {
        self.world().created.clone()
    }

    /// What every [`Runtime::create`] was asked for, in order.
    pub fn specs(&self) -> Vec<ContainerSpec> {
        self.world().specs.clone()
    }

    /// Named volumes that exist (created by a container that mounted them).
    pub fn volumes(&self) -> Vec<VolumeInfo> {
        self.world().volumes.values().cloned().collect()
    }

    /// Ids of the containers removed, in order.
    pub fn removed(&self) -> Vec<ContainerId> {
        self.world().removed.clone()
    }

    /// Containers that still exist, in any state.
    pub fn containers(&self) -> Vec<ContainerInfo> {
        self.world()
            .containers
            .values()
            .map(|c| c.info.clone())
            .collect()
    }

    /// How many recorded calls match `pred`.
    pub fn count(&self, pred: impl Fn(&Call) -> bool) -> usize {
        self.world().calls.iter().filter(|c| pred(c)).count()
    }
}

impl World {
    /// Like Docker with `force`: removing a container that is already gone is not an error.
    fn remove(&mut self, id: &ContainerId) {
        if self.containers.remove(id).is_some() {
            self.removed.push(id.clone());
        }
    }

    fn new_id(&mut self) -> ContainerId {
        self.next_id += 1;
        format!("fake{:08}", self.next_id).into()
    }

    /// Records the call, then answers with a scripted failure if there is one.
    fn enter(&mut self, op: Op, call: Call) -> RuntimeResult<()> {
        self.calls.push(call);
        if self.unreachable {
            return Err(RuntimeError::Unavailable {
                address: ADDRESS.to_owned(),
                cause: DockerFault::new("Connection refused (os error 111)"),
            });
        }
        match self.failures.get_mut(&op).and_then(VecDeque::pop_front) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    fn container(&mut self, id: &ContainerId) -> RuntimeResult<&mut Container> {
        self.containers
            .get_mut(id)
            .ok_or_else(|| RuntimeError::NoSuchContainer(id.clone()))
    }
}

fn has_labels(info: &ContainerInfo, selector: &[String]) -> bool {
    selector.iter().all(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        info.labels.get(key).is_some_and(|v| v == value)
    })
}

#[async_trait]
impl Runtime for FakeRuntime {
    fn address(&self) -> String {
        ADDRESS.to_owned()
    }

    /// A stream the test feeds with [`FakeRuntime::emit`]; opening one closes the previous.
    /// It filters nothing: the test sends what it wants seen.
    fn container_events(&self, _labels: &[String], _since: i64) -> Option<EventStream> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        *events = (Some(tx), events.1 + 1);
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        Some(Box::pin(stream))
    }

    async fn ping(&self) -> RuntimeResult<()> {
        self.world().enter(Op::Ping, Call::Ping)
    }

    async fn list(&self, labels: &[String]) -> RuntimeResult<Vec<ContainerInfo>> {
        let mut w = self.world();
        w.enter(Op::List, Call::List(labels.to_vec()))?;
        Ok(w.containers
            .values()
            .filter(|c| has_labels(&c.info, labels))
            .map(|c| c.info.clone())
            .collect())
    }

    async fn image_exists(&self, image: &str) -> RuntimeResult<bool> {
        self.run_hook(Op::ImageExists);
        let mut w = self.world();
        w.enter(Op::ImageExists, Call::ImageExists(image.to_owned()))?;
        Ok(!w.image_missing)
    }

    async fn gpu_support(&self) -> RuntimeResult<GpuSupport> {
        let mut w = self.world();
        w.enter(Op::HasGpuRuntime, Call::HasGpuRuntime)?;
        Ok(if w.no_gpu {
            GpuSupport::default()
        } else {
            GpuSupport {
                nvidia_runtimes: vec!["nvidia".to_owned()],
                cdi_spec_dirs: Vec::new(),
            }
        })
    }

    async fn data_root(&self) -> RuntimeResult<DataRoot> {
        let mut w = self.world();
        w.enter(Op::DataRoot, Call::DataRoot)?;
        Ok(DataRoot {
            path: DATA_ROOT.to_owned(),
            local: !w.remote,
        })
    }

    async fn version(&self) -> RuntimeResult<DockerVersion> {
        self.world().enter(Op::Version, Call::Version)?;
        Ok(DockerVersion {
            version: "0.0.0-fake".to_owned(),
            api_version: "1.41".to_owned(),
        })
    }

    async fn host_memory(&self) -> RuntimeResult<u64> {
        let mut w = self.world();
        w.enter(Op::HostMemory, Call::HostMemory)?;
        Ok(HOST_MEMORY)
    }

    async fn create(&self, spec: &ContainerSpec) -> RuntimeResult<ContainerId> {
        self.door(Op::Create).await;
        self.run_hook(Op::Create);
        let mut w = self.world();
        w.enter(Op::Create, Call::Create(spec.name.clone()))?;
        if w.image_missing {
            return Err(RuntimeError::ImageMissing {
                image: spec.image.clone(),
                node: None,
            });
        }
        let id = w.new_id();
        let container = Container {
            info: ContainerInfo {
                id: id.clone(),
                name: spec.name.clone(),
                image: spec.image.clone(),
                state: "created".to_owned(),
                labels: spec.labels.clone(),
                published_ports: Vec::new(),
                node: None,
            },
            state: ContainerState::default(),
            port: Some(spec.host_port),
            logs: Vec::new(),
        };
        w.containers.insert(id.clone(), container);
        w.created.push(id.clone());
        if let Some(cache) = &spec.cache {
            // Like Docker: a named volume is created by the first container mounting it.
            w.volumes
                .entry(cache.name.clone())
                .or_insert_with(|| VolumeInfo {
                    name: cache.name.clone(),
                    labels: cache.labels.clone(),
                    mountpoint: format!("/var/lib/docker/volumes/{}/_data", cache.name),
                });
        }
        w.specs.push(spec.clone());
        Ok(id)
    }

    async fn start(&self, id: &ContainerId, _host_port: HostPort) -> RuntimeResult<()> {
        self.door(Op::Start).await;
        self.run_hook(Op::Start);
        let mut w = self.world();
        w.enter(Op::Start, Call::Start(id.clone()))?;
        let exit = w.exits.pop_front();
        let c = w.container(id)?;
        match exit {
            None => {
                c.state.running = true;
                c.info.state = "running".to_owned();
                c.info.published_ports = c.port.into_iter().collect();
            }
            Some(exit) => {
                c.state = ContainerState {
                    running: false,
                    exit_code: Some(exit.code),
                    oom_killed: exit.oom_killed,
                    pid: None,
                };
                c.info.state = "exited".to_owned();
                c.logs = exit.logs;
            }
        }
        Ok(())
    }

    async fn state(&self, id: &ContainerId) -> RuntimeResult<ContainerState> {
        self.door(Op::State).await;
        let mut w = self.world();
        w.enter(Op::State, Call::State(id.clone()))?;
        Ok(w.container(id)?.state.clone())
    }

    async fn logs_tail(&self, id: &ContainerId, lines: usize) -> RuntimeResult<Vec<String>> {
        let mut w = self.world();
        w.enter(Op::LogsTail, Call::LogsTail(id.clone()))?;
        let logs = &w.container(id)?.logs;
        Ok(logs[logs.len().saturating_sub(lines)..].to_vec())
    }

    /// Reports one layer downloading then complete, after which the image is present.
    async fn pull(
        &self,
        image: &str,
        progress: &(dyn for<'p> Fn(&'p PullProgress) + Send + Sync),
    ) -> RuntimeResult<()> {
        self.world().enter(Op::Pull, Call::Pull(image.to_owned()))?;
        for (status, current) in [("Downloading", Some(512)), ("Pull complete", None)] {
            progress(&PullProgress {
                layer: "fakelayer01".to_owned(),
                status: status.to_owned(),
                current,
                total: current.map(|_| 1024),
            });
        }
        self.world().image_missing = false;
        Ok(())
    }

    async fn logs(
        &self,
        id: &ContainerId,
        tail: Option<usize>,
        _follow: bool,
        sink: &mut (dyn FnMut(String) + Send),
    ) -> RuntimeResult<()> {
        let lines = {
            let mut w = self.world();
            w.enter(Op::Logs, Call::Logs(id.clone()))?;
            let logs = &w.container(id)?.logs;
            let from = tail.map_or(0, |n| logs.len().saturating_sub(n));
            logs[from..].to_vec()
        };
        lines.into_iter().for_each(sink);
        Ok(())
    }

    /// Like Docker with `force`: removing a container that is already gone is not an error.
    async fn stop_and_remove(&self, id: &ContainerId, force: bool) -> RuntimeResult<()> {
        let mut w = self.world();
        let call = Call::StopAndRemove {
            id: id.clone(),
            force,
        };
        w.enter(Op::StopAndRemove, call)?;
        w.remove(id);
        Ok(())
    }

    async fn stop_within(&self, id: &ContainerId, grace_secs: u32) -> RuntimeResult<()> {
        let mut w = self.world();
        let call = Call::StopWithin {
            id: id.clone(),
            grace_secs,
        };
        w.enter(Op::StopAndRemove, call)?;
        w.remove(id);
        Ok(())
    }

    async fn list_volumes(&self, labels: &[String]) -> RuntimeResult<Vec<VolumeInfo>> {
        let w = self.world();
        if w.unreachable {
            return Err(RuntimeError::Unavailable {
                address: "fake".to_owned(),
                cause: DockerFault::new("unreachable"),
            });
        }
        let carries = |v: &VolumeInfo| {
            labels.iter().all(|l| {
                let (k, val) = l.split_once('=').unwrap_or((l, ""));
                v.labels.get(k).is_some_and(|x| x == val)
            })
        };
        Ok(w.volumes.values().filter(|v| carries(v)).cloned().collect())
    }

    async fn remove_volume(&self, name: &str) -> RuntimeResult<()> {
        match self.world().volumes.remove(name) {
            Some(_) => Ok(()),
            None => Err(RuntimeError::api(
                "remove volume",
                404,
                &format!("get {name}: no such volume"),
            )),
        }
    }
}
