//! The supervisor against a real Docker daemon and the engine simulator: an engine killed
//! behind aima's back runs again in a new container, and an operator's stop wins.
//! Without Docker these tests fail with a clear message; they never pass silently.

use std::time::{Duration, Instant};

use crate::support::aima::Aima;
use crate::support::containers::{Cleanup, containers_with, instance_of};
use crate::support::daemon::Daemon;
use crate::support::docker::{docker, sim_image};
use crate::support::ports::free_port;
use crate::support::wait::wait_until;
use ::aima::domain::{Desired, Status};

/// One reconcile period (1 s), the first backoff (1 s) and a start of the simulator, with
/// slack for a loaded machine; the measured time is printed.
const BACK_AGAIN: Duration = Duration::from_secs(30);

#[test]
fn a_killed_engine_with_restart_always_runs_again_and_a_stop_wins() {
    let image = sim_image(&[]);
    // The policy comes from the engine's setting, as `[engines.vllm] restart` would give it.
    let data = Aima::new()
        .env("AIMA_VLLM_IMAGE", &image)
        .env("AIMA_RECONCILE_SECS", "1")
        .env("AIMA_VLLM_RESTART", "always");
    let instance = instance_of(data.data_dir());
    let _cleanup = Cleanup {
        instance: instance.clone(),
        extra: Vec::new(),
    };
    let daemon = Daemon::start(&data, &[]);
    let service = daemon.create_service(free_port());
    let own = || {
        containers_with(&[
            &format!("aima.instance={instance}"),
            &format!("aima.service={service}"),
        ])
    };

    let (code, bad) = daemon.call(
        "POST",
        "/api/v2/services",
        Some(
            &serde_json::json!({
                "model_id": data.recorded(&service).model_id.to_string(),
                "engine_type": "vllm", "restart": "sometimes",
            })
            .to_string(),
        ),
    );
    assert_eq!(code, 400, "{bad}");

    let (code, svc) = daemon.call_timeout(
        "POST",
        &format!("/api/v2/services/{service}/start"),
        Some(r#"{"wait": true, "timeout": 60}"#),
        90,
    );
    assert_eq!(code, 200, "{svc}");
    assert_eq!(
        (svc["restart"].as_str(), svc["desired"].as_str()),
        (Some("always"), Some("running"))
    );
    let first = svc["container_id"].as_str().unwrap().to_owned();

    assert!(
        docker(&["kill", &first]).status.success(),
        "docker kill failed"
    );
    let killed = Instant::now();
    let svc = wait_until(
        BACK_AGAIN,
        "the supervisor to run it again in a new container",
        || {
            let svc = data.recorded(&service);
            let again = svc.status == Status::Running
                && svc
                    .container_id
                    .as_ref()
                    .is_some_and(|c| c.as_str() != first);
            again.then_some(svc)
        },
    );
    eprintln!("running again {:?} after docker kill", killed.elapsed());
    assert_eq!((svc.restarts, svc.desired), (1, Desired::Running));
    assert_eq!(own().len(), 1, "one container at a time");

    let (code, stopped) = daemon.call("POST", &format!("/api/v2/services/{service}/stop"), None);
    assert_eq!(code, 200, "{stopped}");
    std::thread::sleep(Duration::from_secs(3));
    let svc = data.recorded(&service);
    assert_eq!(
        (svc.status, svc.desired),
        (Status::Stopped, Desired::Stopped)
    );
    assert!(own().is_empty());
}
