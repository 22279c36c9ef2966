//! The liveness watch against a real Docker daemon and the engine simulator: an engine that
//! stops answering while its process lives (`AIMA_SIM_HANG_AFTER_SECS`) is taken for dead after
//! `liveness_failures` probes in a row, then restarted under `--restart always`, or left
//! `failed` with the reason and no container under `no`. Probes every second, dead after
//! three; the measured times are printed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::aima::Aima;
use crate::support::containers::{Cleanup, containers_with, instance_of};
use crate::support::daemon::Daemon;
use crate::support::docker::sim_image;
use crate::support::ports::free_port;
use crate::support::wait::wait_until;
use ::aima::domain::{Desired, Status};

/// Seconds the simulator answers before it hangs.
const HANG_AFTER: &str = "3";
/// Three probes a second apart, the reconcile pass, the first backoff (1 s) and a start of the
/// simulator, with slack for a loaded machine.
const BACK_AGAIN: Duration = Duration::from_secs(40);

/// Whether the engine on `port` answers `GET /health` within 300 ms.
fn answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(300)));
    let request = b"GET /health HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n";
    if stream.write_all(request).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// A daemon whose vLLM engines hang after [`HANG_AFTER`] seconds, probed every second.
/// Dropped in reverse: the daemon goes before the cleanup, so nothing restarts after it.
fn hanging(policy: &str) -> (Cleanup, Aima, Daemon) {
    let image = sim_image(&[&format!("AIMA_SIM_HANG_AFTER_SECS={HANG_AFTER}")]);
    let data = Aima::new()
        .env("AIMA_VLLM_IMAGE", &image)
        .env("AIMA_RECONCILE_SECS", "1")
        .env("AIMA_VLLM_RESTART", policy)
        .env("AIMA_VLLM_LIVENESS_SECS", "1")
        .env("AIMA_VLLM_LIVENESS_FAILURES", "3");
    let cleanup = Cleanup {
        instance: instance_of(data.data_dir()),
        extra: Vec::new(),
    };
    let daemon = Daemon::start(&data, &[]);
    (cleanup, data, daemon)
}

/// Starts `service` through the API and waits until its engine stops answering; returns its
/// container and when the engine was first seen silent.
fn start_until_hung(daemon: &Daemon, service: &str, port: u16) -> (String, Instant) {
    let (code, svc) = daemon.call_timeout(
        "POST",
        &format!("/api/v2/services/{service}/start"),
        Some(r#"{"wait": true, "timeout": 60}"#),
        90,
    );
    assert_eq!(code, 200, "{svc}");
    let container = svc["container_id"].as_str().unwrap().to_owned();
    wait_until(Duration::from_secs(20), "the engine to hang", || {
        (!answers(port)).then_some(())
    });
    (container, Instant::now())
}

#[test]
fn a_hung_engine_under_restart_always_is_restarted() {
    let (cleanup, data, daemon) = hanging("always");
    let port = free_port();
    let service = daemon.create_service(port);
    let own = || {
        containers_with(&[
            &format!("aima.instance={}", cleanup.instance),
            &format!("aima.service={service}"),
        ])
    };
    let (first, hung) = start_until_hung(&daemon, &service, port);

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
    eprintln!(
        "liveness: running again {:?} after the engine hung",
        hung.elapsed()
    );
    assert_eq!((svc.restarts, svc.desired), (1, Desired::Running));
    assert_eq!(own().len(), 1, "one container at a time: {:?}", own());
    let log = daemon.log();
    assert!(log.contains("stopped answering its health check"), "{log}");

    let (code, stopped) = daemon.call("POST", &format!("/api/v2/services/{service}/stop"), None);
    assert_eq!(code, 200, "{stopped}");
    assert!(own().is_empty());
}

#[test]
fn a_hung_engine_under_restart_no_reads_failed_and_leaves_no_container() {
    let (cleanup, data, daemon) = hanging("no");
    let port = free_port();
    let service = daemon.create_service(port);
    let (_, hung) = start_until_hung(&daemon, &service, port);

    let svc = wait_until(BACK_AGAIN, "the service to read failed", || {
        let svc = data.recorded(&service);
        (svc.status == Status::Failed).then_some(svc)
    });
    eprintln!(
        "liveness: taken for dead {:?} after the engine hung",
        hung.elapsed()
    );
    let reason = svc.last_error.clone().unwrap_or_default();
    assert!(
        reason.contains("stopped answering its health check"),
        "{reason}"
    );
    assert_eq!(svc.container_id, None);
    let own = || {
        containers_with(&[
            &format!("aima.instance={}", cleanup.instance),
            &format!("aima.service={service}"),
        ])
    };
    // The row reads failed first (so an operator's stop that came first wins), then its
    // containers are removed.
    wait_until(
        Duration::from_secs(15),
        "its container to be removed",
        || own().is_empty().then_some(()),
    );
    eprintln!(
        "liveness: no container left {:?} after the engine hung",
        hung.elapsed()
    );
    // Policy `no`: a few passes later it is still failed, with nothing started.
    std::thread::sleep(Duration::from_secs(3));
    let later = data.recorded(&service);
    assert_eq!((later.status, later.restarts), (Status::Failed, 0));
    assert!(own().is_empty(), "{:?}", own());
}
