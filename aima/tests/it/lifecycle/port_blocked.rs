//! Real Docker, a port held by another program (python3, as in the reference scenario): the
//! start fails fast with exit code 5 naming the port and the program, the service is `failed`,
//! no container is left, `stop` works on it, and repeated start/fail cycles leak nothing.

use std::time::Duration;

use crate::support::containers::containers_with;
use crate::support::lab::Lab;
use crate::support::port_blocker::{PortBlocker, port_is_free};
use crate::support::setup::string_at;
use crate::support::snapshot;
use crate::support::wait::wait_until;

#[test]
fn a_blocked_port_fails_the_start_at_once_naming_port_and_program() {
    let lab = Lab::new(&[]);
    let (svc, port) = lab.service();
    let blocker = PortBlocker::python(port);

    let out = lab
        .run(&["service", "start", &svc, "--wait", "--timeout", "60"])
        .failure(5)
        .stderr_has(&format!(
            "port {port} is in use by python3 (pid {})",
            blocker.pid()
        ))
        .stderr_has(&format!("kill {}", blocker.pid()))
        .stdout_is_empty();
    eprintln!("port-blocked start failed after {:?}", out.elapsed);

    let listed = lab.listed_failed(&svc, 1);
    assert_eq!(listed["attempts"][0]["phase"], "preflight");
    assert!(
        listed["last_error"]
            .as_str()
            .unwrap()
            .contains(&format!("port {port}"))
    );
    let left = containers_with(&[&format!("aima.service={svc}")]);
    assert!(left.is_empty(), "containers left: {left:?}");
    snapshot::settings(&lab, &[port]).bind(|| {
        insta::assert_snapshot!("start_port_blocked", out.stderr);
    });

    let stopped = lab.run(&["service", "stop", &svc, "-o", "json"]).success();
    assert_eq!(stopped.json()["status"], "stopped", "{stopped}");
}

#[test]
fn repeated_start_fail_cycles_leak_nothing_and_the_port_is_free_after() {
    // The scenario asks for 3 cycles; 5 also give the median fast-fail time for the report.
    const CYCLES: usize = 5;
    let lab = Lab::new(&[]);
    let (svc, port) = lab.service();
    let blocker = PortBlocker::python(port);

    let mut times = Vec::new();
    for cycle in 1..=CYCLES {
        let out = lab
            .run(&["service", "start", &svc, "--wait", "--timeout", "30"])
            .failure(5)
            .stderr_has(&format!("port {port} is in use"));
        times.push(out.elapsed);
        assert_eq!(
            lab.listed_service(&svc)["status"],
            "failed",
            "cycle {cycle}"
        );
        let left = lab.containers();
        assert!(left.is_empty(), "cycle {cycle} left {left:?}");
    }
    times.sort();
    eprintln!("fast-fail times {times:?}; median {:?}", times[CYCLES / 2]);

    drop(blocker);
    wait_until(Duration::from_secs(5), "the port to be free", || {
        port_is_free(port)
    });
    lab.run(&["service", "stop", &svc]).success();
    assert!(port_is_free(port), "aima holds nothing on port {port}");
}

#[test]
fn a_container_of_another_service_on_the_port_is_named() {
    let lab = Lab::new(&[]);
    let (first, port) = lab.service();
    let model = string_at(&lab.listed_service(&first), "/model_id");
    lab.run(&["service", "start", &first, "--wait", "--timeout", "60"])
        .success();
    lab.run(&["service", "stop", &first]).success();
    // The stopped service no longer reserves the port, so a second one may be given it...
    let second = lab.create_service(&model, &["--port", &port.to_string()]);
    lab.run(&["service", "start", &second, "--wait", "--timeout", "60"])
        .success();

    // ...and then the first cannot start on it, and is told which service holds it.
    lab.run(&["service", "start", &first, "--wait", "--timeout", "60"])
        .failure(5)
        .stderr_has(&format!("port {port} is in use by aima service {second}"))
        .stderr_has(&format!("aima service stop {second}"));
    assert_eq!(lab.listed_service(&second)["status"], "running");
}
