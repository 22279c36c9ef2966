//! An Ollama service against real Docker, with the simulator's Ollama flavour as the engine
//! (`serve` with Ollama's address and model store): the first start pulls the model into the
//! store through Ollama's API; a restart mounts the same named volume, finds the model there
//! with `/api/show` and pulls nothing, as Ollama's own `/api/tags` and log then show. A model
//! Ollama cannot pull fails the start once, in the pull phase, leaving no container.

use serde_json::Value;

use crate::support::docker::{docker, inspect, sim_image};
use crate::support::http::http;
use crate::support::lab::Lab;
use crate::support::ports::free_port;
use crate::support::setup::create_service_args;

/// A lab whose Ollama engine is the simulator image.
fn ollama_lab() -> Lab {
    Lab::with_env(&[], &[("AIMA_OLLAMA_IMAGE", &sim_image(&[]))])
}

/// An Ollama model `name` and a service of it on a free port; returns (service id, port).
fn ollama_service(lab: &Lab, name: &str) -> (String, u16) {
    let created = lab
        .run(&[
            "model", "create", "--name", name, "--source", "ollama", "--repo", name, "-o", "json",
        ])
        .success()
        .json();
    let model = created["id"].as_str().unwrap().to_owned();
    let port = free_port();
    let port_arg = port.to_string();
    let args = create_service_args(&model, "ollama", &["--port", &port_arg, "-o", "json"]);
    let svc = lab.run(&args).success().json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (svc, port)
}

/// Ollama's `/api/tags`: the models in its store.
fn tags(port: u16) -> Value {
    let (status, body) = http(port, "GET", "/api/tags", None, None, 10).unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// `service VERB ID --wait` with its progress lines (not `-o json`, which keeps a start silent).
fn bring_up(lab: &Lab, verb: &str, svc: &str) -> String {
    let out = lab
        .run(&["service", verb, svc, "--wait", "--timeout", "120"])
        .success();
    let status = lab
        .run(&["service", "get", svc, "-o", "json"])
        .success()
        .json()["status"]
        .clone();
    assert_eq!(status, "running", "{out}");
    out.stderr
}

fn engine_log(container: &str) -> String {
    let out = docker(&["logs", container]);
    String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout)
}

#[test]
fn a_restart_finds_the_pulled_model_in_the_same_volume_and_pulls_nothing() {
    let lab = ollama_lab();
    let (svc, port) = ollama_service(&lab, "tinyllama");

    let first_start = bring_up(&lab, "start", &svc);
    assert!(
        first_start.contains("pulling model tinyllama"),
        "{first_start}"
    );
    let first = lab.container_of(&svc);
    let pulled = tags(port);
    assert_eq!(pulled["models"][0]["name"], "tinyllama:latest", "{pulled}");
    assert!(engine_log(&first).contains("POST /api/pull tinyllama"));
    let answer = lab
        .run(&["inference", "chat", &svc, "hello ollama", "-o", "json"])
        .success()
        .json();
    assert_eq!(answer["content"], "echo: hello ollama", "{answer}");

    let mounts = "{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}};{{end}}";
    let first_mounts = inspect(&first, mounts);
    let volume = format!("aima-cache-ollama-{}", lab.instance());
    assert!(
        first_mounts.contains(&format!("volume {volume} /root/.ollama")),
        "{first_mounts}"
    );

    let restart = bring_up(&lab, "restart", &svc);
    assert!(
        restart.contains("already in Ollama's store: no pull"),
        "{restart}"
    );
    let second = lab.container_of(&svc);
    assert_ne!(first, second, "a new container");
    assert_eq!(inspect(&second, mounts), first_mounts, "the same volume");
    let log = engine_log(&second);
    assert!(log.contains("POST /api/show tinyllama: present"), "{log}");
    assert!(
        !log.contains("/api/pull"),
        "the restart pulled again: {log}"
    );
    assert_eq!(tags(port), pulled, "the store is unchanged, same pull time");
}

#[test]
fn a_model_ollama_cannot_pull_fails_once_in_the_pull_phase() {
    let lab = ollama_lab();
    let (svc, _) = ollama_service(&lab, "missing-model");

    let failed = lab
        .run(&["service", "start", &svc, "--wait", "--timeout", "60"])
        .failure(7)
        .stderr_has("file does not exist");
    let record = lab
        .run(&["service", "get", &svc, "-o", "json"])
        .success()
        .json();
    assert_eq!(record["status"], "failed", "{failed}");
    let attempts = record["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "{record:#}");
    assert_eq!(attempts[0]["phase"], "pull", "{record:#}");
    assert_eq!(attempts[0]["code"], "pull_failed", "{record:#}");
    assert!(lab.containers().is_empty(), "{:?}", lab.containers());
}
