//! What the daemon shows of the work done on its data dir, against real Docker: `/metrics`
//! counts a blocked start under its reason and `/api/v2/events` streams its `starting` and
//! `failed` — though a CLI process ran it — then a detached start through the API answers 202
//! and streams `starting`, `running`. The access log is JSON lines with `AIMA_LOG_FORMAT=json`.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::daemon::Daemon;
use crate::support::http::http;
use crate::support::lab::Lab;
use crate::support::port_blocker::PortBlocker;
use crate::support::sse::EventStream;

const EVENT_WAIT: Duration = Duration::from_secs(20);

/// The metrics text once it has every one of `lines`; panics with the last text otherwise.
fn metrics_with(daemon: &Daemon, lines: &[&str]) -> String {
    let token = daemon.token();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (code, text) =
            http(daemon.port, "GET", "/metrics", None, token.as_deref(), 10).unwrap();
        assert_eq!(code, 200, "{text}");
        if lines.iter().all(|want| text.lines().any(|l| l == *want)) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "metrics lack some of {lines:#?}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn blocked_and_detached_starts_show_in_metrics_and_events() {
    let lab = Lab::new(&[]);
    let (svc, port) = lab.service();
    let daemon = Daemon::start(
        &lab,
        &[("AIMA_LOG_FORMAT", "json"), ("AIMA_RECONCILE_SECS", "1")],
    );
    let token = daemon.token();
    let events = EventStream::open(daemon.port, "/api/v2/events", token.as_deref());

    // A CLI process runs the blocked start: the daemon shares only the store with it.
    let blocker = PortBlocker::python(port);
    lab.run(&["service", "start", &svc]).failure(5);
    let starting = events.next_of(&svc, EVENT_WAIT);
    assert_eq!(
        (&starting["from"], &starting["to"]),
        (&Value::from("created"), &Value::from("starting")),
        "{starting}"
    );
    let failed = events.next_of(&svc, EVENT_WAIT);
    assert_eq!(failed["to"], "failed", "{failed}");
    assert_eq!(failed["attempt"]["phase"], "preflight", "{failed}");
    assert_eq!(failed["attempt"]["code"], "port_in_use", "{failed}");
    assert!(
        failed["last_error"]
            .as_str()
            .is_some_and(|e| e.contains(&format!("port {port}"))),
        "{failed}"
    );
    let text = metrics_with(
        &daemon,
        &[
            r#"aima_start_fast_failures_total{reason="port_in_use"} 1"#,
            r#"aima_starts_total{outcome="failed",phase="preflight"} 1"#,
            r#"aima_services{status="failed"} 1"#,
        ],
    );
    eprintln!("metrics after the blocked start:\n{text}");
    drop(blocker);

    // Through the API, detached: accepted at once, running once the reconciler sees it healthy.
    let (code, body) = daemon.call("POST", &format!("/api/v2/services/{svc}/start"), None);
    assert_eq!(code, 202, "{body}");
    assert_eq!(body["status"], "starting", "{body}");
    let starting = events.next_of(&svc, EVENT_WAIT);
    assert_eq!(starting["to"], "starting", "{starting}");
    let running = events.next_of(&svc, Duration::from_secs(60));
    assert_eq!(running["to"], "running", "{running}");
    metrics_with(
        &daemon,
        &[
            r#"aima_starts_total{outcome="running",phase="none"} 1"#,
            r#"aima_start_duration_seconds_count{outcome="running"} 1"#,
            r#"aima_http_requests_total{method="POST",route="/api/v2/services/{id}/start",status="202"} 1"#,
            r#"aima_services{status="running"} 1"#,
        ],
    );
    let (code, _) = http(daemon.port, "GET", "/metrics", None, None, 10).unwrap();
    assert_eq!(code, 401, "/metrics needs the token like the other routes");

    // The access log: JSON lines, one per request, with method, route and status.
    let log = daemon.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let accepted = lines.iter().find(|l| {
        l["status"] == 202 && l["span"]["uri"] == format!("/api/v2/services/{svc}/start")
    });
    assert!(accepted.is_some(), "no access log line for the 202:\n{log}");
    lab.run(&["service", "stop", &svc]).success();

    // An open event stream does not hold up shutdown: it ends when shutdown begins.
    let mut daemon = daemon;
    daemon.signal("TERM");
    let status = daemon.wait_exit(Duration::from_secs(20));
    assert!(status.success(), "{status:?}");
    assert!(
        events.ended_within(Duration::from_secs(5)),
        "the event stream stayed open after the daemon exited"
    );
}
