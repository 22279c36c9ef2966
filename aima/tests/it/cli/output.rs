//! Snapshots of what people read: tables, detail views and error texts, with ids, times and
//! paths redacted so that only wording and layout changes show up in review.

use crate::support::aima::Aima;
use crate::support::setup::{CREATE_REFERENCE_MODEL, create_model_args, create_service_args};
use crate::support::snapshot::settings;

/// A data dir with two models and three services (two vLLM, one Ollama).
fn populated() -> (Aima, String, String) {
    let aima = Aima::new();
    let model = aima.create_model();
    aima.run(&create_model_args(
        "qwen",
        "huggingface",
        "Qwen/Qwen2-0.5B",
        &[],
    ))
    .success();
    let svc = aima.create_service(&model, &[]);
    aima.create_service(&model, &["--name", "second-vllm"]);
    aima.run(&create_service_args(&model, "ollama", &[]))
        .success();
    (aima, model, svc)
}

#[test]
fn tables_and_detail_views() {
    let (aima, model, svc) = populated();
    settings(&aima, &[]).bind(|| {
        insta::assert_snapshot!("model_list", aima.run(&["model", "list"]).success().stdout);
        insta::assert_snapshot!(
            "model_get",
            aima.run(&["model", "get", &model]).success().stdout
        );
        insta::assert_snapshot!(
            "service_list",
            aima.run(&["service", "list"]).success().stdout
        );
        insta::assert_snapshot!(
            "service_get",
            aima.run(&["service", "get", &svc]).success().stdout
        );
    });
}

#[test]
fn create_prints_the_new_record() {
    let aima = Aima::new();
    let created = aima.run(&CREATE_REFERENCE_MODEL).success();
    let model = aima.create_model();
    let service = aima
        .run(&create_service_args(&model, "vllm", &[]))
        .success();
    settings(&aima, &[]).bind(|| {
        insta::assert_snapshot!("model_create", created.stdout);
        insta::assert_snapshot!("service_create", service.stdout);
    });
}

#[test]
fn json_lists() {
    let (aima, _, _) = populated();
    settings(&aima, &[]).bind(|| {
        insta::assert_snapshot!(
            "service_list_json",
            aima.run(&["service", "list", "-o", "json"])
                .success()
                .stdout
        );
        insta::assert_snapshot!(
            "model_list_json",
            aima.run(&["model", "list", "-o", "json"]).success().stdout
        );
    });
}

#[test]
fn empty_lists() {
    let aima = Aima::new();
    settings(&aima, &[]).bind(|| {
        insta::assert_snapshot!(
            "service_list_empty",
            aima.run(&["service", "list"]).success().stdout
        );
        insta::assert_snapshot!(
            "service_list_empty_json",
            aima.run(&["service", "list", "-o", "json"])
                .success()
                .stdout
        );
    });
}

#[test]
fn error_texts() {
    let (aima, model, _) = populated();
    let taken = create_service_args(&model, "ollama", &["--port", "8000"]);
    let conflict = aima.run(&taken).failure(4);
    let missing = aima.run(&["service", "get", "svc-deadbeef"]).failure(3);
    let missing_json = aima
        .run(&["service", "get", "svc-deadbeef", "-o", "json"])
        .failure(3);
    let delete = aima.run(&["model", "delete", &model]).failure(4);
    settings(&aima, &[]).bind(|| {
        insta::assert_snapshot!("error_port_assigned", conflict.stderr);
        insta::assert_snapshot!("error_not_found", missing.stderr);
        insta::assert_snapshot!("error_not_found_json", missing_json.stdout);
        insta::assert_snapshot!("error_model_in_use", delete.stderr);
    });
}

/// Needs no Docker: the broken `DOCKER_HOST` is refused before any connection.
#[test]
fn a_failed_start_as_shown_by_start_get_and_list() {
    let (aima, _, svc) = Aima::seeded();
    let env = [("DOCKER_HOST", "tcp://127.0.0.1:99999")];

    let start = aima
        .run_env(
            &env,
            &["service", "start", &svc, "--wait", "--timeout", "30"],
        )
        .failure(6);
    let start_json = aima
        .run_env(&env, &["service", "start", &svc, "-o", "json"])
        .failure(6);
    let get = aima.run(&["service", "get", &svc]).success();
    settings(&aima, &[]).bind(|| {
        insta::assert_snapshot!("start_docker_host_invalid", start.stderr);
        insta::assert_snapshot!("start_docker_host_invalid_json", start_json.stdout);
        insta::assert_snapshot!("service_get_failed", get.stdout);
    });
}

/// Names come from whoever can reach the API. Control characters are refused at create, but a
/// record written before that check (here: planted in the store) may hold them: in tables and
/// detail views their escape sequences and line breaks are shown escaped, never sent to the
/// terminal; JSON keeps them as data.
#[test]
fn escape_sequences_in_names_are_neutralised_in_table_output() {
    let aima = Aima::new();
    let hostile = "evil\x1b]0;owned\x07\x1b[2J\nfake-row\u{202e}";
    aima.run(&create_model_args(hostile, "ollama", "tinyllama", &[]))
        .failure(2)
        .stderr_has("control character");
    let created = aima
        .run(&create_model_args(
            "plain",
            "ollama",
            "tinyllama",
            &["-o", "json"],
        ))
        .success();
    let model = crate::support::setup::string_at(&created.json(), "/id");
    aima.run(&create_service_args(
        &model,
        "vllm",
        &["--name", "plain-svc"],
    ))
    .success();
    let db = rusqlite::Connection::open(aima.data_dir().join("aima.db")).unwrap();
    db.execute("UPDATE models SET name = ?1", [hostile])
        .unwrap();
    db.execute("UPDATE services SET name = ?1", [hostile])
        .unwrap();
    drop(db);
    for args in [
        &["model", "list"][..],
        &["model", "get", &model],
        &["service", "list"],
    ] {
        let out = aima.run(args).success();
        assert!(!out.stdout.contains('\x1b'), "{args:?}: {:?}", out.stdout);
        assert!(
            !out.stdout.contains('\u{202e}'),
            "{args:?}: {:?}",
            out.stdout
        );
        assert!(
            out.stdout.contains("evil\\u{1b}]0;owned\\u{7}"),
            "{args:?}: {}",
            out.stdout
        );
        assert!(
            !out.stdout.lines().any(|l| l.starts_with("fake-row")),
            "{}",
            out.stdout
        );
    }
    let json = aima.run(&["model", "get", &model, "-o", "json"]).success();
    assert_eq!(json.json()["name"], hostile);
}
