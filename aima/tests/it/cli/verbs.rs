//! The day-to-day verbs without an engine: naming services and models by name or id prefix,
//! ambiguity, `service list --status` and `-q`, the endpoint, and what `logs` and `restart`
//! refuse.

use crate::support::aima::Aima;
use crate::support::setup::{create_service_args, string_at};
use crate::support::snapshot::settings;

/// Two models and three services, two of them both named `twin`.
fn named() -> (Aima, String, Vec<String>) {
    let aima = Aima::new();
    let model = aima.create_model();
    let solo = aima.create_service(&model, &["--name", "solo"]);
    let twin1 = aima.create_service(&model, &["--name", "twin"]);
    let twin2 = aima.create_service(&model, &["--name", "twin"]);
    (aima, model, vec![solo, twin1, twin2])
}

fn id_of(aima: &Aima, args: &[&str]) -> String {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    string_at(&aima.run(&args).success().json(), "/id")
}

#[test]
fn services_and_models_are_found_by_name_and_by_unique_id_prefix() {
    let (aima, model, svcs) = named();
    let solo = &svcs[0];
    assert_eq!(&id_of(&aima, &["service", "get", "solo"]), solo);
    assert_eq!(
        &id_of(&aima, &["service", "get", &solo[4..]]),
        solo,
        "hex alone"
    );
    assert_eq!(
        &id_of(&aima, &["service", "get", &solo[..10]]),
        solo,
        "svc- and 6 hex"
    );
    assert_eq!(id_of(&aima, &["model", "get", "port-test-model"]), model);
    assert_eq!(id_of(&aima, &["model", "get", &model[6..12]]), model);

    // Every command taking an id takes a name too: create, stop and delete here.
    let created = aima
        .run(&create_service_args(
            "port-test-model",
            "ollama",
            &["--name", "by-model-name"],
        ))
        .success();
    assert!(created.stdout.contains(&model), "{created}");
    let stopped = aima
        .run(&["service", "stop", "solo", "-o", "json"])
        .success();
    assert_eq!(stopped.json()["status"], "stopped", "{stopped}");
    aima.run(&["service", "delete", "by-model-name"]).success();
}

#[test]
fn an_ambiguous_name_is_a_usage_error_listing_the_candidates() {
    let (aima, _model, svcs) = named();
    let out = aima
        .run(&["service", "get", "twin"])
        .failure(2)
        .stderr_has(&format!("{} (twin), {} (twin)", svcs[1], svcs[2]))
        .stdout_is_empty();
    let json = aima
        .run(&["service", "start", "twin", "-o", "json"])
        .failure(2);
    assert_eq!(json.json()["error"]["code"], "usage", "{json}");
    // Nothing changed: the ambiguous start acted on neither.
    for id in &svcs[1..] {
        assert_eq!(aima.listed_service(id)["status"], "created");
    }
    let missing = aima.run(&["service", "get", "no-such-name"]).failure(3);
    settings(&aima, &[]).bind(|| {
        insta::assert_snapshot!("error_ambiguous_name", out.stderr);
        insta::assert_snapshot!("error_name_not_found", missing.stderr);
    });
}

#[test]
fn list_filters_by_status_prints_ids_only_with_q_and_shows_the_endpoint() {
    let (aima, _model, svcs) = named();
    aima.run(&["service", "stop", "solo"]).success();

    let quiet = aima.run(&["service", "list", "-q"]).success();
    assert_eq!(quiet.stdout, format!("{}\n", svcs.join("\n")), "{quiet}");
    let created = aima
        .run(&["service", "list", "--status", "created", "-q"])
        .success();
    assert_eq!(
        created.stdout,
        format!("{}\n{}\n", svcs[1], svcs[2]),
        "{created}"
    );
    let stopped = aima
        .run(&["service", "list", "--status", "stopped", "-o", "json"])
        .success()
        .json();
    assert_eq!(stopped["total"], 1, "{stopped:#}");
    let solo = &stopped["items"][0];
    let port = solo["port"].as_u64().unwrap();
    assert_eq!(
        solo["endpoint"],
        format!("http://127.0.0.1:{port}"),
        "{solo:#}"
    );
    let none = aima
        .run(&["service", "list", "--status", "running", "-q"])
        .success();
    assert!(none.stdout.is_empty(), "{none}");
    aima.run(&["service", "list", "--status", "bogus"])
        .failure(2)
        .stderr_has("possible values: created, starting, running, stopping, stopped, failed");

    let detail = aima.run(&["service", "get", "solo"]).success();
    assert!(
        detail
            .stdout
            .lines()
            .any(|line| line.starts_with("endpoint:")
                && line
                    .trim_end()
                    .ends_with(&format!(" http://127.0.0.1:{port}"))),
        "{detail}"
    );
}

#[test]
fn logs_of_a_service_that_never_ran_is_not_found_and_follow_refuses_json() {
    let (aima, _model, _svcs) = named();
    let out = aima.run(&["service", "logs", "solo"]).failure(3);
    aima.run(&["service", "logs", "solo", "--attempt", "2"])
        .failure(3)
        .stderr_has("no recorded attempt 2");
    aima.run(&["service", "logs", "solo", "-f", "-o", "json"])
        .failure(2)
        .stderr_has("--follow streams plain lines");
    settings(&aima, &[]).bind(|| {
        insta::assert_snapshot!("logs_nothing_to_show", out.stderr);
    });
}

/// `inference chat` finds its service by name or id prefix as the other service verbs do: the
/// answer is about the service (here: Docker is away), never "not found".
#[test]
fn chat_resolves_names_and_id_prefixes() {
    let (aima, _, svc) = Aima::seeded();
    let shown = aima
        .run(&["service", "get", &svc, "-o", "json"])
        .success()
        .json();
    let name = shown["name"].as_str().unwrap().to_owned();
    let away = [("DOCKER_HOST", "tcp://127.0.0.1:1")];
    for given in [name.as_str(), &svc[..8]] {
        let out = aima.run_env(&away, &["inference", "chat", given, "hi", "-o", "json"]);
        assert_ne!(out.json()["error"]["code"], "not_found", "{given}: {out}");
    }
    let out = aima
        .run_env(&away, &["inference", "chat", "no-such-name", "hi"])
        .failure(3);
    assert!(out.stderr.contains("no-such-name"), "{out}");
}
