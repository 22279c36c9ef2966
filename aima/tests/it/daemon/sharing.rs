//! Many people, one daemon: who a request acts as (a named token over TCP, the peer's uid
//! through the unix socket), ownership of services, and revoking a token. Real daemon, real
//! sockets; the stops reach the real Docker daemon (a created service has no container).

use serde_json::Value;

use crate::support::aima::Aima;
use crate::support::daemon::Daemon;
use crate::support::http::http;
use crate::support::ports::free_port;
use crate::support::unix_http::http_unix;

pub(super) const ADMIN_TOKEN: &str = "the-daemons-own-token-0123456789";

/// `aima token create NAME` in-process, as the data dir's owner does it: the token.
pub(super) fn token(aima: &Aima, name: &str) -> String {
    let out = aima
        .command(&["token", "create", name, "-o", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let made: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(made["name"], name);
    made["token"].as_str().unwrap().to_owned()
}

/// One request with `token` over TCP: status and JSON body.
pub(super) fn call(
    daemon: &Daemon,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let (code, text) = http(daemon.port, method, path, body, Some(token), 30).unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (code, json)
}

/// A model registered with `token`: its JSON.
pub(super) fn model_of(daemon: &Daemon, token: &str) -> Value {
    let (code, model) = call(
        daemon,
        token,
        "POST",
        "/api/v2/models",
        Some(r#"{"name": "tiny", "source": "ollama", "repo": "tinyllama"}"#),
    );
    assert_eq!(code, 201, "{model}");
    model
}

fn who_runs_the_tests() -> String {
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn a_service_belongs_to_its_creator_and_tokens_act_as_their_names() {
    let aima = Aima::new();
    let alice = token(&aima, "alice");
    let bob = token(&aima, "bob");
    let daemon = Daemon::start(&aima, &[("AIMA_API_TOKEN", ADMIN_TOKEN)]);

    // alice registers a model and creates a service on it: both are hers.
    let model = model_of(&daemon, &alice);
    assert_eq!(model["created_by"], "alice");
    let body =
        serde_json::json!({"model_id": model["id"], "engine_type": "vllm", "port": free_port()});
    let (code, svc) = call(
        &daemon,
        &alice,
        "POST",
        "/api/v2/services",
        Some(&body.to_string()),
    );
    assert_eq!(code, 201, "{svc}");
    assert_eq!(svc["created_by"], "alice");
    let id = svc["id"].as_str().unwrap().to_owned();

    // bob may read it, not change it: 403 `forbidden` naming alice, and nothing changes.
    let (code, _) = call(
        &daemon,
        &bob,
        "GET",
        &format!("/api/v2/services/{id}"),
        None,
    );
    assert_eq!(code, 200);
    for (method, path, body) in [
        ("POST", format!("/api/v2/services/{id}/stop"), None),
        ("POST", format!("/api/v2/services/{id}/start"), None),
        ("POST", format!("/api/v2/services/{id}/restart"), None),
        ("GET", format!("/api/v2/services/{id}/logs"), None),
        (
            "POST",
            format!("/api/v2/services/{id}/chat"),
            Some(r#"{"message": "hi"}"#),
        ),
        ("DELETE", format!("/api/v2/services/{id}"), None),
        (
            "PATCH",
            format!("/api/v2/services/{id}"),
            Some(r#"{"name": "mine"}"#),
        ),
        (
            "DELETE",
            format!("/api/v2/models/{}", model["id"].as_str().unwrap()),
            None,
        ),
    ] {
        let (code, err) = call(&daemon, &bob, method, &path, body);
        assert_eq!(code, 403, "{method} {path}: {err}");
        assert_eq!(err["error"]["code"], "forbidden", "{err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("belongs to alice; bob may not"),
            "{message}"
        );
        assert!(
            err["error"]["help"].as_str().unwrap().contains("ask alice"),
            "{err}"
        );
    }
    // An engine's cache is everyone's: only an admin may remove it.
    let (code, err) = call(&daemon, &bob, "DELETE", "/api/v2/caches/vllm", None);
    assert_eq!(
        (code, &err["error"]["code"]),
        (403, &Value::from("forbidden")),
        "{err}"
    );
    // bob's own service on alice's model is allowed: models are shared registrations.
    let body =
        serde_json::json!({"model_id": model["id"], "engine_type": "vllm", "port": free_port()});
    let (code, own) = call(
        &daemon,
        &bob,
        "POST",
        "/api/v2/services",
        Some(&body.to_string()),
    );
    assert_eq!(
        (code, &own["created_by"]),
        (201, &Value::from("bob")),
        "{own}"
    );
    let (code, svc_now) = call(
        &daemon,
        &alice,
        "GET",
        &format!("/api/v2/services/{id}"),
        None,
    );
    assert_eq!(code, 200);
    assert_eq!(
        (&svc_now["name"], &svc_now["status"]),
        (&svc["name"], &Value::from("created"))
    );
    // Tokens are for admins.
    let (code, err) = call(&daemon, &bob, "GET", "/api/v2/tokens", None);
    assert_eq!(
        (code, &err["error"]["code"]),
        (403, &Value::from("forbidden")),
        "{err}"
    );

    // The daemon's own token is the admin `admin`: it may stop alice's service.
    let (code, stopped) = call(
        &daemon,
        ADMIN_TOKEN,
        "POST",
        &format!("/api/v2/services/{id}/stop"),
        None,
    );
    assert_eq!(code, 200, "{stopped}");
    assert_eq!(stopped["status"], "stopped");
    // alice deletes her own.
    let (code, _) = call(
        &daemon,
        &alice,
        "DELETE",
        &format!("/api/v2/services/{id}"),
        None,
    );
    assert_eq!(code, 200);

    // The change log names who made each change.
    let store = ::aima::store::Store::open(&aima.data_dir().join("aima.db")).unwrap();
    let mine: Vec<(String, Option<String>)> = store
        .events_after(0, 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.service_id == id)
        .map(|e| (e.to, e.actor))
        .collect();
    let want = [
        ("created", "alice"),
        ("stopped", "admin"),
        ("deleted", "alice"),
    ]
    .map(|(to, by)| (to.to_owned(), Some(by.to_owned())));
    assert_eq!(mine, want);

    // A revoked token fails its next request.
    let out = aima.command(&["token", "revoke", "bob"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, err) = call(&daemon, &bob, "GET", "/api/v2/services", None);
    assert_eq!(
        (code, &err["error"]["code"]),
        (401, &Value::from("unauthorized")),
        "{err}"
    );

    // The access log names the actors, never a token.
    let log = daemon.log();
    assert!(log.contains(r#"actor="alice""#), "{log}");
    assert!(log.contains(r#"actor="admin""#), "{log}");
    for secret in [&alice, &bob, &ADMIN_TOKEN.to_owned()] {
        assert!(!log.contains(secret.as_str()), "a token is in the log");
    }
}

#[test]
fn the_unix_socket_acts_as_the_connecting_user() {
    let aima = Aima::new();
    let alice = token(&aima, "alice");
    let daemon = Daemon::start(&aima, &[("AIMA_API_TOKEN", ADMIN_TOKEN)]);
    let socket = aima.data_dir().join("aima.sock");
    let me = who_runs_the_tests();

    let (code, text) = http_unix(
        &socket,
        "POST",
        "/api/v2/models",
        Some(r#"{"name": "tiny", "source": "ollama", "repo": "tinyllama"}"#),
        10,
    )
    .unwrap();
    assert_eq!(code, 201, "{text}");
    let model: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        model["created_by"],
        me.as_str(),
        "the peer's uid names the owner"
    );

    // The same uid as the daemon's is an admin: it lists tokens and changes alice's service.
    let (code, text) = http_unix(&socket, "GET", "/api/v2/tokens", None, 10).unwrap();
    assert_eq!(code, 200, "{text}");
    let listed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(listed["items"][0]["name"], "alice");
    assert!(listed["items"][0].get("token").is_none(), "{listed}");
    let body =
        serde_json::json!({"model_id": model["id"], "engine_type": "vllm", "port": free_port()});
    let (code, svc) = call(
        &daemon,
        &alice,
        "POST",
        "/api/v2/services",
        Some(&body.to_string()),
    );
    assert_eq!(code, 201, "{svc}");
    let id = svc["id"].as_str().unwrap();
    let (code, text) = http_unix(
        &socket,
        "DELETE",
        &format!("/api/v2/services/{id}"),
        None,
        10,
    )
    .unwrap();
    assert_eq!(code, 200, "{text}");
}
