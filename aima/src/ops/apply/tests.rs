use super::*;
use crate::config::{Config, Env};
use crate::domain::{EngineType, Gpus, HostPort, RestartPolicy, Status};
use crate::ops::{CreateModel, create_model};
use crate::store::{NewService, Store};

const FILE: &str = r#"
[models.qwen]
source = "huggingface"
repo = "Qwen/Qwen2-0.5B"

[services.qwen-long]
model = "qwen"
engine = "vllm"
port = 8000
args = ["--max-model-len", "8192"]
env = { VLLM_LOGGING_LEVEL = "INFO" }
memory = "16g"
restart = "on-failure:5"
state = "running"
"#;

struct World {
    _dir: tempfile::TempDir,
    config: Config,
    store: Store,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::load(dir.path(), Env::default()).unwrap();
    let store = Store::open(&dir.path().join("aima.db")).unwrap();
    World {
        _dir: dir,
        config,
        store,
    }
}

fn planned(w: &World, text: &str, prune: bool) -> crate::error::Result<Plan> {
    let parsed = parse("fleet.toml", text)?;
    let models = w.store.list_models().unwrap();
    let services = w.store.list_services().unwrap();
    plan(
        &w.config,
        &parsed,
        &Current {
            models: &models,
            services: &services,
        },
        prune,
    )
}

fn shown(plan: &Plan) -> Vec<String> {
    plan.steps
        .iter()
        .map(|s| {
            let changes: Vec<String> = s
                .changes
                .iter()
                .map(|c| format!(" {}: {} -> {}", c.field, c.old, c.new))
                .collect();
            format!(
                "{} {} {}{}",
                s.action.as_str(),
                s.kind,
                s.name,
                changes.concat()
            )
        })
        .collect()
}

/// The store as the file describes it, the service `status`.
fn as_in_file(w: &mut World, status: Status, memory: u64) {
    let model = create_model(
        &w.config,
        &mut w.store,
        CreateModel {
            name: "qwen".into(),
            source: crate::domain::ModelSource::Huggingface,
            repo: "Qwen/Qwen2-0.5B".into(),
            path: None,
            model_type: None,
        },
    )
    .unwrap();
    let settings = crate::ops::settings::merged(
        EngineType::Vllm,
        &Default::default(),
        &crate::ops::settings::SettingsRequest {
            args: Some(vec!["--max-model-len".into(), "8192".into()]),
            env: vec![("VLLM_LOGGING_LEVEL".into(), "INFO".into())],
            ..Default::default()
        },
    )
    .unwrap();
    let svc = w
        .store
        .create_service(NewService {
            model_id: model.id,
            engine_type: EngineType::Vllm,
            name: Some("qwen-long".into()),
            port: HostPort::new(8000),
            default_port: HostPort::new(8000).unwrap(),
            port_range: None,
            bind: "127.0.0.1".parse().unwrap(),
            gpus: Gpus::All,
            memory_bytes: Some(memory),
            restart: RestartPolicy::parse("on-failure:5").unwrap(),
            settings,
        })
        .unwrap();
    if status != Status::Created {
        let change = crate::store::Change {
            to: status,
            last_error: None,
            attempts: Vec::new(),
            container_id: None,
            owner: None,
        };
        w.store
            .change_service(&svc.id, &[Status::Created], change)
            .unwrap();
    }
}

#[test]
fn an_empty_data_dir_gets_everything_created_then_started() {
    let w = world();
    assert_eq!(
        shown(&planned(&w, FILE, false).unwrap()),
        [
            "create model qwen",
            "create service qwen-long",
            "start service qwen-long"
        ]
    );
}

#[test]
fn a_data_dir_as_the_file_says_has_nothing_to_do() {
    let mut w = world();
    as_in_file(&mut w, Status::Running, 16 << 30);
    let plan = planned(&w, FILE, false).unwrap();
    assert!(!plan.changes_anything(), "{:?}", shown(&plan));
}

#[test]
fn a_changed_field_is_an_update_with_old_and_new_and_a_running_service_restarts() {
    let mut w = world();
    as_in_file(&mut w, Status::Running, 8 << 30);
    assert_eq!(
        shown(&planned(&w, FILE, false).unwrap()),
        [
            "unchanged model qwen",
            "update service qwen-long memory: 8g -> 16g",
            "restart service qwen-long",
        ]
    );
}

#[test]
fn a_stopped_service_is_started_and_prune_deletes_what_the_file_leaves_out() {
    let mut w = world();
    as_in_file(&mut w, Status::Created, 16 << 30);
    let only_model = "[models.qwen]\nsource = \"huggingface\"\nrepo = \"Qwen/Qwen2-0.5B\"\n";
    assert_eq!(
        shown(&planned(&w, only_model, false).unwrap()),
        ["unchanged model qwen"]
    );
    assert_eq!(
        shown(&planned(&w, only_model, true).unwrap()),
        ["unchanged model qwen", "delete service qwen-long"]
    );
    assert_eq!(
        shown(&planned(&w, FILE, false).unwrap()),
        ["unchanged model qwen", "start service qwen-long"]
    );
}

#[test]
fn errors_name_the_file_line_and_key_and_a_bad_file_plans_nothing() {
    let w = world();
    for (text, says) in [
        (
            "[services.a]\nmodel = \"m\"\nengine = \"vllm\"\ncolour = 1\n",
            "fleet.toml, line 4",
        ),
        (
            "[services.a]\nmodel = \"m\"\nengine = \"tgi\"\n",
            "fleet.toml, line 1, services.a.engine",
        ),
        (
            "[models.m]\nsource = \"x\"\nrepo = \"r\"\n",
            "fleet.toml, line 1, models.m.source",
        ),
        (
            "\n[services.a]\nmodel = \"m\"\nengine = \"vllm\"\nstate = \"up\"\n",
            "fleet.toml, line 2, services.a.state",
        ),
        (
            "[services.a]\nmodel = \"nope\"\nengine = \"vllm\"\n",
            "services.a.model: no model",
        ),
        (
            "[models.m]\nsource = \"ollama\"\nrepo = \"r\"\n[services.a]\nmodel = \"m\"\nengine = \"vllm\"\nargs = [\"--port\", \"1\"]\n",
            "fleet.toml, line 4, services.a: --arg \"--port\"",
        ),
        (
            "[models.m]\nsource = \"ollama\"\nrepo = \"r\"\n[services.a]\nmodel = \"m\"\nengine = \"vllm\"\nenv = { HF_TOKEN = { stored = true } }\n",
            "services.a.env.HF_TOKEN",
        ),
    ] {
        let err = planned(&w, text, false).unwrap_err();
        assert_eq!(err.code.exit_code(), 2, "{}", err.message);
        assert!(err.message.contains(says), "{text}\n{}", err.message);
    }
}

#[test]
fn an_export_planned_again_changes_nothing_and_keeps_secrets_out() {
    let mut w = world();
    as_in_file(&mut w, Status::Created, 16 << 30);
    let id = w.store.list_services().unwrap()[0].id.clone();
    let mut svc = w.store.get_service(&id).unwrap();
    svc.settings.env.push(crate::domain::EnvVar::new(
        "HF_TOKEN".into(),
        "hf_s3cret".into(),
    ));
    let config = crate::store::ServiceConfig::of(&svc);
    w.store
        .update_service(&id, &config, &[Status::Created])
        .unwrap();
    let models = w.store.list_models().unwrap();
    let services = w.store.list_services().unwrap();
    let text = toml::to_string(&export(&models, &services).unwrap()).unwrap();
    assert!(!text.contains("s3cret"), "{text}");
    assert!(text.contains("stored = true"), "{text}");
    let plan = planned(&w, &text, true).unwrap();
    assert!(!plan.changes_anything(), "{text}\n{:?}", shown(&plan));
}

#[test]
fn a_failed_step_read_back_from_an_answer_fails_with_its_exit_code() {
    let answer = r#"{"action": "start", "kind": "service", "name": "s1", "result": "failed",
        "exit_code": 5, "error": "port 8000 is in use"}"#;
    let outcome: Outcome = serde_json::from_str(answer).unwrap();
    let err = failed(&[outcome]).expect("a failed step");
    assert_eq!(err.code.exit_code(), 5);
    assert!(
        err.message.contains("start service s1: port 8000"),
        "{}",
        err.message
    );
    let done: Outcome = serde_json::from_str(&answer.replace("failed", "done")).unwrap();
    assert!(failed(&[done]).is_none());
}
