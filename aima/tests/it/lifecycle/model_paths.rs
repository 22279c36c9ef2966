//! Host directories reach an engine only as a local model's path under a model root: the paths a
//! hostile neighbour would try are refused (exit 2 / HTTP 400) with nothing stored, through the
//! CLI (the API's refusals are tested in `daemon_http`); a valid one is mounted read-only at
//! `/model` (real Docker), and a model from a registry mounts nothing.

use std::path::{Path, PathBuf};

use crate::support::aima::Aima;
use crate::support::docker::inspect;
use crate::support::lab::Lab;
use crate::support::ports::free_port;

/// What a neighbour tries (also sent to the API in `daemon_http`): the root of the host, an escape with `..`, a string that a `binds`
/// entry would read as extra mount fields.
const HOSTILE: [&str; 3] = ["/", "/srv/models/../../var/run", "/a:/b:rw"];

fn create_local(path: &str) -> Vec<&str> {
    let args = ["model", "create", "--name", "m", "--source", "local"];
    [&args[..], &["--repo", "m", "--path", path]].concat()
}

/// A model root holding `tiny/`, and a symlink in it pointing out of it; returns (root, model).
fn model_root(data_dir: &Path) -> (PathBuf, PathBuf) {
    let root = data_dir.join("models");
    let model = root.join("tiny");
    std::fs::create_dir_all(&model).unwrap();
    std::os::unix::fs::symlink("/etc", root.join("escape")).unwrap();
    (root, model)
}

#[test]
fn hostile_paths_are_usage_errors_through_the_cli_and_nothing_is_stored() {
    let aima = Aima::new();
    let (root, _) = model_root(aima.data_dir());
    let escape = root.join("escape");
    let dotdot = format!("{}/../../", root.display());
    let mut paths: Vec<&str> = HOSTILE.to_vec();
    paths.extend([escape.to_str().unwrap(), dotdot.as_str()]);
    let before = aima.store_contents();
    for path in paths {
        let out = aima.run(&create_local(path)).failure(2);
        assert!(out.stderr.contains("model path"), "{path}: {out}");
        assert!(out.stderr.contains("help:"), "{path}: {out}");
        assert_eq!(aima.store_contents(), before, "{path} left a record");
    }
    // A NUL byte cannot travel in an argument vector: the API test below sends one.
    let remote = [
        "model", "create", "--name", "m", "--source", "ollama", "--repo", "m", "--path", "/",
    ];
    aima.run(&remote)
        .failure(2)
        .stderr_has("only for local models");
    assert_eq!(aima.store_contents(), before);
}

#[test]
fn a_local_model_is_mounted_read_only_at_a_fixed_target() {
    let lab = Lab::new(&[]);
    let (_, model_dir) = model_root(lab.data_dir());
    let created = lab
        .run(&create_local(model_dir.to_str().unwrap()))
        .success();
    let model = crate::support::setup::string_at(&created.json_or_detail(), "/id");
    let port = free_port();
    let svc = lab.create_service(&model, &["--port", &port.to_string()]);
    lab.run(&["service", "start", &svc, "--wait", "--timeout", "60"])
        .success();

    let container = lab.container_of(&svc);
    let mounts: serde_json::Value =
        serde_json::from_str(&inspect(&container, "{{json .Mounts}}")).unwrap();
    let canonical = model_dir.canonicalize().unwrap();
    assert_eq!(mounts.as_array().map(Vec::len), Some(1), "{mounts}");
    let mount = &mounts[0];
    assert_eq!(mount["Type"], "bind", "{mount}");
    assert_eq!(mount["Source"], canonical.to_str().unwrap(), "{mount}");
    assert_eq!(mount["Destination"], "/model", "{mount}");
    assert_eq!(mount["RW"], false, "{mount}");
    assert!(inspect(&container, "{{json .Args}}").contains("\"/model\""));

    // Swapped for a symlink out of the roots after registration: the next start refuses it.
    lab.run(&["service", "stop", &svc]).success();
    std::fs::remove_dir(&model_dir).unwrap();
    std::os::unix::fs::symlink("/", &model_dir).unwrap();
    lab.run(&["service", "start", &svc, "--wait", "--timeout", "60"])
        .failure(7)
        .stderr_has("not under a model root");
    assert!(lab.containers().is_empty(), "{:?}", lab.containers());

    // A model from a registry has no path: its engine gets no host directory at all.
    let (remote, _) = lab.service();
    lab.run(&["service", "start", &remote, "--wait", "--timeout", "60"])
        .success();
    let container = lab.container_of(&remote);
    assert_eq!(inspect(&container, "{{json .Mounts}}"), "[]");
    lab.run(&["service", "stop", &remote]).success();
}
