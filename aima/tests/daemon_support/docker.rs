//! Docker for the daemon tests: the simulator image, container queries, and a guard that
//! removes every container of a test's instance (and only those) when the test ends.

use std::process::{Command, Output};

pub const SIM: &str = env!("CARGO_BIN_EXE_aima-engine-sim");

pub fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the docker CLI: {e}"))
}

/// Fails the test with a clear message when Docker is not there: never a silent pass.
pub fn require_docker() {
    let out = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output();
    match out {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "this test needs a reachable Docker daemon (DOCKER_HOST or /var/run/docker.sock): {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!("this test needs the docker CLI and a Docker daemon: {e}"),
    }
}

/// Builds (or reuses) the simulator image with `env` baked in; returns its reference.
pub fn sim_image(env: &[&str]) -> String {
    require_docker();
    let mut cmd = Command::new(SIM);
    cmd.arg("image");
    for pair in env {
        cmd.args(["--env", pair]);
    }
    let out = cmd.output().expect("cannot run aima-engine-sim");
    assert!(
        out.status.success(),
        "aima-engine-sim image failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Ids of containers (any state) carrying every label.
pub fn containers_with(labels: &[&str]) -> Vec<String> {
    let filters: Vec<String> = labels.iter().map(|l| format!("label={l}")).collect();
    let mut args: Vec<&str> = vec!["ps", "-aq", "--no-trunc"];
    for f in &filters {
        args.extend(["--filter", f.as_str()]);
    }
    let out = docker(&args);
    assert!(out.status.success(), "docker ps failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// `running`, `exited`, … or None when the container does not exist.
pub fn state_of(container: &str) -> Option<String> {
    let out = docker(&["inspect", "--format", "{{.State.Status}}", container]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Removes every container of `instance` on drop, plus any extra containers named.
pub struct Cleanup {
    pub instance: String,
    pub extra: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let mut ids = containers_with(&[&format!("aima.instance={}", self.instance)]);
        ids.append(&mut self.extra);
        for id in ids {
            let _ = docker(&["rm", "--force", "--volumes", &id]);
        }
    }
}
