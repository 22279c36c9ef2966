//! Secrets stay out of the daemon's log at every level: a token a client put in a query string
//! (the access log records paths only), and the credentials of a `DOCKER_HOST` such as
//! `tcp://user:secret@host:port` (masked wherever the endpoint is shown, never handed to the
//! Docker client, which logs its request URIs at debug).

use std::time::Duration;

use crate::support::aima::Aima;
use crate::support::daemon::Daemon;
use crate::support::http::http;
use crate::support::ports::free_port;
use crate::support::wait::wait_until;

#[test]
fn the_access_log_records_no_query_string() {
    let data = Aima::new();
    let daemon = Daemon::start(&data, &[("AIMA_API_TOKEN", "log-test-token-000")]);
    let path = "/api/v2/models?access_token=query-secret-1&limit=5";
    let (code, body) = http(daemon.port, "GET", path, None, None, 10).unwrap();
    assert_eq!(code, 401, "{body}");
    let log = wait_until(Duration::from_secs(10), "the access log line", || {
        let log = daemon.log();
        log.contains("status=401").then_some(log)
    });
    assert!(log.contains("/api/v2/models"), "{log}");
    assert!(
        !log.contains("query-secret-1"),
        "the query string was logged:\n{log}"
    );
}

#[test]
fn docker_credentials_reach_no_log_even_at_trace_level() {
    let data = Aima::new();
    let closed = free_port();
    let docker_host = format!("tcp://admin:docker-s3cret@127.0.0.1:{closed}");
    let daemon = Daemon::start(
        &data,
        &[("DOCKER_HOST", &docker_host), ("AIMA_LOG", "trace")],
    );
    // Health pings Docker; a service start talks to it as well.
    let (code, _) = http(daemon.port, "GET", "/api/v2/health", None, None, 30).unwrap();
    assert_eq!(code, 503);
    let service = daemon.create_service(free_port());
    let (code, body) = daemon.call("POST", &format!("/api/v2/services/{service}/start"), None);
    assert_eq!(code, 503, "{body}");
    assert!(!body.to_string().contains("docker-s3cret"), "{body}");
    let log = daemon.log();
    assert!(log.contains(&format!("***@127.0.0.1:{closed}")), "{log}");
    assert!(
        !log.contains("docker-s3cret"),
        "the log shows DOCKER_HOST's password:\n{log}"
    );
}

/// A service's secret environment values, given through the API's create, update and apply,
/// reach neither an answer nor the daemon's log at trace level.
#[test]
fn service_secrets_reach_no_answer_and_no_log() {
    const SECRET: &str = "svc-secret-value-42";
    let data = Aima::new();
    let daemon = Daemon::start(&data, &[("AIMA_LOG", "trace")]);
    let (code, model) = daemon.call(
        "POST",
        "/api/v2/models",
        Some(r#"{"name": "tiny", "source": "ollama", "repo": "tinyllama"}"#),
    );
    assert_eq!(code, 201, "{model}");
    let body = serde_json::json!({
        "model_id": model["id"], "engine_type": "vllm", "port": free_port(), "name": "kept",
        "env": {"HF_TOKEN": SECRET, "LEVEL": "INFO"},
    });
    let mut answers = Vec::new();
    let (code, created) = daemon.call("POST", "/api/v2/services", Some(&body.to_string()));
    assert_eq!(code, 201, "{created}");
    answers.push(created);
    let patch = serde_json::json!({"env": {"DB_PASSWORD": SECRET}}).to_string();
    let (code, patched) = daemon.call("PATCH", "/api/v2/services/kept", Some(&patch));
    assert_eq!(code, 200, "{patched}");
    assert!(
        patched["changes"].to_string().contains("env.DB_PASSWORD"),
        "{patched}"
    );
    answers.push(patched);
    let refused = serde_json::json!({"env": {"API_KEY": format!("{SECRET}\u{0}")}}).to_string();
    let (code, error) = daemon.call("PATCH", "/api/v2/services/kept", Some(&refused));
    assert_eq!(code, 400, "{error}");
    answers.push(error);
    for path in ["/api/v2/services/kept", "/api/v2/services"] {
        answers.push(daemon.call("GET", path, None).1);
    }
    let file = serde_json::json!({"models": {"tiny": {"source": "ollama", "repo": "tinyllama"}},
        "services": {"kept": {"model": "tiny", "engine": "vllm", "env": {"HF_TOKEN": "other"}}}});
    let (code, plan) = daemon.call(
        "POST",
        "/api/v2/apply?dry_run=true",
        Some(&file.to_string()),
    );
    assert_eq!(code, 200, "{plan}");
    answers.push(plan);
    for answer in &answers {
        assert!(
            !answer.to_string().contains(SECRET),
            "an answer shows the secret: {answer}"
        );
    }
    let log = daemon.log();
    assert!(log.contains("/api/v2/services"), "{log}");
    assert!(
        !log.contains(SECRET),
        "the daemon log shows the secret:\n{log}"
    );
}
