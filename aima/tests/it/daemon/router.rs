//! The API's routes and error statuses, driven through the router without a socket or Docker:
//! Docker is aima's scriptable fake runtime (the `test-support` feature).

use std::sync::Arc;

use std::collections::BTreeSet;

use aima::api::{ApiState, BODY_LIMIT, openapi, router, routes};
use aima::config::{Config, Env};
use aima::error::Detail;
use aima::host::RealHost;
use aima::lifecycle::Deps;
use aima::runtime::fake::{self, FakeRuntime};
use aima::runtime::{PullFailure, RuntimeError, SharedRuntime};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::ports::free_port;

pub(super) struct Api {
    pub(super) app: Router,
    docker: Arc<FakeRuntime>,
    _dir: tempfile::TempDir,
}

/// The router over a fresh data dir and a fake Docker that answers (or is unreachable).
pub(super) fn api(token: Option<&str>, docker_up: bool) -> Api {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::load(dir.path(), Env::default()).unwrap();
    let docker = Arc::new(FakeRuntime::new());
    if !docker_up {
        docker.unreachable();
    }
    let connect_to = docker.clone();
    let deps = Deps {
        config,
        connect: Arc::new(move || Ok(connect_to.clone() as SharedRuntime)),
        host: Arc::new(RealHost),
        acting: None,
    };
    Api {
        app: router(ApiState::new(deps, token.map(str::to_owned))),
        docker,
        _dir: dir,
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    json: Value,
}

impl Api {
    async fn call(&self, method: &str, uri: &str, body: Option<&str>) -> Reply {
        self.call_as(None, method, uri, body).await
    }

    async fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        uri: &str,
        body: Option<&str>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let req = req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.unwrap_or("").to_owned()))
            .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let (parts, body) = res.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "{method} {uri}: body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&bytes)
            )
        });
        Reply {
            status: parts.status,
            headers: parts.headers,
            json,
        }
    }

    pub(super) async fn model(&self) -> String {
        let body = json!({"name": "tiny", "source": "ollama", "repo": "tinyllama"}).to_string();
        let r = self.call("POST", "/api/v2/models", Some(&body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        r.json["id"].as_str().unwrap().to_owned()
    }

    pub(super) async fn service(&self, model_id: &str) -> String {
        let body =
            json!({"model_id": model_id, "engine_type": "vllm", "port": free_port()}).to_string();
        let r = self.call("POST", "/api/v2/services", Some(&body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        r.json["id"].as_str().unwrap().to_owned()
    }
}

fn assert_error(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.json);
    assert_eq!(r.json["error"]["code"], code, "{}", r.json);
    assert!(r.json["error"]["message"].is_string(), "{}", r.json);
}

#[tokio::test]
async fn health_reports_store_and_docker() {
    let up = api(None, true).call("GET", "/api/v2/health", None).await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.json);
    assert_eq!(
        up.json,
        json!({"status": "ok", "store": {"ok": true}, "docker": {"ok": true}})
    );

    let down = api(None, false).call("GET", "/api/v2/health", None).await;
    assert_eq!(
        down.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        down.json
    );
    assert_eq!(down.json["status"], "unavailable");
    assert_eq!(down.json["store"]["ok"], true);
    assert_eq!(down.json["docker"]["ok"], false);
    assert!(
        down.json["docker"]["error"]
            .as_str()
            .unwrap()
            .contains(fake::ADDRESS)
    );
}

#[tokio::test]
async fn models_crud() {
    let api = api(None, true);
    let empty = api.call("GET", "/api/v2/models", None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.json, json!({"items": [], "total": 0}));

    let id = api.model().await;
    let list = api.call("GET", "/api/v2/models", None).await;
    assert_eq!(list.json["total"], 1);
    assert_eq!(list.json["items"][0]["id"], id.as_str());

    let one = api.call("GET", &format!("/api/v2/models/{id}"), None).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json["repo"], "tinyllama");
    assert_eq!(one.json["type"], "llm");
    assert_eq!(one.json["status"], "registered");

    let gone = api
        .call("DELETE", &format!("/api/v2/models/{id}"), None)
        .await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.json);
    assert_eq!(gone.json["id"], id.as_str());
    let again = api.call("GET", &format!("/api/v2/models/{id}"), None).await;
    assert_error(&again, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn model_in_use_is_a_conflict_unless_forced() {
    let api = api(None, true);
    let model = api.model().await;
    api.service(&model).await;
    let refused = api
        .call("DELETE", &format!("/api/v2/models/{model}"), None)
        .await;
    assert_error(&refused, StatusCode::CONFLICT, "conflict");
    let forced = api
        .call(
            "DELETE",
            &format!("/api/v2/models/{model}?force=true"),
            None,
        )
        .await;
    assert_eq!(forced.status, StatusCode::OK, "{}", forced.json);
    let bad_query = api
        .call("DELETE", &format!("/api/v2/models/{model}?forse=1"), None)
        .await;
    assert_error(&bad_query, StatusCode::BAD_REQUEST, "usage");
}

#[tokio::test]
async fn services_crud_and_stop() {
    let api = api(None, true);
    let model = api.model().await;
    let id = api.service(&model).await;

    let list = api.call("GET", "/api/v2/services", None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json["total"], 1);
    assert_eq!(list.json["items"][0]["status"], "created");
    let port = &list.json["items"][0]["port"];
    assert!(port.is_u64(), "{}", list.json);

    let one = api
        .call("GET", &format!("/api/v2/services/{id}"), None)
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json["engine_type"], "vllm");

    let taken = json!({"model_id": model, "engine_type": "vllm", "port": port}).to_string();
    let dup = api.call("POST", "/api/v2/services", Some(&taken)).await;
    assert_error(&dup, StatusCode::CONFLICT, "conflict");

    let stopped = api
        .call("POST", &format!("/api/v2/services/{id}/stop"), None)
        .await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.json);
    assert_eq!(stopped.json["status"], "stopped");
    let forced = api
        .call(
            "POST",
            &format!("/api/v2/services/{id}/stop"),
            Some(r#"{"force": true}"#),
        )
        .await;
    assert_eq!(forced.status, StatusCode::OK, "{}", forced.json);
    let graceful = api
        .call(
            "POST",
            &format!("/api/v2/services/{id}/stop"),
            Some(r#"{"time": 3}"#),
        )
        .await;
    assert_eq!(graceful.status, StatusCode::OK, "{}", graceful.json);

    let deleted = api
        .call("DELETE", &format!("/api/v2/services/{id}"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.json);
    let again = api
        .call("GET", &format!("/api/v2/services/{id}"), None)
        .await;
    assert_error(&again, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn start_failure_carries_code_and_attempts() {
    let api = api(None, true);
    api.docker.image_missing();
    api.docker.fail_next(
        fake::Op::Pull,
        RuntimeError::Pull {
            image: "vllm/vllm-openai:latest".into(),
            failure: PullFailure::Unauthorized,
            detail: Detail("unauthorized: authentication required".into()),
        },
    );
    let model = api.model().await;
    let id = api.service(&model).await;
    let r = api
        .call(
            "POST",
            &format!("/api/v2/services/{id}/start"),
            Some(r#"{"wait": true, "timeout": 5}"#),
        )
        .await;
    assert!(r.status.is_server_error(), "{}: {}", r.status, r.json);
    assert_eq!(r.json["error"]["code"], "start_failed", "{}", r.json);
    assert_eq!(
        r.json["error"]["attempts"][0]["phase"], "pull",
        "{}",
        r.json
    );
    assert!(
        r.json["error"]["help"]
            .as_str()
            .unwrap()
            .contains("docker login"),
        "{}",
        r.json
    );
    assert!(
        !r.json["error"]["attempts"].as_array().unwrap().is_empty(),
        "{}",
        r.json
    );
    let after = api
        .call("GET", &format!("/api/v2/services/{id}"), None)
        .await;
    assert_eq!(after.json["status"], "failed", "{}", after.json);
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let api = api(None, true);
    for (method, uri) in [
        ("GET", "/api/v2/models/model-0badc0de"),
        ("DELETE", "/api/v2/models/model-0badc0de"),
        ("GET", "/api/v2/models/not-an-id"),
        ("GET", "/api/v2/services/svc-0badc0de"),
        ("DELETE", "/api/v2/services/svc-0badc0de"),
        ("POST", "/api/v2/services/svc-0badc0de/start"),
        ("POST", "/api/v2/services/svc-0badc0de/stop"),
    ] {
        let r = api.call(method, uri, None).await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    }
    let body = json!({"model_id": "model-0badc0de", "engine_type": "vllm"}).to_string();
    let r = api.call("POST", "/api/v2/services", Some(&body)).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_with_allow() {
    let api = api(None, true);
    // `/` is the status page (tests in `page`).
    for uri in [
        "/services",
        "/api/v1/models",
        "/api/v2/nope",
        "/api/v2/services/x/y/z",
    ] {
        let r = api.call("GET", uri, None).await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    }
    for (method, uri, allowed) in [
        ("PUT", "/api/v2/models", &["GET", "POST"][..]),
        (
            "PUT",
            "/api/v2/services/svc-0badc0de",
            &["GET", "DELETE", "PATCH"],
        ),
        ("GET", "/api/v2/services/svc-0badc0de/start", &["POST"]),
        ("POST", "/api/v2/health", &["GET"]),
    ] {
        let r = api.call(method, uri, None).await;
        assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "usage");
        let allow = r.headers[header::ALLOW].to_str().unwrap().to_owned();
        for m in allowed {
            assert!(allow.contains(m), "{method} {uri}: Allow: {allow}");
        }
    }
}

#[tokio::test]
async fn bad_bodies_are_400_and_huge_ones_413() {
    let api = api(None, true);
    let model = api.model().await;
    let id = api.service(&model).await;
    let start = format!("/api/v2/services/{id}/start");
    let stop = format!("/api/v2/services/{id}/stop");
    for (uri, body) in [
        ("/api/v2/models", "{not json"),
        ("/api/v2/models", ""),
        ("/api/v2/models", "[1, 2]"),
        (
            "/api/v2/models",
            r#"{"name": "x", "source": "ollama", "repo": "r", "colour": "red"}"#,
        ),
        (
            "/api/v2/models",
            r#"{"name": "x", "source": "ftp", "repo": "r"}"#,
        ),
        (
            "/api/v2/models",
            r#"{"name": " ", "source": "ollama", "repo": "r"}"#,
        ),
        ("/api/v2/services", r#"{"model_id": 7}"#),
        (start.as_str(), r#"{"wait": "yes"}"#),
        (start.as_str(), r#"{"timeout": 0}"#),
        (start.as_str(), r#"{"timeout": 100000}"#),
        (start.as_str(), r#"{"detach": true}"#),
        (stop.as_str(), r#"{"force": true, "time": 1}"#),
        (stop.as_str(), r#"{"time": -1}"#),
        (stop.as_str(), r#"{"time": 86401}"#),
    ] {
        let r = api.call("POST", uri, Some(body)).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "usage");
    }
    let huge = format!(
        r#"{{"name": "{}", "source": "ollama", "repo": "r"}}"#,
        "x".repeat(BODY_LIMIT)
    );
    let r = api.call("POST", "/api/v2/models", Some(&huge)).await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "usage");
    // Nothing was started or registered by any of these.
    let svc = api
        .call("GET", &format!("/api/v2/services/{id}"), None)
        .await;
    assert_eq!(svc.json["status"], "created");
    let models = api.call("GET", "/api/v2/models", None).await;
    assert_eq!(models.json["total"], 1);
}

#[tokio::test]
async fn token_guards_every_route_but_health() {
    let api = api(Some("s3cret"), true);
    let health = api.call("GET", "/api/v2/health", None).await;
    assert_eq!(health.status, StatusCode::OK);
    for (method, uri) in [
        ("GET", "/api/v2/models"),
        ("POST", "/api/v2/models"),
        ("GET", "/api/v2/models/model-0badc0de"),
        ("DELETE", "/api/v2/models/model-0badc0de"),
        ("GET", "/api/v2/services"),
        ("POST", "/api/v2/services"),
        ("GET", "/api/v2/services/svc-0badc0de"),
        ("DELETE", "/api/v2/services/svc-0badc0de"),
        ("POST", "/api/v2/services/svc-0badc0de/start"),
        ("POST", "/api/v2/services/svc-0badc0de/stop"),
    ] {
        for token in [None, Some("wrong"), Some("S3CRET")] {
            let r = api.call_as(token, method, uri, Some("{}")).await;
            assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
            assert_eq!(r.headers[header::WWW_AUTHENTICATE], "Bearer");
        }
    }
    let ok = api
        .call_as(Some("s3cret"), "GET", "/api/v2/models", None)
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.json);
}

#[tokio::test]
async fn web_pages_are_refused() {
    let api = api(None, true);
    let send = |headers: &[(&'static str, &'static str)]| {
        let mut req = Request::builder().method("POST").uri("/api/v2/models");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        api.app.clone().oneshot(req.body(Body::from("{}")).unwrap())
    };
    let cross_site = send(&[("origin", "https://evil.example")]).await.unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let rebinding = send(&[("host", "evil.example:9090")]).await.unwrap();
    assert_eq!(rebinding.status(), StatusCode::FORBIDDEN);
    // Values no browser sends, which a lenient reading took for loopback; a GET of the models
    // answers 200 with a well-formed loopback Host.
    let get_with_host = |host: &[u8]| {
        let req = Request::builder()
            .uri("/api/v2/models")
            .header("host", header::HeaderValue::from_bytes(host).unwrap())
            .body(Body::empty())
            .unwrap();
        api.app.clone().oneshot(req)
    };
    let fine = get_with_host(b"localhost:9090").await.unwrap();
    assert_eq!(fine.status(), StatusCode::OK);
    for host in [
        &b"localhost:80@evil.example"[..],
        b"[::1].evil",
        b"127.0.0.1:80:81",
        b"localhost\xe9:9090",
    ] {
        let odd = get_with_host(host).await.unwrap();
        let shown = String::from_utf8_lossy(host);
        assert_eq!(odd.status(), StatusCode::BAD_REQUEST, "Host: {shown}");
    }
    let local = send(&[
        ("host", "127.0.0.1:9090"),
        ("content-type", "application/json"),
    ])
    .await
    .unwrap();
    assert_eq!(
        local.status(),
        StatusCode::BAD_REQUEST,
        "a loopback request reaches the handler"
    );
}

/// The OpenAPI document lists exactly the routes the router serves (the route table is the one
/// source of both), each of its operations reaches a handler, and its references resolve.
#[tokio::test]
async fn openapi_lists_every_route() {
    let doc = openapi();
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "parameters")
                .map(|method| (method.to_uppercase(), path.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = routes().into_iter().collect();
    assert_eq!(
        documented, served,
        "the OpenAPI document and the routes differ"
    );

    let api = api(Some("t"), true);
    let r = api
        .call_as(Some("t"), "GET", "/api/v2/openapi.json", None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(r.json["paths"], doc["paths"]);

    for (method, path) in &served {
        let id = if path.contains("/models/") {
            "model-00000000"
        } else {
            "svc-00000000"
        };
        let req = Request::builder()
            .method(method.as_str())
            .uri(path.replace("{id}", id))
            .header(header::AUTHORIZATION, "Bearer t")
            .body(Body::empty())
            .unwrap();
        let res = api.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let streams = res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|kind| kind == "text/event-stream");
        let body = if streams {
            String::new() // a stream that stays open: its status is the answer
        } else {
            let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap();
            String::from_utf8_lossy(&bytes).into_owned()
        };
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(!body.contains("no route"), "{method} {path}: {body}");
        let documented = &doc["paths"][path][method.to_lowercase()]["responses"];
        assert!(
            documented.get(status.as_str()).is_some(),
            "{method} {path} answered {status}, which the document does not list: {body}"
        );
    }

    let text = serde_json::to_string_pretty(&doc).unwrap();
    for reference in text.split("\"$ref\": \"#/").skip(1) {
        let pointer = format!("/{}", &reference[..reference.find('"').unwrap()]);
        assert!(
            doc.pointer(&pointer).is_some(),
            "{pointer} does not resolve"
        );
    }
}

/// `/metrics` needs the token like every route but health, and counts requests by route.
#[tokio::test]
async fn metrics_need_the_token_and_count_requests() {
    let api = api(Some("t"), true);
    let refused = api.call("GET", "/metrics", None).await;
    assert_error(&refused, StatusCode::UNAUTHORIZED, "unauthorized");
    api.call_as(Some("t"), "GET", "/api/v2/services/svc-00000000", None)
        .await;
    let req = Request::builder()
        .uri("/metrics")
        .header(header::AUTHORIZATION, "Bearer t")
        .body(Body::empty())
        .unwrap();
    let res = api.app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&bytes);
    for line in [
        r#"aima_http_requests_total{method="GET",route="/api/v2/services/{id}",status="404"} 1"#,
        r#"aima_http_requests_total{method="GET",route="/metrics",status="401"} 1"#,
        r#"aima_services{status="created"} 0"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
    }
}

/// A detached start answers 202 with the service still starting; a waited one 200.
#[tokio::test]
async fn detached_start_is_accepted_with_202() {
    let api = api(None, true);
    let model = api.model().await;
    let svc = api.service(&model).await;
    let r = api
        .call("POST", &format!("/api/v2/services/{svc}/start"), None)
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    assert_eq!(r.json["status"], "starting", "{}", r.json);
}

#[tokio::test]
async fn lists_are_paged_with_limit_and_after() {
    let api = api(None, true);
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(api.model().await);
    }
    let first = api.call("GET", "/api/v2/models?limit=2", None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    assert_eq!(first.json["total"], 5);
    assert_eq!(first.json["items"][0]["id"], ids[0]);
    assert_eq!(first.json["next"], ids[1]);
    let uri = format!("/api/v2/models?limit=2&after={}", ids[3]);
    let last = api.call("GET", &uri, None).await;
    assert_eq!(last.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(last.json["items"][0]["id"], ids[4]);
    assert!(last.json.get("next").is_none(), "{}", last.json);
    // Without a limit, a short list comes whole.
    let all = api.call("GET", "/api/v2/models", None).await;
    assert_eq!(all.json["items"].as_array().unwrap().len(), 5);

    let service = api.service(&ids[0]).await;
    let services = api.call("GET", "/api/v2/services?limit=1", None).await;
    assert_eq!(services.json["items"][0]["id"], service.as_str());
    assert_eq!(services.json["total"], 1);
    let uri = format!("/api/v2/services?after={service}");
    let after = api.call("GET", &uri, None).await;
    assert_eq!(after.json["items"], json!([]));

    for bad in [
        "/api/v2/models?limit=0",
        "/api/v2/models?limit=1001",
        "/api/v2/models?limit=two",
        "/api/v2/models?after=model-00000000",
        "/api/v2/services?limit=0",
        "/api/v2/services?after=svc-00000000",
        "/api/v2/models?page=2",
    ] {
        assert_error(
            &api.call("GET", bad, None).await,
            StatusCode::BAD_REQUEST,
            "usage",
        );
    }
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let api = api(Some("S3CRET"), true);
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let req = Request::builder()
            .uri("/api/v2/models")
            .header(header::AUTHORIZATION, format!("{scheme} S3CRET"))
            .body(Body::empty())
            .unwrap();
        let res = api.app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{scheme}");
    }
}

#[tokio::test]
async fn the_api_finds_services_by_name_and_prefix_and_takes_a_pull_policy() {
    let api = api(None, true);
    let model = api.model().await;
    let id = api.service(&model).await;
    let name = {
        let r = api
            .call("GET", &format!("/api/v2/services/{id}"), None)
            .await;
        let port = r.json["port"].as_u64().unwrap();
        assert_eq!(r.json["endpoint"], format!("http://127.0.0.1:{port}"));
        r.json["name"].as_str().unwrap().to_owned()
    };
    for given in [name.as_str(), &id[4..10], "tiny"] {
        let uri = if given == "tiny" {
            format!("/api/v2/models/{given}")
        } else {
            format!("/api/v2/services/{given}")
        };
        let r = api.call("GET", &uri, None).await;
        assert_eq!(r.status, StatusCode::OK, "{given}: {}", r.json);
    }

    api.docker.image_missing();
    let never = api
        .call(
            "POST",
            &format!("/api/v2/services/{name}/start"),
            Some(r#"{"wait": true, "pull": "never"}"#),
        )
        .await;
    assert_error(&never, StatusCode::BAD_GATEWAY, "start_failed");
    assert_eq!(never.json["error"]["attempts"][0]["phase"], "preflight");
    let bogus = api
        .call(
            "POST",
            &format!("/api/v2/services/{id}/start"),
            Some(r#"{"pull": "sometimes"}"#),
        )
        .await;
    assert_error(&bogus, StatusCode::BAD_REQUEST, "usage");
    let pulled = api
        .call(
            "POST",
            &format!("/api/v2/services/{id}/start"),
            Some(r#"{"pull": "missing"}"#),
        )
        .await;
    assert_eq!(pulled.status, StatusCode::ACCEPTED, "{}", pulled.json);
    assert_eq!(pulled.json["status"], "starting", "{}", pulled.json);
    assert_eq!(
        api.docker.count(|c| matches!(c, fake::Call::Pull(_))),
        1,
        "pulled once, for the last start only"
    );
}

/// `Last-Event-ID` replays the change log after that event; a bad one is a 400.
#[tokio::test]
async fn events_resume_after_last_event_id() {
    use futures_util::StreamExt;
    let api = api(None, true);
    let model = api.model().await;
    let svc = api.service(&model).await;
    let req = Request::builder()
        .uri("/api/v2/events")
        .header("last-event-id", "0")
        .body(Body::empty())
        .unwrap();
    let res = api.app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut frames = res.into_body().into_data_stream();
    let frame = tokio::time::timeout(std::time::Duration::from_secs(10), frames.next())
        .await
        .expect("an event within 10 s")
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&frame).into_owned();
    assert!(text.starts_with("event: service\nid: 1\n"), "{text}");
    let data: Value =
        serde_json::from_str(text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap()).unwrap();
    assert_eq!(
        (data["service_id"].as_str(), data["to"].as_str()),
        (Some(svc.as_str()), Some("created"))
    );
    assert_eq!(data["from"], Value::Null);

    let bad = Request::builder()
        .uri("/api/v2/events")
        .header("last-event-id", "yesterday")
        .body(Body::empty())
        .unwrap();
    let res = api.app.clone().oneshot(bad).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn gpus_and_memory_are_taken_at_create_and_a_held_gpu_refuses_a_start() {
    let api = api(None, true);
    let model = api.model().await;
    let body = |gpus: &str, memory: &str| {
        json!({"model_id": model, "engine_type": "vllm", "port": free_port(),
            "gpus": gpus, "memory": memory})
        .to_string()
    };
    let holder = api
        .call("POST", "/api/v2/services", Some(&body("0", "2g")))
        .await;
    assert_eq!(holder.status, StatusCode::CREATED, "{}", holder.json);
    assert_eq!(holder.json["gpus"], "0");
    assert_eq!(holder.json["memory_bytes"], 2u64 << 30);
    let contender = api
        .call("POST", "/api/v2/services", Some(&body("1,0", "512m")))
        .await;
    assert_eq!(contender.status, StatusCode::CREATED, "{}", contender.json);
    for (gpus, memory) in [("0;1", "1g"), ("0", "lots")] {
        let bad = api
            .call("POST", "/api/v2/services", Some(&body(gpus, memory)))
            .await;
        assert_error(&bad, StatusCode::BAD_REQUEST, "usage");
    }

    let holder = holder.json["id"].as_str().unwrap();
    let started = api
        .call("POST", &format!("/api/v2/services/{holder}/start"), None)
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.json);
    let contender = contender.json["id"].as_str().unwrap();
    let refused = api
        .call("POST", &format!("/api/v2/services/{contender}/start"), None)
        .await;
    assert_error(&refused, StatusCode::CONFLICT, "gpu_in_use");
    let message = refused.json["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("GPU 0 is in use by aima service {holder}")),
        "{message}"
    );
}

/// Control characters, overlong text and sizes Docker cannot take are 400 and store nothing.
#[tokio::test]
async fn names_repos_and_sizes_are_bounded() {
    let api = api(None, true);
    let long = "x".repeat(257);
    for body in [
        json!({"name": "a\u{0}b", "source": "ollama", "repo": "tinyllama"}),
        json!({"name": "tiny", "source": "ollama", "repo": "tiny\u{0}llama"}),
        json!({"name": "tiny", "source": "ollama", "repo": "tinyllama", "type": "l\nlm"}),
        json!({"name": long, "source": "ollama", "repo": "tinyllama"}),
    ] {
        let r = api
            .call("POST", "/api/v2/models", Some(&body.to_string()))
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST, "usage");
    }
    let listed = api.call("GET", "/api/v2/models", None).await;
    assert_eq!(listed.json["total"], 0, "{}", listed.json);

    let model = api.model().await;
    for extra in [
        json!({"name": "svc\u{0}x"}),
        json!({"name": "\u{1b}[31mred"}),
        json!({"memory": "18446744073709551615"}),
        json!({"memory": "9223372036854775808"}),
        json!({"memory": "5m"}),
    ] {
        let mut body = json!({"model_id": model, "engine_type": "vllm", "port": free_port()});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let r = api
            .call("POST", "/api/v2/services", Some(&body.to_string()))
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST, "usage");
    }
    let listed = api.call("GET", "/api/v2/services", None).await;
    assert_eq!(listed.json["total"], 0, "{}", listed.json);
}

/// `?status=` filters the service list as `service list --status` does; a status that is not
/// one is a usage error.
#[tokio::test]
async fn the_service_list_filters_by_status() {
    let api = api(None, true);
    let model = api.model().await;
    let created = api.service(&model).await;
    let started = api.service(&model).await;
    let r = api
        .call("POST", &format!("/api/v2/services/{started}/start"), None)
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    let r = api
        .call("GET", "/api/v2/services?status=created", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["total"], 1, "{}", r.json);
    assert_eq!(r.json["items"][0]["id"], created.as_str(), "{}", r.json);
    let uri = format!("/api/v2/services?status=created&after={created}");
    let r = api.call("GET", &uri, None).await;
    assert_eq!(r.json["items"], json!([]), "{}", r.json);
    let r = api
        .call("GET", "/api/v2/services?status=stopped", None)
        .await;
    assert_eq!(
        (r.json["total"].clone(), r.json["items"].clone()),
        (json!(0), json!([]))
    );
    let bad = api.call("GET", "/api/v2/services?status=bogus", None).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "usage");
    assert!(
        bad.json["error"]["help"]
            .as_str()
            .unwrap()
            .contains("running"),
        "{}",
        bad.json
    );
}

/// A `gpus` that names no GPU choice is refused (400) and nothing is stored, as `--gpus`.
#[tokio::test]
async fn bad_gpus_are_refused_before_anything_is_stored() {
    let api = api(None, true);
    let model = api.model().await;
    for gpus in ["foo", "2x", "all,0", "none,0"] {
        let body = json!({"model_id": model, "engine_type": "vllm", "gpus": gpus}).to_string();
        let r = api.call("POST", "/api/v2/services", Some(&body)).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "usage");
    }
    let list = api.call("GET", "/api/v2/services", None).await;
    assert_eq!(list.json["total"], 0, "{}", list.json);
}
