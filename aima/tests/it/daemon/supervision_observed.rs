//! What the daemon shows of the supervisor, against real Docker and the engine simulator: a
//! killed engine's restart as `backoff` and `restarting` events and in `/metrics`; a second
//! kill past `on-failure:1` as `gave_up` with its reason. Without Docker these tests fail with
//! a clear message; they never pass silently.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::aima::Aima;
use crate::support::containers::{Cleanup, instance_of};
use crate::support::daemon::Daemon;
use crate::support::docker::{docker, sim_image};
use crate::support::http::http;
use crate::support::ports::free_port;
use crate::support::sse::EventStream;

/// A reconcile period (1 s), the first backoff (1 s) and a start of the simulator, with slack
/// for a loaded machine.
const EVENT_WAIT: Duration = Duration::from_secs(30);

/// The metrics text once it has every one of `lines`; panics with the last text otherwise.
fn metrics_with(daemon: &Daemon, lines: &[String]) -> String {
    let token = daemon.token();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (code, text) =
            http(daemon.port, "GET", "/metrics", None, token.as_deref(), 10).unwrap();
        assert_eq!(code, 200, "{text}");
        if lines.iter().all(|want| text.lines().any(|l| l == want)) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "metrics lack some of {lines:#?}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `aima_service_restarts_total`, `_up` and `_desired_running` of one service.
fn service_metrics(id: &str, name: &str, restarts: u64, up: u8, desired: u8) -> Vec<String> {
    let labels = format!(r#"{{service="{id}",name="{name}"}}"#);
    vec![
        format!("aima_service_restarts_total{labels} {restarts}"),
        format!("aima_service_up{labels} {up}"),
        format!("aima_service_desired_running{labels} {desired}"),
    ]
}

/// The next event of `service` whose kind and target status are these.
fn expect(events: &EventStream, service: &str, kind: &str, to: &str) -> Value {
    let event = events.next_of(service, EVENT_WAIT);
    assert_eq!(
        (event["kind"].as_str(), event["to"].as_str()),
        (Some(kind), Some(to)),
        "{event}"
    );
    event
}

/// The `RESTARTS` cell of `service` in `service list`'s table.
fn restarts_cell(data: &Aima, service: &str) -> String {
    let table = data.run(&["service", "list"]).success().stdout;
    let mut lines = table.lines();
    let header = lines.next().unwrap_or_default();
    let at = header
        .find("RESTARTS")
        .unwrap_or_else(|| panic!("no RESTARTS column:\n{table}"));
    let row = lines
        .find(|l| l.starts_with(service))
        .unwrap_or_else(|| panic!("no row of {service}:\n{table}"));
    row[at..]
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn kill(svc: &Value) {
    let container = svc["container_id"].as_str().expect("a running container");
    assert!(
        docker(&["kill", container]).status.success(),
        "docker kill failed"
    );
}

#[test]
fn restarts_show_as_events_and_metrics_and_giving_up_says_why() {
    let image = sim_image(&[]);
    let data = Aima::new()
        .env("AIMA_VLLM_IMAGE", &image)
        .env("AIMA_RECONCILE_SECS", "1")
        .env("AIMA_VLLM_RESTART", "on-failure:1");
    let _cleanup = Cleanup {
        instance: instance_of(data.data_dir()),
        extra: Vec::new(),
    };
    let daemon = Daemon::start(&data, &[]);
    let service = daemon.create_service(free_port());
    let token = daemon.token();
    let events = EventStream::open(daemon.port, "/api/v2/events", token.as_deref());
    let start = |what: &str| {
        let (code, svc) = daemon.call_timeout(
            "POST",
            &format!("/api/v2/services/{service}/start"),
            Some(r#"{"wait": true, "timeout": 60}"#),
            90,
        );
        assert_eq!(code, 200, "{what}: {svc}");
        svc
    };
    let svc = start("the operator's start");
    let name = svc["name"].as_str().unwrap().to_owned();
    expect(&events, &service, "status", "starting");
    expect(&events, &service, "status", "running");
    metrics_with(&daemon, &service_metrics(&service, &name, 0, 1, 1));

    kill(&svc);
    let killed = Instant::now();
    let failed = expect(&events, &service, "status", "failed");
    assert_eq!(failed["from"], "running", "{failed}");
    let backoff = expect(&events, &service, "backoff", "backoff");
    assert_eq!(backoff["restart"], 1, "{backoff}");
    assert!(backoff["next_restart_at"].is_string(), "{backoff}");
    assert!(
        backoff["reason"]
            .as_str()
            .is_some_and(|r| r.contains("exited")),
        "the failure it answers: {backoff}"
    );
    let restarting = expect(&events, &service, "restarting", "starting");
    assert_eq!(
        (
            &restarting["from"],
            &restarting["restart"],
            &restarting["reason"]
        ),
        (&Value::from("backoff"), &Value::from(1), &backoff["reason"]),
        "{restarting}"
    );
    expect(&events, &service, "status", "running");
    eprintln!("running again {:?} after docker kill", killed.elapsed());
    metrics_with(&daemon, &service_metrics(&service, &name, 1, 1, 1));
    assert_eq!(restarts_cell(&data, &service), "1");

    // on-failure:1 has made its one restart in a row: the next death is given up.
    let (code, svc) = daemon.call("GET", &format!("/api/v2/services/{service}"), None);
    assert_eq!(code, 200, "{svc}");
    kill(&svc);
    expect(&events, &service, "status", "failed");
    let gave_up = expect(&events, &service, "gave_up", "failed");
    assert_eq!(
        (&gave_up["from"], &gave_up["restart"]),
        (&Value::from("failed"), &Value::from(1)),
        "{gave_up}"
    );
    let reason = gave_up["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("crash loop: 1 restarts, last: "),
        "{gave_up}"
    );
    assert_eq!(gave_up["last_error"], reason, "{gave_up}");
    // Still wanted running (an operator's stop says otherwise), but down, and left alone.
    metrics_with(&daemon, &service_metrics(&service, &name, 1, 0, 1));
    assert!(
        events.next(Duration::from_secs(3)).is_none(),
        "nothing follows giving up"
    );

    // An operator's start begins a new row; the restarts counted since the daemon began stay.
    let svc = start("the operator's start after giving up");
    assert_eq!(svc["restarts"], 0, "{svc}");
    let (code, stopped) = daemon.call("POST", &format!("/api/v2/services/{service}/stop"), None);
    assert_eq!(code, 200, "{stopped}");
    metrics_with(&daemon, &service_metrics(&service, &name, 1, 0, 0));
}
