//! Real Docker: a local model's directory swapped for a symlink to `/` after aima checked it
//! and put back right after Docker mounted it. Docker follows the symlink when it starts the
//! container, so the engine gets `/`; only a look into the container can tell, and aima's looks:
//! the start fails (not retried) and the container is gone. Docker runs through aima's own
//! runtime, wrapped to do the swap at the moment of `start`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use aima::api::{ApiState, router};
use aima::config::{Config, Env};
use aima::domain::{ContainerId, HostPort};
use aima::host::RealHost;
use aima::lifecycle::Deps;
use aima::runtime::{
    ContainerInfo, ContainerSpec, ContainerState, DataRoot, DockerEndpoint, DockerVersion,
    GpuSupport, Here, Placement, PullProgress, Runtime, RuntimeResult, SharedRuntime, VolumeInfo,
    docker_at,
};
use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::docker::sim_image;
use crate::support::lab::Lab;
use crate::support::ports::free_port;

/// Docker, except that `start` swaps the model directory for a symlink to `/` just before it
/// asks Docker, and puts the directory back as soon as Docker answers.
struct SwapAroundStart {
    docker: SharedRuntime,
    model: PathBuf,
    swaps: Mutex<u32>,
}

impl SwapAroundStart {
    fn aside(&self) -> PathBuf {
        self.model.with_file_name("tiny.aside")
    }
}

#[async_trait]
impl Runtime for SwapAroundStart {
    fn address(&self) -> String {
        self.docker.address()
    }
    async fn placement(&self, id: &ContainerId) -> RuntimeResult<Option<Placement>> {
        self.docker.placement(id).await
    }
    async fn here(&self, constraints: &[String]) -> RuntimeResult<Here> {
        self.docker.here(constraints).await
    }
    async fn ping(&self) -> RuntimeResult<()> {
        self.docker.ping().await
    }
    async fn list(&self, labels: &[String]) -> RuntimeResult<Vec<ContainerInfo>> {
        self.docker.list(labels).await
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
    async fn data_root(&self) -> RuntimeResult<DataRoot> {
        self.docker.data_root().await
    }
    async fn create(&self, spec: &ContainerSpec) -> RuntimeResult<ContainerId> {
        self.docker.create(spec).await
    }
    async fn start(&self, id: &ContainerId, host_port: HostPort) -> RuntimeResult<()> {
        std::fs::rename(&self.model, self.aside()).unwrap();
        std::os::unix::fs::symlink("/", &self.model).unwrap();
        let started = self.docker.start(id, host_port).await;
        std::fs::remove_file(&self.model).unwrap();
        std::fs::rename(self.aside(), &self.model).unwrap();
        *self.swaps.lock().unwrap() += 1;
        started
    }
    async fn state(&self, id: &ContainerId) -> RuntimeResult<ContainerState> {
        self.docker.state(id).await
    }
    async fn logs_tail(&self, id: &ContainerId, lines: usize) -> RuntimeResult<Vec<String>> {
        self.docker.logs_tail(id, lines).await
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
        self.docker.logs(id, tail, follow, sink).await
    }
    async fn stop_and_remove(&self, id: &ContainerId, force: bool) -> RuntimeResult<()> {
        self.docker.stop_and_remove(id, force).await
    }
    async fn stop_within(&self, id: &ContainerId, grace_secs: u32) -> RuntimeResult<()> {
        self.docker.stop_within(id, grace_secs).await
    }
    async fn list_volumes(&self, labels: &[String]) -> RuntimeResult<Vec<VolumeInfo>> {
        self.docker.list_volumes(labels).await
    }
    async fn remove_volume(&self, name: &str) -> RuntimeResult<()> {
        self.docker.remove_volume(name).await
    }
}

/// Whether this process may look into another's root (`/proc/PID/root`): root may; say why a
/// test is skipped when not, and fail under `CI=true`, which runs as root.
fn may_look_into_containers() -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !ci,
        "this test looks into a container's /proc/PID/root and needs root (CI runs as root)"
    );
    eprintln!("SKIPPED: looking into a container's mounts needs root");
    false
}

async fn call(app: &axum::Router, method: &str, uri: &str, body: Value) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn model_dir(data_dir: &Path) -> PathBuf {
    let dir = data_dir.join("models").join("tiny");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), "{}").unwrap();
    dir.canonicalize().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swap_undone_right_after_dockers_mount_is_caught_inside_the_container() {
    if !may_look_into_containers() {
        return;
    }
    let lab = Lab::new(&[]);
    let env = Env::from_pairs([
        ("AIMA_VLLM_IMAGE", sim_image(&[])),
        ("AIMA_VLLM_GPU", "false".to_owned()),
        ("AIMA_VLLM_PULL", "never".to_owned()),
    ]);
    let config = Config::load(lab.data_dir(), env).unwrap();
    let model = model_dir(lab.data_dir());
    let endpoint = DockerEndpoint::parse(std::env::var("DOCKER_HOST").ok().as_deref()).unwrap();
    let swapper = Arc::new(SwapAroundStart {
        docker: docker_at(endpoint).unwrap(),
        model: model.clone(),
        swaps: Mutex::new(0),
    });
    let connect_to = swapper.clone();
    let deps = Deps {
        config,
        connect: Arc::new(move || Ok(connect_to.clone() as SharedRuntime)),
        host: Arc::new(RealHost),
        acting: None,
    };
    let app = router(ApiState::new(deps, None));

    let body = json!({"name": "tiny", "source": "local", "repo": "tiny", "path": model});
    let (status, created) = call(&app, "POST", "/api/v2/models", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let body = json!({"model_id": created["id"], "engine_type": "vllm", "port": free_port()});
    let (status, svc) = call(&app, "POST", "/api/v2/services", body).await;
    assert_eq!(status, StatusCode::CREATED, "{svc}");
    let id = svc["id"].as_str().unwrap();

    let start = json!({"wait": true, "timeout": 60});
    let (status, err) = call(&app, "POST", &format!("/api/v2/services/{id}/start"), start).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
    assert_eq!(err["error"]["code"], "start_failed", "{err}");
    let message = err["error"]["message"].as_str().unwrap();
    let expected = format!("than the checked model directory {}", model.display());
    assert!(
        message.contains("has another directory at /model"),
        "{message}"
    );
    assert!(message.contains(&expected), "{message}");
    let attempts = err["error"]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "a swap is not retried: {err}");
    assert_eq!(attempts[0]["code"], "model_swapped", "{err}");
    assert_eq!(*swapper.swaps.lock().unwrap(), 1);
    assert!(lab.containers().is_empty(), "left: {:?}", lab.containers());
    assert!(model.is_dir(), "the directory is back in place");
}
