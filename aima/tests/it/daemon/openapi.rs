//! Real answers of every route, successes and errors, validated against the OpenAPI document the
//! daemon serves (generated from the code): a field, status or content type the document lacks
//! fails here.

use std::collections::BTreeSet;

use aima::api::{openapi, routes};
use axum::body::Body;
use axum::http::{Request, header};
use serde_json::json;
use tower::ServiceExt;

use super::router::{Api, api};
use crate::support::schema::Document;

/// One request: `(method, route template, uri, token, body, extra header)`.
struct Call<'a> {
    method: &'a str,
    route: &'a str,
    uri: String,
    token: Option<&'a str>,
    body: Option<String>,
    header: Option<(&'a str, &'a str)>,
}

fn call<'a>(method: &'a str, route: &'a str, uri: impl Into<String>) -> Call<'a> {
    Call {
        method,
        route,
        uri: uri.into(),
        token: Some("t"),
        body: None,
        header: None,
    }
}

impl<'a> Call<'a> {
    fn body(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body.to_string());
        self
    }
    fn raw(mut self, body: &str) -> Self {
        self.body = Some(body.to_owned());
        self
    }
    fn anonymous(mut self) -> Self {
        self.token = None;
        self
    }
    fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.header = Some((name, value));
        self
    }
}

/// Sends `call` and checks its answer against the document; returns the status and any
/// problem. Calls without the token go to `locked` (a daemon with token `t`).
async fn checked(
    open: &Api,
    locked: &Api,
    doc: &Document,
    call: Call<'_>,
) -> (u16, Result<(), String>) {
    let api = if call.token.is_none() { locked } else { open };
    let mut req = Request::builder().method(call.method).uri(&call.uri);
    if let Some(token) = call.token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let form = call.route == "/login";
    let kind = if form {
        "application/x-www-form-urlencoded"
    } else {
        "application/json"
    };
    req = req.header(header::CONTENT_TYPE, kind);
    if let Some((name, value)) = call.header {
        req = req.header(name, value);
    }
    let req = req.body(Body::from(call.body.unwrap_or_default())).unwrap();
    let res = api.app.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = if content_type.starts_with("text/event-stream") {
        Vec::new() // a stream that stays open: its status and type are the answer
    } else {
        axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec()
    };
    let verdict = doc.check(call.method, call.route, status, &content_type, &body);
    (status, verdict)
}

#[tokio::test]
async fn every_route_answers_as_the_document_says() {
    let doc = Document(openapi());
    let api = api(None, true);
    let locked = super::router::api(Some("t"), true);
    let model = api.model().await;
    let spare = api.model().await;
    let svc = api.service(&model).await;
    let bad_model = "model-00000000";
    let bad_svc = "svc-00000000";
    let m = |id: &str| format!("/api/v2/models/{id}");
    let s = |id: &str, tail: &str| format!("/api/v2/services/{id}{tail}");
    let (models, services) = ("/api/v2/models/{id}", "/api/v2/services/{id}");
    let (start, stop) = ("/api/v2/services/{id}/start", "/api/v2/services/{id}/stop");
    let calls = [
        (
            call("GET", "/api/v2/health", "/api/v2/health").anonymous(),
            200,
        ),
        (call("GET", "/api/v2/models", "/api/v2/models"), 200),
        (call("GET", "/api/v2/models", "/api/v2/models?limit=0"), 400),
        (
            call("POST", "/api/v2/models", "/api/v2/models")
                .body(json!({"name": "x", "source": "ollama", "repo": "tinyllama"})),
            201,
        ),
        (
            call("POST", "/api/v2/models", "/api/v2/models").body(json!({"name": "x"})),
            400,
        ),
        (call("GET", models, m(&model)), 200),
        (call("GET", models, m(bad_model)), 404),
        (call("DELETE", models, m(&model)), 409),
        (call("DELETE", models, m(&spare)), 200),
        (call("GET", "/api/v2/services", "/api/v2/services"), 200),
        (
            call(
                "GET",
                "/api/v2/services",
                "/api/v2/services?after=svc-00000000",
            ),
            400,
        ),
        (
            call("POST", "/api/v2/services", "/api/v2/services")
                .body(json!({"model_id": bad_model, "engine_type": "vllm"})),
            404,
        ),
        (call("GET", services, s(&svc, "")), 200),
        (call("GET", services, s(bad_svc, "")), 404),
        (
            call("POST", start, s(&svc, "/start")).raw("{\"wait\": 1}"),
            400,
        ),
        (call("POST", start, s(&svc, "/start")), 202),
        (call("POST", start, s(bad_svc, "/start")), 404),
        (call("DELETE", services, s(&svc, "")), 409),
        (
            call("POST", stop, s(&svc, "/stop")).body(json!({"force": true})),
            200,
        ),
        (call("POST", stop, s(bad_svc, "/stop")), 404),
        (call("DELETE", services, s(&svc, "")), 200),
        (call("DELETE", services, s(bad_svc, "")), 404),
        (
            call("POST", "/api/v2/services/prune", "/api/v2/services/prune"),
            200,
        ),
        (call("GET", "/api/v2/events", "/api/v2/events"), 200),
        (
            call("GET", "/api/v2/events", "/api/v2/events").header("last-event-id", "x"),
            400,
        ),
        (
            call("GET", "/api/v2/events", "/api/v2/events?steps=true"),
            200,
        ),
        (
            call("GET", "/api/v2/events", "/api/v2/events?steps=maybe"),
            400,
        ),
        (
            call(
                "GET",
                "/api/v2/events",
                "/api/v2/events?service=svc-00000000",
            ),
            404,
        ),
        (
            call("GET", "/api/v2/openapi.json", "/api/v2/openapi.json"),
            200,
        ),
        (
            call("GET", "/api/v2/openapi.json", "/api/v2/openapi.json").anonymous(),
            401,
        ),
        (call("GET", "/metrics", "/metrics"), 200),
        (
            call("GET", "/metrics", "/metrics").header("origin", "https://evil.example"),
            403,
        ),
        (call("GET", "/", "/"), 200),
        (call("GET", "/", "/").anonymous(), 401),
        (call("GET", "/services/{id}", "/services/svc-00000000"), 404),
        (call("GET", "/page/events", "/page/events"), 200),
        (
            call("POST", "/login", "/login")
                .anonymous()
                .raw("token=t&next=/"),
            303,
        ),
        (
            call("POST", "/login", "/login")
                .anonymous()
                .raw("token=wrong"),
            401,
        ),
        (call("POST", "/logout", "/logout").anonymous(), 303),
        (call("GET", "/page/app.js", "/page/app.js").anonymous(), 200),
        (
            call("GET", "/page/app.css", "/page/app.css").anonymous(),
            200,
        ),
    ];
    let mut problems = Vec::new();
    let mut reached = BTreeSet::new();
    for (call, expected) in calls {
        let what = format!("{} {}", call.method, call.uri);
        reached.insert((call.method.to_owned(), call.route.to_owned()));
        let (status, verdict) = checked(&api, &locked, &doc, call).await;
        if status != expected {
            problems.push(format!("{what}: answered {status}, expected {expected}"));
        }
        if let Err(problem) = verdict {
            problems.push(problem);
        }
    }
    // A created service, and the page of one, with a service that exists.
    let model = api.model().await;
    let svc = api.service(&model).await;
    let logs = "/api/v2/services/{id}/logs";
    let (chat, restart) = (
        "/api/v2/services/{id}/chat",
        "/api/v2/services/{id}/restart",
    );
    let cache = "/api/v2/caches/{engine}";
    for (call, expected) in [
        (
            call("POST", "/api/v2/services", "/api/v2/services")
                .body(json!({"model_id": model, "engine_type": "ollama", "pull": "x"})),
            400,
        ),
        (
            call("GET", "/services/{id}", format!("/services/{svc}")),
            200,
        ),
        (
            call(
                "PATCH",
                "/api/v2/services/{id}",
                format!("/api/v2/services/{svc}"),
            )
            .body(json!({"args": ["--verbose"], "env": {"API_TOKEN": "t0k"}})),
            200,
        ),
        (
            call(
                "PATCH",
                "/api/v2/services/{id}",
                format!("/api/v2/services/{svc}"),
            )
            .body(json!({"args": ["--port", "1"]})),
            400,
        ),
        (
            call(
                "PATCH",
                "/api/v2/services/{id}",
                "/api/v2/services/svc-00000000",
            )
            .body(json!({"memory": "1g"})),
            404,
        ),
        (call("GET", logs, s(&svc, "/logs?tail=5")), 404),
        (call("GET", logs, s(&svc, "/logs?follow=true")), 200),
        (call("GET", logs, s(&svc, "/logs?tail=x")), 400),
        (call("GET", logs, s(bad_svc, "/logs")), 404),
        (
            call("POST", chat, s(&svc, "/chat")).body(json!({"message": "hi"})),
            409,
        ),
        (
            call("POST", chat, s(&svc, "/chat")).body(json!({"message": "hi", "stream": true})),
            409,
        ),
        (
            call("POST", chat, s(&svc, "/chat")).body(json!({"message": " ", "stream": true})),
            400,
        ),
        (call("POST", restart, s(&svc, "/restart")), 202),
        (
            call("POST", restart, s(bad_svc, "/restart")).body(json!({"force": true})),
            404,
        ),
        (call("GET", "/api/v2/info", "/api/v2/info"), 200),
        (call("GET", "/api/v2/quota", "/api/v2/quota"), 200),
        (
            call("GET", "/api/v2/quota", "/api/v2/quota?user=nobody-here"),
            200,
        ),
        (
            call("GET", "/api/v2/events/log", "/api/v2/events/log?since=1"),
            200,
        ),
        (
            call(
                "GET",
                "/api/v2/events/log",
                "/api/v2/events/log?service=gone",
            ),
            404,
        ),
        (call("GET", "/api/v2/caches", "/api/v2/caches"), 200),
        (call("DELETE", cache, "/api/v2/caches/tgi"), 400),
        (call("DELETE", cache, "/api/v2/caches/ollama"), 404),
        (call("GET", "/api/v2/tokens", "/api/v2/tokens"), 200),
        (
            call("POST", "/api/v2/tokens", "/api/v2/tokens").body(json!({"name": "carol"})),
            201,
        ),
        (
            call("POST", "/api/v2/tokens", "/api/v2/tokens").body(json!({"name": "Carol"})),
            400,
        ),
        (
            call("DELETE", "/api/v2/tokens/{name}", "/api/v2/tokens/carol"),
            200,
        ),
        (
            call("DELETE", "/api/v2/tokens/{name}", "/api/v2/tokens/carol"),
            404,
        ),
        (
            call("POST", "/api/v2/apply", "/api/v2/apply?dry_run=true").body(json!({
                "models": {"more": {"source": "ollama", "repo": "tinyllama"}},
                "services": {"more-svc": {"model": "more", "engine": "ollama", "state": "stopped"}},
            })),
            200,
        ),
        (
            call("POST", "/api/v2/apply", "/api/v2/apply")
                .body(json!({"services": {"x": {"model": "m", "engine": "tgi"}}})),
            400,
        ),
        // Two models named `tiny` above: an apply file names each once.
        (call("GET", "/api/v2/export", "/api/v2/export"), 400),
        (
            call("GET", "/api/v2/export", "/api/v2/export?format=yaml"),
            400,
        ),
    ] {
        let what = format!("{} {}", call.method, call.uri);
        reached.insert((call.method.to_owned(), call.route.to_owned()));
        let (status, verdict) = checked(&api, &locked, &doc, call).await;
        if status != expected {
            problems.push(format!("{what}: answered {status}, expected {expected}"));
        }
        problems.extend(verdict.err());
    }
    let body = json!({"model_id": model, "engine_type": "ollama", "name": "second"});
    let (status, verdict) = checked(
        &api,
        &locked,
        &doc,
        call("POST", "/api/v2/services", "/api/v2/services").body(body),
    )
    .await;
    assert_eq!(status, 201);
    problems.extend(verdict.err());

    // Docker away: health's 503 and an operation's 503.
    let down = super::router::api(None, false);
    for (call, expected) in [
        (call("GET", "/api/v2/health", "/api/v2/health"), 503),
        (
            call("POST", "/api/v2/services/prune", "/api/v2/services/prune"),
            503,
        ),
    ] {
        let (status, verdict) = checked(&down, &down, &doc, call).await;
        assert_eq!(status, expected);
        problems.extend(verdict.err());
    }

    // An export of a store that names each model once.
    let exporting = super::router::api(None, true);
    exporting.model().await;
    for uri in ["/api/v2/export", "/api/v2/export?format=json"] {
        let (status, verdict) = checked(
            &exporting,
            &exporting,
            &doc,
            call("GET", "/api/v2/export", uri),
        )
        .await;
        assert_eq!(status, 200, "{uri}");
        problems.extend(verdict.err());
    }

    // The check has teeth: a made-up code, a missing field, an undocumented one.
    for bad in [
        json!({"error": {"code": "nope", "message": "m"}}),
        json!({"error": {"code": "usage"}}),
        json!({"error": {"code": "usage", "message": "m", "extra": 1}}),
    ] {
        let text = bad.to_string();
        let verdict = doc.check("GET", models, 404, "application/json", text.as_bytes());
        assert!(verdict.is_err(), "{bad} passed");
    }

    let served: BTreeSet<(String, String)> = routes().into_iter().collect();
    let missed: Vec<_> = served.difference(&reached).collect();
    assert!(
        missed.is_empty(),
        "routes this test never called: {missed:?}"
    );
    assert!(
        problems.is_empty(),
        "answers that differ from the document:\n{}",
        problems.join("\n")
    );
}
