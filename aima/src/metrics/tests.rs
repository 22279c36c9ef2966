//! Counting starts from change-log events, and the exposition they render to.

use super::*;
use crate::domain::{Attempt, Phase};

fn event(from: &str, to: &str, attempt: Option<(Phase, &str)>, took_ms: i64) -> ServiceEvent {
    ServiceEvent {
        seq: 1,
        kind: EventKind::Status,
        service_id: "svc-00000001".into(),
        name: "s".into(),
        at: 10_000 + took_ms,
        from: Some(from.into()),
        to: to.into(),
        last_error: None,
        attempt: attempt.map(|(phase, code)| Attempt {
            number: 1,
            phase,
            elapsed_ms: took_ms as u64,
            reason: "r".into(),
            code: Some(code.into()),
            log_tail: vec![],
        }),
        began_at: Some(10_000),
        restart: None,
        next_restart_at: None,
        reason: None,
        actor: None,
    }
}

#[test]
fn only_the_end_of_a_start_counts() {
    assert_eq!(StartEnd::of(&event("created", "starting", None, 0)), None);
    assert_eq!(StartEnd::of(&event("running", "failed", None, 0)), None);
    let blocked = event(
        "starting",
        "failed",
        Some((Phase::Preflight, "port_in_use")),
        40,
    );
    assert_eq!(
        StartEnd::of(&blocked),
        Some(StartEnd {
            outcome: "failed",
            phase: "preflight".into(),
            fast_failure: Some("port_in_use".into()),
            seconds: Some(0.04),
        })
    );
    let crashed = event(
        "starting",
        "failed",
        Some((Phase::Health, "start_failed")),
        0,
    );
    assert_eq!(StartEnd::of(&crashed).unwrap().fast_failure, None);
    // A successful start after a failed attempt: the attempt says nothing about the outcome.
    let ok = event(
        "starting",
        "running",
        Some((Phase::Health, "start_failed")),
        2_500,
    );
    let ok = StartEnd::of(&ok).unwrap();
    assert_eq!((ok.outcome, ok.phase.as_str()), ("running", "none"));
}

#[test]
fn exposition_lists_every_family() {
    let m = Metrics::default();
    m.service_event(&event(
        "starting",
        "failed",
        Some((Phase::Preflight, "port_in_use")),
        40,
    ));
    m.service_event(&event("starting", "running", None, 2_500));
    m.reconcile_pass(true, 2);
    m.http_request("GET", "/api/v2/services/{id}", 404);
    let text = m.render(&[(Status::Running, 1), (Status::Failed, 1)], &[]);
    for line in [
        "# TYPE aima_starts_total counter",
        r#"aima_starts_total{outcome="failed",phase="preflight"} 1"#,
        r#"aima_starts_total{outcome="running",phase="none"} 1"#,
        r#"aima_start_fast_failures_total{reason="port_in_use"} 1"#,
        r#"aima_start_duration_seconds_bucket{outcome="running",le="2.5"} 1"#,
        r#"aima_start_duration_seconds_bucket{outcome="running",le="1"} 0"#,
        r#"aima_start_duration_seconds_bucket{outcome="running",le="+Inf"} 1"#,
        r#"aima_start_duration_seconds_sum{outcome="running"} 2.5"#,
        r#"aima_services{status="running"} 1"#,
        r#"aima_reconcile_passes_total{result="ok"} 1"#,
        "aima_reaped_containers_total 2",
        r#"aima_http_requests_total{method="GET",route="/api/v2/services/{id}",status="404"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} missing:\n{text}");
    }
}

fn gauge(id: &str, up: bool, desired_running: bool) -> ServiceGauge {
    ServiceGauge {
        id: id.into(),
        name: format!("{id}-name"),
        up,
        desired_running,
    }
}

/// Restarts are counted from `restarting` events per service, from 0 for a service that has
/// none, and forgotten with the service; up and desired come from the store's rows.
#[test]
fn per_service_samples_count_restarts_and_show_up_and_desired() {
    let m = Metrics::default();
    let mut restarting = event("backoff", "starting", None, 0);
    restarting.kind = EventKind::Restarting;
    restarting.restart = Some(1);
    m.service_event(&restarting);
    m.service_event(&restarting);
    // An operator's start from backoff is a plain change: not the supervisor's restart.
    m.service_event(&event("backoff", "starting", None, 0));
    let mut gone = restarting.clone();
    gone.service_id = "svc-00000009".into();
    m.service_event(&gone);
    m.service_event(&ServiceEvent {
        kind: EventKind::Status,
        to: "deleted".into(),
        ..gone
    });

    let each = [
        gauge("svc-00000001", true, true),
        gauge("svc-00000002", false, false),
    ];
    let text = m.render(&[], &each);

    for line in [
        "# TYPE aima_service_restarts_total counter",
        r#"aima_service_restarts_total{service="svc-00000001",name="svc-00000001-name"} 2"#,
        r#"aima_service_restarts_total{service="svc-00000002",name="svc-00000002-name"} 0"#,
        "# TYPE aima_service_up gauge",
        r#"aima_service_up{service="svc-00000001",name="svc-00000001-name"} 1"#,
        r#"aima_service_up{service="svc-00000002",name="svc-00000002-name"} 0"#,
        "# TYPE aima_service_desired_running gauge",
        r#"aima_service_desired_running{service="svc-00000001",name="svc-00000001-name"} 1"#,
        r#"aima_service_desired_running{service="svc-00000002",name="svc-00000002-name"} 0"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} missing:\n{text}");
    }
    assert!(
        !text.contains("svc-00000009"),
        "a deleted service is forgotten:\n{text}"
    );
    assert!(!m.inner().restarts.contains_key("svc-00000009"));
}
