//! A start's steps on the event stream, through the router with the fake Docker: `steps=true`
//! adds them, `service=ID` keeps that service's only, and each start ends with its end note.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures_util::StreamExt;
use serde_json::Value;
use tower::ServiceExt;

use super::router::{Api, api};

/// `POST uri` without a body; panics unless the answer is `expected`.
async fn post(api: &Api, uri: &str, expected: StatusCode) {
    let req = Request::builder()
        .method("POST")
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    let res = api.app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, expected, "POST {uri}: {body}");
}

#[tokio::test]
async fn a_stream_asked_for_one_services_steps_gets_them_up_to_its_end_note() {
    let api = api(None, true);
    let model = api.model().await;
    let (watched, other) = (api.service(&model).await, api.service(&model).await);
    let req = Request::builder()
        .uri(format!("/api/v2/events?service={watched}&steps=true"))
        .body(Body::empty())
        .unwrap();
    let res = api.app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut frames = res.into_body().into_data_stream();
    // The other service's start comes first: none of its steps, nor its end, may show.
    // (Stopped before the next, which would want the same GPUs.)
    post(
        &api,
        &format!("/api/v2/services/{other}/start"),
        StatusCode::ACCEPTED,
    )
    .await;
    post(
        &api,
        &format!("/api/v2/services/{other}/stop"),
        StatusCode::OK,
    )
    .await;
    post(
        &api,
        &format!("/api/v2/services/{watched}/start"),
        StatusCode::ACCEPTED,
    )
    .await;
    let (mut text, mut steps) = (String::new(), Vec::<Value>::new());
    while steps.last().is_none_or(|s| s["kind"] != "ended") {
        let frame = tokio::time::timeout(Duration::from_secs(10), frames.next())
            .await
            .unwrap_or_else(|_| panic!("no end note within 10 s; steps so far: {steps:?}"))
            .expect("the stream stays open")
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&frame));
        while let Some((event, rest)) = text.split_once("\n\n") {
            if event.starts_with("event: step\n") {
                let data = event
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .unwrap();
                steps.push(serde_json::from_str(data).unwrap());
            }
            text = rest.to_owned();
        }
    }
    assert!(
        steps.iter().all(|s| s["service"] == watched.as_str()),
        "another service's steps: {steps:#?}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s["kind"] == "step" && s["phase"] == "create"),
        "{steps:#?}"
    );
}
