//! Unit tests of the service lifecycle against a fake Docker and a fake host: the state machine,
//! the retry policy and how failures are classified. No Docker, no sockets, no sleeps to speak of.

mod claim;
mod give_way;
mod gpus;
mod image;
mod liveness;
mod model_swap;
mod pull;
mod quota;
mod refresh;
mod room;
mod start;
mod stop;
mod supervise;
mod swarm;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use super::{Deps, StartOptions, labels};
use crate::config::Config;
use crate::domain::{ContainerId, HostPort, ServiceId};
use crate::domain::{EngineSpec, EngineType};
use crate::domain::{ModelSource, Owner, Service, Status};
use crate::error::Result;
use crate::host::{GpuReport, HostProbe, Liveness, PortHolder};
use crate::ops::{self, CreateModel, CreateService};
use crate::runtime::fake::{DATA_ROOT, FakeRuntime};
use crate::runtime::{ContainerInfo, SharedRuntime};
use crate::store::{Change, Store, StoreHandle};

/// The process the fake host says it is; every other owner is dead.
const ME: Owner = Owner {
    pid: 4242,
    start_time: 77,
    boot_id: 0xb007,
    pid_ns: 4026531836,
    lease_until: i64::MAX,
    claim: 0,
};
/// The port the fixture's service gets: vLLM's default, as nothing else holds it.
const PORT: HostPort = HostPort::new(8000).unwrap();

/// The host as the lifecycle sees it: scripted port holders and engine health.
struct FakeHost {
    blocked: Mutex<HashMap<u16, PortHolder>>,
    /// A runtime whose containers' published ports Docker's proxy holds on this host.
    proxied: Mutex<Option<Arc<FakeRuntime>>>,
    unhealthy: AtomicBool,
    /// What `nvidia-smi` would say; `None`: there is none.
    gpus: Mutex<Option<GpuReport>>,
    /// Free bytes on the disk of Docker's data root; `None`: the path is not visible here.
    docker_free: Mutex<Option<u64>>,
}

impl Default for FakeHost {
    /// Ports free, engines healthy, 1 TiB free for Docker.
    fn default() -> Self {
        FakeHost {
            blocked: Mutex::default(),
            proxied: Mutex::default(),
            unhealthy: AtomicBool::default(),
            gpus: Mutex::default(),
            docker_free: Mutex::new(Some(1 << 40)),
        }
    }
}

impl FakeHost {
    fn docker_free(&self, free: Option<u64>) {
        *self.docker_free.lock().unwrap() = free;
    }

    fn block(&self, port: HostPort, program: &str, pid: u32) {
        let holder = PortHolder {
            pid: Some(pid),
            program: Some(program.to_owned()),
            command: Some(format!("{program} -m http.server {port}")),
        };
        self.blocked.lock().unwrap().insert(port.get(), holder);
    }

    /// The ports `rt`'s containers publish are held by `docker-proxy`, as long as they do.
    fn proxy_for(&self, rt: Arc<FakeRuntime>) {
        *self.proxied.lock().unwrap() = Some(rt);
    }

    fn set_healthy(&self, healthy: bool) {
        self.unhealthy.store(!healthy, Ordering::SeqCst);
    }
}

#[async_trait]
impl HostProbe for FakeHost {
    fn port_blocked(&self, addr: SocketAddr) -> Option<PortHolder> {
        if let Some(holder) = self.blocked.lock().unwrap().get(&addr.port()) {
            return Some(holder.clone());
        }
        let rt = self.proxied.lock().unwrap().clone()?;
        let published = rt
            .containers()
            .iter()
            .any(|c| c.published_ports.iter().any(|p| *p == addr.port()));
        published.then(|| PortHolder {
            pid: Some(77),
            program: Some("docker-proxy".to_owned()),
            command: None,
        })
    }

    async fn health_status(&self, _addr: SocketAddr, _path: &str) -> Option<u16> {
        Some(if self.unhealthy.load(Ordering::SeqCst) {
            503
        } else {
            200
        })
    }

    fn current_owner(&self) -> Owner {
        ME
    }

    fn gpus(&self) -> GpuReport {
        self.gpus.lock().unwrap().clone().unwrap_or_else(|| {
            GpuReport::NoTooling("nvidia-smi is not installed on this host".to_owned())
        })
    }

    fn free_bytes(&self, path: &Path) -> std::io::Result<u64> {
        assert_eq!(
            path,
            Path::new(DATA_ROOT),
            "only Docker's data root is measured"
        );
        match *self.docker_free.lock().unwrap() {
            Some(free) => Ok(free),
            None => Err(std::io::ErrorKind::NotFound.into()),
        }
    }

    fn owner_liveness(&self, owner: Owner) -> Liveness {
        if owner.pid_ns != ME.pid_ns {
            Liveness::Unknowable
        } else if (owner.pid, owner.start_time) == (ME.pid, ME.start_time) {
            Liveness::Alive
        } else {
            Liveness::Dead
        }
    }
}

/// One vLLM service (3 start attempts, 1 ms backoff, no GPU) over a fake Docker and host.
struct Fixture {
    rt: Arc<FakeRuntime>,
    host: Arc<FakeHost>,
    deps: Deps,
    store: StoreHandle,
    id: ServiceId,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self::with_engine(|_| {})
    }

    fn with_engine(edit: impl FnOnce(&mut EngineSpec)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::load(dir.path(), crate::config::Env::default()).unwrap();
        let spec = config.engines.get_mut(&EngineType::Vllm).unwrap();
        spec.backoff_ms = 1;
        spec.gpu = false;
        edit(spec);
        let rt = Arc::new(FakeRuntime::new());
        let host = Arc::new(FakeHost::default());
        let connect_to = rt.clone();
        let deps = Deps {
            config,
            connect: Arc::new(move || Ok(connect_to.clone() as SharedRuntime)),
            host: host.clone(),
            acting: None,
        };
        let mut store = Store::open_in_memory().unwrap();
        let id = add_service(&deps, &mut store, NewService::default());
        Fixture {
            rt,
            host,
            deps,
            store: StoreHandle::new(Box::new(store)),
            id,
            _dir: dir,
        }
    }

    /// Starts with a generous deadline and no interruption.
    async fn start(&mut self, wait: bool) -> Result<Service> {
        let opts = StartOptions {
            wait,
            ..start_opts()
        };
        self.start_with(opts, std::future::pending()).await
    }

    /// Starts another service of the fixture's data dir as [`Fixture::start`] does, waiting.
    async fn start_service(&mut self, id: &ServiceId) -> Result<Service> {
        start_waiting(&self.deps, &self.store, id).await
    }

    /// Stops `id` gracefully, as `aima service stop` does.
    async fn stop_service(&mut self, id: &ServiceId) {
        let mode = super::StopMode::Graceful(None);
        super::stop(&self.deps, &self.store, id, mode)
            .await
            .unwrap();
    }

    /// Registers another service on a new model, as [`add_service`] does.
    fn add_service(&mut self, new: NewService<'_>) -> ServiceId {
        add_service(&self.deps, &mut self.store.sync(), new)
    }

    async fn start_with(
        &mut self,
        opts: StartOptions<'_>,
        interrupt: impl Future<Output = &'static str>,
    ) -> Result<Service> {
        super::start(&self.deps, &self.store, &self.id, opts, interrupt).await
    }

    fn service(&self) -> Service {
        self.store.sync().get_service(&self.id).unwrap()
    }

    /// Containers labelled for the fixture's service, in any state.
    fn own_containers(&self) -> Vec<ContainerInfo> {
        let id = self.id.to_string();
        self.rt
            .containers()
            .into_iter()
            .filter(|c| c.labels.get(labels::SERVICE) == Some(&id))
            .collect()
    }

    /// A container as an earlier start of `service` would have left it.
    fn add_labelled(&self, service: &ServiceId, running: bool) -> ContainerId {
        let labels = labels::labels_for(service, EngineType::Vllm, &self.deps.config.instance);
        let port = running.then_some(PORT);
        self.rt.add_container(
            &format!("aima-{service}-leftover"),
            "vllm/vllm-openai:latest",
            labels,
            port,
        )
    }

    /// Puts the row straight into `to`, as another process would have left it.
    fn force_status(&mut self, to: Status, owner: Option<Owner>, container: Option<&ContainerId>) {
        let all = Status::ALL;
        let change = Change {
            to,
            last_error: None,
            attempts: Vec::new(),
            container_id: container.cloned(),
            owner,
        };
        self.store
            .sync()
            .change_service(&self.id, &all, change)
            .unwrap();
    }
}

/// Start options as `aima service start` has them by default: wait for health within 30 s,
/// silently, with the engine's pull policy, on any node.
fn start_opts() -> StartOptions<'static> {
    StartOptions {
        wait: true,
        timeout: Duration::from_secs(30),
        progress: None,
        pull: None,
        node: None,
    }
}

/// Starts `id` with [`start_opts`], never interrupted.
fn start_waiting<'a>(
    deps: &'a Deps,
    store: &'a StoreHandle,
    id: &'a ServiceId,
) -> impl Future<Output = Result<Service>> + 'a {
    super::start(deps, store, id, start_opts(), std::future::pending())
}

/// What `aima service create` is given for a test's service; by default a vLLM service with no
/// `--port`, `--gpus` or `--memory`.
struct NewService<'a> {
    engine: EngineType,
    port: Option<u16>,
    gpus: Option<&'a str>,
    memory: Option<&'a str>,
    restart: Option<&'a str>,
    settings: ops::settings::SettingsRequest,
}

impl Default for NewService<'_> {
    fn default() -> Self {
        NewService {
            engine: EngineType::Vllm,
            port: None,
            gpus: None,
            memory: None,
            restart: None,
            settings: Default::default(),
        }
    }
}

/// Registers a model (`tiny`, Ollama's `tinyllama`) and a service on it as `new` says.
fn add_service(deps: &Deps, store: &mut Store, new: NewService<'_>) -> ServiceId {
    let model = ops::create_model(
        &deps.config,
        store,
        CreateModel {
            name: "tiny".into(),
            source: ModelSource::Ollama,
            repo: "tinyllama".into(),
            path: None,
            model_type: None,
        },
    )
    .unwrap();
    let req = CreateService {
        model_id: model.id.to_string(),
        engine_type: new.engine,
        port: new.port,
        name: None,
        bind: None,
        gpus: new.gpus.map(str::to_owned),
        memory: new.memory.map(str::to_owned),
        restart: new.restart.map(str::to_owned),
        settings: new.settings,
    };
    ops::create_service(deps, store, req).unwrap().id
}

/// Asserts that `text` contains `part`, showing `text` when it does not.
#[track_caller]
fn assert_has(text: &str, part: &str) {
    assert!(text.contains(part), "{text}");
}
