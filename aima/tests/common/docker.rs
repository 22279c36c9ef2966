//! Real Docker for the lifecycle tests: require it, build the simulator image, find containers
//! by label, block a port with another program, and a [`Lab`] that leaves nothing behind.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::ops::Deref;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

use sha2::{Digest, Sha256};

use super::Aima;

pub const SIM: &str = env!("CARGO_BIN_EXE_aima-engine-sim");

/// Fails (never skips) when no Docker daemon answers: these tests exist to run against one.
#[track_caller]
pub fn require_docker() {
    let out = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output();
    let why = match out {
        Ok(out) if out.status.success() => return,
        Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
        Err(e) => format!("cannot run the docker CLI: {e}"),
    };
    let host =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    panic!(
        "this test needs a Docker daemon at {host}, and none answers: {why}\n\
         start one (ci/ brings one up) and run the tests again"
    );
}

pub fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `docker {}`: {e}", args.join(" ")))
}

/// `docker ps -a` rows (`name status`) of the containers carrying `label` (`key=value`).
pub fn containers_labelled(label: &str) -> Vec<String> {
    let filter = format!("label={label}");
    let out = docker(&[
        "ps",
        "-a",
        "--filter",
        &filter,
        "--format",
        "{{.Names}} {{.Status}}",
    ]);
    assert!(
        out.status.success(),
        "docker ps: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The simulator image with `env` baked in (e.g. `AIMA_SIM_CRASH=error`), built once per process.
pub fn sim_image(env: &[&str]) -> String {
    static IMAGES: OnceLock<Mutex<HashMap<Vec<String>, String>>> = OnceLock::new();
    let key: Vec<String> = env.iter().map(|e| e.to_string()).collect();
    let mut images = IMAGES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(image) = images.get(&key) {
        return image.clone();
    }
    let mut cmd = Command::new(SIM);
    cmd.arg("image");
    for pair in env {
        cmd.args(["--env", pair]);
    }
    let out = cmd.output().expect("cannot run aima-engine-sim");
    assert!(
        out.status.success(),
        "aima-engine-sim image {env:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let image = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    images.insert(key, image.clone());
    image
}

/// The `aima.instance` label of a data dir: a short hash of its canonical path.
pub fn instance_of(data_dir: &Path) -> String {
    let canonical = data_dir
        .canonicalize()
        .unwrap_or_else(|_| data_dir.to_owned());
    let digest = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// An `aima` using the simulator image for vLLM. On drop it stops every service of its data dir
/// and removes whatever container still carries its instance label, even after a failed assert.
pub struct Lab {
    aima: Aima,
}

impl Lab {
    pub fn new(sim_env: &[&str]) -> Self {
        require_docker();
        let image = sim_image(sim_env);
        Lab {
            aima: Aima::new().env("AIMA_VLLM_IMAGE", &image),
        }
    }

    /// The scenario's model plus a vLLM service on a free port; returns (service id, port).
    pub fn service(&self) -> (String, u16) {
        let model = self.create_model();
        let port = super::free_port();
        let id = self.create_service(&model, &["--port", &port.to_string()]);
        (id, port)
    }

    pub fn instance(&self) -> String {
        instance_of(self.data_dir())
    }

    /// Containers of this lab's data dir, in any state.
    pub fn containers(&self) -> Vec<String> {
        containers_labelled(&format!("aima.instance={}", self.instance()))
    }
}

impl Deref for Lab {
    type Target = Aima;
    fn deref(&self) -> &Aima {
        &self.aima
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let listed = self.aima.run(&["service", "list", "-o", "json"]);
        if let Ok(list) = serde_json::from_str::<serde_json::Value>(&listed.stdout) {
            for svc in list["items"].as_array().into_iter().flatten() {
                if let Some(id) = svc["id"].as_str() {
                    let _ = self.aima.run(&["service", "stop", "--force", id]);
                }
            }
        }
        let filter = format!("label=aima.instance={}", self.instance());
        let ids = docker(&["ps", "-aq", "--filter", &filter]);
        for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
            let _ = docker(&["rm", "-f", id]);
        }
    }
}

/// Another program holding a port, as in the reference scenario: python3 listening on 0.0.0.0.
pub struct PortBlocker {
    child: Child,
}

impl PortBlocker {
    pub fn python(port: u16) -> Self {
        let script = format!(
            "import socket, time\n\
             s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n\
             s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
             s.bind(('0.0.0.0', {port}))\n\
             s.listen(1)\n\
             print('ready', flush=True)\n\
             time.sleep(600)\n"
        );
        let mut child = Command::new("python3")
            .args(["-c", &script])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot run python3 to block a port");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the blocker's stdout");
        if line.trim() != "ready" {
            let _ = child.kill();
            let out = child.wait_with_output().expect("wait for the blocker");
            panic!(
                "the python3 blocker could not hold port {port}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        PortBlocker { child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for PortBlocker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
