//! Real Docker: require it (fail, never skip, without it), run the docker CLI, and build the
//! engine simulator's image with `aima-engine-sim image`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

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

/// The simulator image with `env` baked in (e.g. `AIMA_SIM_CRASH=error`), built once per process;
/// requires Docker first.
#[track_caller]
pub fn sim_image(env: &[&str]) -> String {
    static IMAGES: OnceLock<Mutex<HashMap<Vec<String>, String>>> = OnceLock::new();
    require_docker();
    let key: Vec<String> = env.iter().map(|e| e.to_string()).collect();
    let mut images = IMAGES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(image) = images.get(&key) {
        return image.clone();
    }
    let mut cmd = Command::new(sim_binary());
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

/// The `aima-engine-sim` binary of this build, which lives in its own workspace crate: it sits
/// in the target directory's profile folder, next to the `deps/` folder holding this test
/// executable. `cargo nextest run --workspace` builds it; when it is missing (e.g. only `-p aima`
/// was built), `cargo build -p aima-engine-sim` produces it once.
fn sim_binary() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let test_exe = std::env::current_exe().expect("cannot find this test executable");
        let profile_dir = test_exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("test executable is not in <target>/<profile>/deps");
        let sim = profile_dir.join("aima-engine-sim");
        if !sim.exists() {
            // The folder is named after the profile, except `dev`'s, which is `debug`.
            let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
                Some("debug") | None => "dev",
                Some(name) => name,
            };
            let status = Command::new(env!("CARGO"))
                .args(["build", "-p", "aima-engine-sim", "--profile", profile])
                .arg("--manifest-path")
                .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"))
                .env(
                    "CARGO_TARGET_DIR",
                    profile_dir.parent().expect("target dir"),
                )
                .status()
                .expect("cannot run cargo to build aima-engine-sim");
            assert!(
                status.success() && sim.exists(),
                "`cargo build -p aima-engine-sim` did not produce {} ({status}); build it with \
                 `cargo build --workspace` and run the tests again",
                sim.display()
            );
        }
        sim
    })
    .clone()
}

/// `docker inspect --format FORMAT container`, trimmed; panics when Docker refuses.
pub fn inspect(container: &str, format: &str) -> String {
    let out = docker(&["inspect", "--format", format, container]);
    assert!(out.status.success(), "docker inspect {container}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The output lines of `docker COMMAND --format FORMAT` filtered to the objects carrying every
/// label (`key=value`); panics when Docker refuses.
pub fn rows_with_labels(command: &[&str], format: &str, labels: &[&str]) -> Vec<String> {
    let mut args = command.to_vec();
    args.extend(["--format", format]);
    let filters: Vec<String> = labels.iter().map(|l| format!("label={l}")).collect();
    for filter in &filters {
        args.extend(["--filter", filter.as_str()]);
    }
    let out = docker(&args);
    assert!(
        out.status.success(),
        "docker {}: {}",
        command.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}
