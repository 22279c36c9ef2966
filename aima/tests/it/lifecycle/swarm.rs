//! The Swarm runtime (`AIMA_RUNTIME=swarm`) on a real single-node Swarm with the engine
//! simulator: an engine is a one-replica service answering on its node's published port, stop
//! removes it and frees the port, and a taken port fails the start at once, naming port and
//! node, with no service left for the Swarm to re-schedule.

use crate::support::http::Request;
use crate::support::lab::Lab;
use crate::support::port_blocker::{PortBlocker, port_is_free};
use crate::support::swarm::{SwarmHold, services_with, this_node};

/// A lab on the Swarm runtime; declared after the hold, so it is dropped (and its services
/// stopped) before the swarm is left.
fn swarm_lab() -> (SwarmHold, Lab) {
    let hold = SwarmHold::join();
    (hold, Lab::with_env(&[], &[("AIMA_RUNTIME", "swarm")]))
}

fn services_of(lab: &Lab) -> Vec<String> {
    services_with(&[&format!("aima.instance={}", lab.instance())])
}

#[test]
fn swarm_start_runs_a_service_on_the_nodes_port_and_stop_removes_it_and_frees_the_port() {
    let (_hold, lab) = swarm_lab();
    let (svc, port) = lab.service();

    let out = lab.bring_up("start", &svc, &[]);
    assert_eq!(services_of(&lab).len(), 1, "{out}");
    let health = reqwest_free_get(port);
    assert!(
        health.contains("ok"),
        "the engine did not answer on the node's port: {health}"
    );
    let logs = lab.run(&["service", "logs", &svc, "--tail", "5"]).success();
    assert!(!logs.stdout.trim().is_empty(), "{logs}");

    let stopped = lab.run(&["service", "stop", &svc, "-o", "json"]).success();
    assert_eq!(stopped.json()["status"], "stopped", "{stopped}");
    assert!(
        services_of(&lab).is_empty(),
        "services left: {:?}",
        services_of(&lab)
    );
    assert!(
        lab.containers().is_empty(),
        "containers left: {:?}",
        lab.containers()
    );
    assert!(port_is_free(port), "port {port} still held after stop");
}

#[test]
fn swarm_start_on_a_port_held_on_the_node_fails_at_once_naming_port_and_node() {
    let (_hold, lab) = swarm_lab();
    let (svc, port) = lab.service();
    let blocker = PortBlocker::python(port);
    let node = this_node();

    let out = lab
        .run(&["service", "start", &svc, "--wait", "--timeout", "60"])
        .failure(5)
        .stderr_has(&format!(
            "port {port} is in use on Swarm node {node} by python3 (pid {})",
            blocker.pid()
        ));
    eprintln!(
        "swarm port-blocked start (preflight) failed after {:?}",
        out.elapsed
    );
    assert_eq!(lab.listed_service(&svc)["status"], "failed");
    assert!(
        services_of(&lab).is_empty(),
        "a service was left: {:?}",
        services_of(&lab)
    );
}

/// A holder the host probe does not see (IPv6 only): the Swarm's task fails publishing the
/// port; aima classifies that first failure with the node, removes the service, and nothing
/// re-schedules it.
#[test]
fn swarm_task_failing_to_publish_the_port_ends_the_start_with_the_node_and_no_service_left() {
    let (_hold, lab) = swarm_lab();
    let (svc, port) = lab.service();
    let _blocker = PortBlocker::python_v6_only(port);
    let node = this_node();

    let out = lab
        .run(&["service", "start", &svc, "--wait", "--timeout", "60"])
        .failure(5)
        .stderr_has(&format!("port {port} is in use on Swarm node {node}"))
        .stderr_has("address already in use");
    eprintln!(
        "swarm port-blocked start (task) failed after {:?}",
        out.elapsed
    );
    let listed = lab.listed_service(&svc);
    assert_eq!(listed["status"], "failed", "{listed:#}");
    let attempts = listed["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 1, "{listed:#}");
    assert_eq!(attempts[0]["phase"], "start");
    assert_eq!(attempts[0]["code"], "port_in_use");
    assert!(
        services_of(&lab).is_empty(),
        "a service was left: {:?}",
        services_of(&lab)
    );
    // Nothing comes back: the Swarm has no service to re-schedule a task for (it would within
    // a few seconds, as a new task after each failure).
    for _ in 0..6 {
        std::thread::sleep(std::time::Duration::from_millis(500));
        assert!(
            services_of(&lab).is_empty() && lab.containers().is_empty(),
            "something re-appeared"
        );
    }
}

/// `GET /health` on the node's published port (the single node is this machine, on loopback);
/// the whole answer, head and body.
fn reqwest_free_get(port: u16) -> String {
    let answer = Request::get("/health")
        .host("127.0.0.1")
        .send(("127.0.0.1", port))
        .expect("GET /health on the node's port");
    format!("{}\r\n\r\n{}", answer.head, answer.body)
}

/// A stop during a start that waits for a slow engine on the Swarm: the stop returns with no
/// Swarm service and no container of the service left, and the starter ends with exit 4.
#[test]
fn swarm_stop_during_a_waiting_start_wins() {
    let hold = SwarmHold::join();
    let lab = Lab::with_env(&["AIMA_SIM_LOAD_SECS=60"], &[("AIMA_RUNTIME", "swarm")]);
    let (svc, _) = lab.service();
    let mut starter = lab
        .command(&["service", "start", &svc, "--wait", "--timeout", "60"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn aima");
    crate::support::wait::wait_until(
        std::time::Duration::from_secs(30),
        "the engine's Swarm service",
        || !services_of(&lab).is_empty(),
    );

    lab.run(&["service", "stop", &svc]).success();
    let (services, containers) = (services_of(&lab), lab.containers());
    let ended = crate::support::wait::wait_until(
        std::time::Duration::from_secs(30),
        "the starter to end",
        || starter.try_wait().unwrap(),
    );

    assert!(
        services.is_empty(),
        "Swarm services at the stop: {services:?}"
    );
    assert!(
        containers.is_empty(),
        "containers at the stop: {containers:?}"
    );
    assert_eq!(ended.code(), Some(4));
    drop(lab);
    drop(hold);
}
