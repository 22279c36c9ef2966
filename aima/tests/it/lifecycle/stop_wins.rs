//! Real Docker, a stop and a delete while `service start --wait` is waiting for a slow engine:
//! the stop returns only when no container of the service is left, none appears afterwards, the
//! starter ends with the "stopped while starting" conflict (exit 4), and a service made again
//! on the same port starts at once. Three rounds, as the race differs from one to the next.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::containers::containers_with;
use crate::support::daemon::Daemon;
use crate::support::lab::Lab;
use crate::support::ports::free_port;
use crate::support::wait::wait_until;

/// How long the test keeps looking for a container of the deleted service.
const WATCH: Duration = Duration::from_secs(3);

#[test]
fn a_stop_and_delete_during_a_waiting_start_leave_nothing_and_end_the_starter() {
    let lab = Lab::new(&["AIMA_SIM_LOAD_SECS=60"]);
    let model = lab.create_model();
    let port = free_port().to_string();
    for round in 1..=3 {
        let svc = lab.create_service(&model, &["--port", &port]);
        let label = format!("aima.service={svc}");
        let mut starter = lab
            .command(&["service", "start", &svc, "--wait", "--timeout", "60"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn aima");
        wait_until(Duration::from_secs(30), "the engine container", || {
            !containers_with(&[&label]).is_empty()
        });
        // Into the health wait, as the issue's reproduction has it.
        std::thread::sleep(Duration::from_millis(500 * round));

        lab.run(&["service", "stop", &svc]).success();
        let at_stop = containers_with(&[&label]);
        lab.run(&["service", "delete", &svc]).success();

        let ended = wait_until(Duration::from_secs(30), "the starter to end", || {
            starter.try_wait().unwrap()
        });
        let said = std::io::read_to_string(starter.stderr.take().unwrap()).unwrap();
        assert!(
            at_stop.is_empty(),
            "round {round}: left at stop: {at_stop:?}"
        );
        assert_eq!(ended.code(), Some(4), "round {round}: {said}");
        assert!(said.contains("stopped while it was starting"), "{said}");
        let until = Instant::now() + WATCH;
        while Instant::now() < until {
            let seen = containers_with(&[&label]);
            assert!(
                seen.is_empty(),
                "round {round}: a container of the deleted service: {seen:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }

        // The port is free for a new service at once (started without waiting for the load).
        let again = lab.create_service(&model, &["--port", &port]);
        lab.run(&["service", "start", &again]).success();
        lab.run(&["service", "stop", &again]).success();
        lab.run(&["service", "delete", &again]).success();
    }
    assert!(lab.containers().is_empty(), "{:?}", lab.containers());
}

/// The same in the daemon: an API stop during an API start that waits for health. The start
/// answers 409 "stopped while it was starting", and nothing is left when the stop answers.
#[test]
fn in_the_daemon_an_api_stop_wins_over_an_api_start() {
    let lab = Lab::new(&["AIMA_SIM_LOAD_SECS=60"]);
    let daemon = Daemon::start(&lab, &[]);
    let svc = daemon.create_service(free_port());
    let label = format!("aima.service={svc}");
    std::thread::scope(|s| {
        let start = s.spawn(|| {
            let body = r#"{"wait": true, "timeout": 60}"#;
            let path = format!("/api/v2/services/{svc}/start");
            daemon.call_timeout("POST", &path, Some(body), 90)
        });
        wait_until(Duration::from_secs(30), "the engine container", || {
            !containers_with(&[&label]).is_empty()
        });
        std::thread::sleep(Duration::from_millis(500));

        let (code, stopped) = daemon.call("POST", &format!("/api/v2/services/{svc}/stop"), None);
        let at_stop = containers_with(&[&label]);
        let (start_code, refused) = start.join().unwrap();

        assert_eq!(
            (code, &stopped["status"]),
            (200, &"stopped".into()),
            "{stopped}"
        );
        assert!(at_stop.is_empty(), "left at stop: {at_stop:?}");
        assert_eq!(start_code, 409, "{refused}");
        assert_eq!(refused["error"]["code"], "conflict", "{refused}");
        let message = refused["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("stopped while it was starting"),
            "{refused}"
        );
    });
    let (code, deleted) = daemon.call("DELETE", &format!("/api/v2/services/{svc}"), None);
    assert_eq!(code, 200, "{deleted}");
    assert!(containers_with(&[&label]).is_empty());
}
