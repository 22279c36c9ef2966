//! A single-node Swarm for the Swarm runtime's tests: joined through `ci/swarm.sh` (which turns
//! swarm mode on if it is off, and off again only when the last holder leaves and it turned it
//! on), and the Swarm services of a data dir.

use std::path::PathBuf;
use std::process::Command;

use super::docker::{docker, rows_with_labels};

/// Holds the shared swarm for this test process; leaves it on drop, even after a failed assert.
pub struct SwarmHold;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ci/swarm.sh")
}

fn swarm_sh(verb: &str) -> std::process::Output {
    Command::new("bash")
        .arg(script())
        .args([verb, &std::process::id().to_string()])
        .output()
        .expect("cannot run ci/swarm.sh")
}

impl SwarmHold {
    pub fn join() -> Self {
        super::docker::require_docker();
        let out = swarm_sh("up");
        assert!(
            out.status.success(),
            "ci/swarm.sh up failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SwarmHold
    }
}

impl Drop for SwarmHold {
    fn drop(&mut self) {
        let _ = swarm_sh("down");
    }
}

/// `docker service ls` names of the Swarm services carrying every label (`key=value`).
pub fn services_with(labels: &[&str]) -> Vec<String> {
    rows_with_labels(&["service", "ls"], "{{.Name}}", labels)
}

/// The Swarm's name for this machine's node.
pub fn this_node() -> String {
    let out = docker(&[
        "node",
        "inspect",
        "self",
        "--format",
        "{{.Description.Hostname}}",
    ]);
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
