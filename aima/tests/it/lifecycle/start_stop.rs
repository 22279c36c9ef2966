//! Real Docker, real engine container (the simulator): once the port is free the service starts,
//! answers on its port, and stops cleanly with the port released; stop works from every state.

use std::time::Duration;

use crate::support::containers::containers_with;
use crate::support::lab::Lab;
use crate::support::port_blocker::{PortBlocker, port_is_free};
use crate::support::wait::wait_until;

#[test]
fn after_a_blocked_start_the_service_starts_answers_and_stops_cleanly() {
    let lab = Lab::new(&[]);
    let (svc, port) = lab.service();
    {
        let _blocker = PortBlocker::python(port);
        lab.run(&["service", "start", &svc, "--wait", "--timeout", "60"])
            .failure(5);
    }
    wait_until(
        Duration::from_secs(5),
        "the blocker to release the port",
        || port_is_free(port),
    );

    let started = lab.run_waiting("start", &svc, "60", &[]).success();
    let json = started.json();
    assert_eq!(
        (json["status"].as_str(), json["port"].as_u64()),
        (Some("running"), Some(port.into())),
        "{started}"
    );
    eprintln!("started and healthy after {:?}", started.elapsed);

    let (status, body) = http_get(port, "/v1/models");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"tinyllama\""), "{body}");
    let labels = [
        "aima.managed=true".to_owned(),
        "aima.engine=vllm".to_owned(),
        format!("aima.service={svc}"),
        format!("aima.instance={}", lab.instance()),
    ];
    for label in &labels {
        assert_eq!(
            containers_with(&[label.as_str()])
                .iter()
                .filter(|c| c.contains(&svc))
                .count(),
            1,
            "{label}"
        );
    }

    let stopped = lab.run(&["service", "stop", &svc, "-o", "json"]).success();
    assert_eq!(stopped.json()["status"], "stopped", "{stopped}");
    assert!(
        port_is_free(port),
        "stop returns once the port is released\n{stopped}"
    );
    assert!(lab.containers().is_empty(), "{:?}", lab.containers());

    let again = lab.run(&["service", "stop", &svc, "-o", "json"]).success();
    assert_eq!(
        again.json()["status"],
        "stopped",
        "stop is idempotent\n{again}"
    );
}

#[test]
fn stop_works_on_created_failed_and_stopped_services() {
    let lab = Lab::new(&[]);
    let (svc, _) = lab.service();

    let created = lab.run(&["service", "stop", &svc, "-o", "json"]).success();
    assert_eq!(created.json()["status"], "stopped");
    let stopped = lab.run(&["service", "stop", &svc, "-o", "json"]).success();
    assert_eq!(stopped.json()["status"], "stopped");

    let broken = [("DOCKER_HOST", "tcp://127.0.0.1:99999")];
    lab.run_env(&broken, &["service", "start", &svc]).failure(6);
    assert_eq!(lab.listed_service(&svc)["status"], "failed");
    let failed = lab.run(&["service", "stop", &svc, "-o", "json"]).success();
    assert_eq!(failed.json()["status"], "stopped");
    assert!(lab.containers().is_empty());
}

#[test]
fn a_detached_start_becomes_running_when_next_looked_at() {
    let lab = Lab::new(&[]);
    let (svc, port) = lab.service();

    let out = lab.run(&["service", "start", &svc, "-o", "json"]).success();
    assert_eq!(out.json()["status"], "starting", "{out}");
    assert_eq!(
        out.json()["owner"],
        serde_json::Value::Null,
        "a detached start has no owner"
    );

    wait_until(Duration::from_secs(30), "the list to show running", || {
        lab.listed_service(&svc)["status"] == "running"
    });
    assert_eq!(http_get(port, "/v1/models").0, 200);
    lab.run(&["service", "stop", &svc]).success();
    assert!(lab.containers().is_empty());
}

/// One `GET` of the engine; returns the status code and the body.
fn http_get(port: u16, path: &str) -> (u16, String) {
    crate::support::http::http(port, "GET", path, None, None, 5).expect("an answer from the engine")
}

/// An engine that ignores SIGTERM (as a PID-1 process without a handler does) is killed once
/// the grace period given with `--time` is over, not after the default ten seconds.
#[test]
fn stop_time_bounds_the_grace_of_an_engine_that_ignores_sigterm() {
    let lab = Lab::new(&["AIMA_SIM_IGNORE_SIGTERM=true"]);
    let (svc, port) = lab.service();
    lab.run(&["service", "start", &svc, "--wait", "--timeout", "60"])
        .success();

    lab.run(&["service", "stop", &svc, "--force", "--time", "1"])
        .failure(2);
    let stopped = lab
        .run(&["service", "stop", &svc, "--time", "1", "-o", "json"])
        .success();
    assert_eq!(stopped.json()["status"], "stopped", "{stopped}");
    assert!(
        stopped.elapsed < Duration::from_secs(8),
        "a 1 s grace, not the default 10 s: {:?}\n{stopped}",
        stopped.elapsed
    );
    assert!(port_is_free(port));
    assert!(lab.containers().is_empty(), "{:?}", lab.containers());
}
