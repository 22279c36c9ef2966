//! Detection by Docker's event stream, against a real Docker daemon and the engine simulator:
//! with a reconcile period of an hour, only the stream can tell the daemon that an engine died,
//! so a failure recorded (and a restart begun) within seconds proves the events path. The
//! times measured are printed, never asserted.

use std::time::{Duration, Instant};

use crate::support::aima::Aima;
use crate::support::containers::{Cleanup, containers_with, instance_of};
use crate::support::daemon::Daemon;
use crate::support::docker::{docker, sim_image};
use crate::support::ports::free_port;
use ::aima::domain::{Service, Status};

/// Far beyond the moments measured here: a change seen sooner did not come from polling.
const RECONCILE_SECS: &str = "3600";
/// A generous deadline for a loaded machine; the real figure is printed.
const DEADLINE: Duration = Duration::from_secs(60);

/// Polls the store every 10 ms until `ready` holds; returns the row and the time it took.
#[track_caller]
fn poll(
    data: &Aima,
    service: &str,
    what: &str,
    ready: impl Fn(&Service) -> bool,
) -> (Service, Duration) {
    let began = Instant::now();
    loop {
        let svc = data.recorded(service);
        if ready(&svc) {
            return (svc, began.elapsed());
        }
        assert!(
            began.elapsed() < DEADLINE,
            "timed out after {DEADLINE:?} waiting for {what}; last: {} {:?}",
            svc.status.as_str(),
            svc.last_error
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// A daemon (reconcile period an hour, policy `policy`) with one service started on the
/// simulator built with `env`. Returned in drop order: the daemon goes before the cleanup.
fn supervised_daemon(env: &[&str], policy: &str) -> (Aima, Cleanup, Daemon, String) {
    let image = sim_image(env);
    let data = Aima::new()
        .env("AIMA_VLLM_IMAGE", &image)
        .env("AIMA_RECONCILE_SECS", RECONCILE_SECS)
        .env("AIMA_VLLM_RESTART", policy);
    let cleanup = Cleanup {
        instance: instance_of(data.data_dir()),
        extra: Vec::new(),
    };
    let daemon = Daemon::start(&data, &[]);
    let service = daemon.create_service(free_port());
    let (code, svc) = daemon.call_timeout(
        "POST",
        &format!("/api/v2/services/{service}/start"),
        Some(r#"{"wait": true, "timeout": 60}"#),
        90,
    );
    assert_eq!(code, 200, "{svc}");
    (data, cleanup, daemon, service)
}

#[test]
fn a_killed_engine_is_seen_at_once_and_restarted_without_waiting_a_reconcile_period() {
    let (data, cleanup, daemon, service) = supervised_daemon(&[], "always");
    let own = || {
        containers_with(&[
            &format!("aima.instance={}", cleanup.instance),
            &format!("aima.service={service}"),
        ])
    };
    let (mut to_backoff, mut to_running) = (Vec::new(), Vec::new());
    for round in 1..=3u32 {
        let first = data.recorded(&service).container_id.unwrap();
        assert!(
            docker(&["kill", first.as_str()]).status.success(),
            "docker kill failed"
        );
        let killed = Instant::now();
        let (svc, _) = poll(&data, &service, "the death recorded", |s| {
            s.status != Status::Running || s.container_id.as_ref() != Some(&first)
        });
        to_backoff.push(killed.elapsed());
        assert!(
            matches!(
                svc.status,
                Status::Backoff | Status::Failed | Status::Starting
            ),
            "{:?}",
            svc.status
        );
        let (svc, _) = poll(&data, &service, "running again in a new container", |s| {
            s.status == Status::Running && s.container_id.as_ref().is_some_and(|c| c != &first)
        });
        to_running.push(killed.elapsed());
        assert_eq!(svc.restarts, round, "restarts in a row");
        assert_eq!(own().len(), 1, "one container at a time");
        let (code, got) = daemon.call("GET", &format!("/api/v2/services/{service}"), None);
        assert_eq!(
            (code, got["status"].as_str()),
            (200, Some("running")),
            "{got}"
        );
    }
    eprintln!(
        "docker kill → failure recorded: {:?} (median of {:?}); → running again: {:?} (median of {:?}, backoff 1 s, 2 s, 4 s)",
        median(to_backoff.clone()),
        to_backoff,
        median(to_running.clone()),
        to_running
    );
    drop(daemon);
}

#[test]
fn an_engine_that_exits_0_is_recorded_at_once_and_on_failure_leaves_it_failed() {
    let env = ["AIMA_SIM_CRASH_AFTER_SECS=2", "AIMA_SIM_CRASH_EXIT_CODE=0"];
    let (data, cleanup, daemon, service) = supervised_daemon(&env, "on-failure");
    let (svc, took) = poll(&data, &service, "the clean exit answered", |s| {
        s.last_error
            .as_deref()
            .is_some_and(|e| e.contains("not restarted"))
    });
    eprintln!(
        "started → exit 0 recorded and answered: {took:?} (the engine exits 2 s after loading)"
    );
    assert_eq!((svc.status, svc.restarts), (Status::Failed, 0));
    let reason = svc.last_error.unwrap();
    assert!(
        reason.starts_with("the engine exited with code 0"),
        "{reason}"
    );
    assert!(
        reason.contains("policy on-failure restarts only an engine that failed"),
        "{reason}"
    );
    let own = containers_with(&[
        &format!("aima.instance={}", cleanup.instance),
        &format!("aima.service={service}"),
    ]);
    assert!(own.is_empty(), "its container is removed: {own:?}");
    let (code, got) = daemon.call("GET", &format!("/api/v2/services/{service}"), None);
    assert_eq!(
        (code, got["status"].as_str()),
        (200, Some("failed")),
        "{got}"
    );
    drop(daemon);
}
