//! The CLI contract the reference scenario types, run literally: ids, JSON shapes, default ports.

use crate::support::aima::Aima;
use crate::support::setup::{create_model_args, create_service_args};

#[test]
fn the_reference_scenario_set_up_works_literally() {
    let aima = Aima::new();

    let model_id = aima.create_model();
    assert!(is_id(&model_id, "model-"), "{model_id}");

    aima.run(&create_service_args(&model_id, "vllm", &[]))
        .success();
    let services = aima
        .run(&["service", "list", "--output", "json"])
        .success()
        .json();
    let svc = &services["items"][0];
    assert_eq!(services["total"], 1);
    assert!(is_id(svc["id"].as_str().unwrap(), "svc-"), "{svc}");
    assert_eq!(svc["port"], 8000);
    assert_eq!(svc["status"], "created");
    assert_eq!(svc["model_id"], model_id.as_str());
    assert_eq!(svc["engine_type"], "vllm");
    assert!(svc["last_error"].is_null());
    assert!(svc["created_at"].as_str().unwrap().ends_with('Z'), "{svc}");
}

#[test]
fn lists_are_oldest_first_so_the_last_item_is_the_newest() {
    let aima = Aima::new();
    let model = aima.create_model();
    let first = aima.create_service(&model, &[]);
    let second = aima.create_service(&model, &["--name", "second"]);
    let third = aima.create_service(&model, &["--port", "9123"]);

    let list = aima
        .run(&["service", "list", "-o", "json"])
        .success()
        .json();
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [first.as_str(), second.as_str(), third.as_str()]);
    assert_eq!(list["total"], 3);
    let ports: Vec<u64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["port"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ports,
        [8000, 8001, 9123],
        "default ports skip those already assigned"
    );
    assert_eq!(list["items"][1]["name"], "second");
}

#[test]
fn records_carry_the_documented_fields() {
    let (aima, model, svc) = Aima::seeded();

    let m = aima
        .run(&["model", "get", &model, "-o", "json"])
        .success()
        .json();
    for field in ["id", "name", "status", "created_at"] {
        assert!(!m[field].is_null(), "model lacks {field}: {m}");
    }
    assert_eq!(
        (m["source"].as_str(), m["repo"].as_str()),
        (Some("ollama"), Some("tinyllama"))
    );

    let s = aima
        .run(&["service", "get", &svc, "-o", "json"])
        .success()
        .json();
    for field in [
        "id",
        "name",
        "status",
        "created_at",
        "model_id",
        "engine_type",
        "port",
        "last_error",
    ] {
        assert!(s.get(field).is_some(), "service lacks {field}: {s}");
    }
}

#[test]
fn several_services_may_share_one_model_and_engines_have_their_default_ports() {
    let aima = Aima::new();
    let model = aima.create_model();
    for (engine, port) in [("vllm", 8000), ("ollama", 11434)] {
        let out = aima
            .run(&create_service_args(&model, engine, &["-o", "json"]))
            .success();
        assert_eq!(out.json()["port"], port, "{out}");
    }
    // llama.cpp takes a repository only as `owner/name` (through `-hf`).
    let gguf_repo = create_model_args(
        "qwen",
        "huggingface",
        "Qwen/Qwen2-0.5B-Instruct-GGUF",
        &["-o", "json"],
    );
    let gguf_model = aima.run(&gguf_repo).success().json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = aima
        .run(&create_service_args(
            &gguf_model,
            "llamacpp",
            &["-o", "json"],
        ))
        .success();
    assert_eq!(out.json()["port"], 8080, "{out}");
}

#[test]
fn llama_cpp_refuses_a_model_it_cannot_load_at_create() {
    let aima = Aima::new();
    let model = aima.create_model();
    let out = aima
        .run(&create_service_args(&model, "llamacpp", &[]))
        .failure(2);
    let text = out.to_string();
    assert!(
        text.contains("neither a local .gguf file or directory nor a Hugging Face repository id"),
        "{text}"
    );
    let list = aima
        .run(&["service", "list", "-o", "json"])
        .success()
        .json();
    assert_eq!(list["total"], 0, "nothing is stored");
}

#[test]
fn deleting_a_model_in_use_needs_force() {
    let (aima, model, svc) = Aima::seeded();

    aima.run(&["model", "delete", &model])
        .failure(4)
        .stderr_has(&format!("is used by service(s) {svc}"))
        .stderr_has("help: ");
    aima.run(&["model", "delete", &model, "--force"]).success();
    let (models, services) = aima.store_contents();
    assert_eq!(
        (models["total"].as_u64(), services["total"].as_u64()),
        (Some(0), Some(0))
    );
}

#[test]
fn a_created_service_can_be_deleted() {
    let (aima, _, svc) = Aima::seeded();

    aima.run(&["service", "delete", &svc]).success();
    aima.run(&["service", "get", &svc]).failure(3);
}

fn is_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|hex| {
        hex.len() == 8
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}
