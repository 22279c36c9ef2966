//! Real Docker, a start cut short: `kill -9` of `service start --wait` leaves a row that the next
//! reader marks `failed` and cleans up; SIGTERM is handled by the start itself.
//!
//! Both cut the start once Docker lists its container, which may still be in creation then
//! (listed, not yet removable). The guarantee checked: once the reader (or the interrupted start
//! itself) has answered, no container Docker had begun to create is left — with no waiting.

use std::process::{Child, Stdio};
use std::time::Duration;

use crate::support::containers::containers_with;
use crate::support::lab::Lab;
use crate::support::wait::wait_until;

/// Starts `service start --wait` on a slow-loading engine and returns once its container exists.
fn start_in_background(lab: &Lab, svc: &str) -> Child {
    let child = lab
        .command(&["service", "start", svc, "--wait", "--timeout", "120"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn aima");
    let label = format!("aima.service={svc}");
    wait_until(
        Duration::from_secs(30),
        "the engine container to exist",
        || !containers_with(&[&label]).is_empty(),
    );
    child
}

#[test]
fn kill_9_during_a_waiting_start_is_resolved_as_failed_with_nothing_left() {
    let lab = Lab::new(&["AIMA_SIM_LOAD_SECS=30"]);
    let (svc, _) = lab.service();
    let mut child = start_in_background(&lab, &svc);

    child.kill().expect("SIGKILL the start");
    child.wait().unwrap();

    let listed = lab.listed_service(&svc);
    assert_eq!(listed["status"], "failed", "{listed:#}");
    assert!(
        listed["last_error"]
            .as_str()
            .unwrap()
            .contains("start interrupted"),
        "{listed:#}"
    );
    let left = containers_with(&[&format!("aima.service={svc}")]);
    assert!(left.is_empty(), "left: {left:?}");
}

#[test]
fn sigterm_during_a_waiting_start_fails_it_and_removes_the_container() {
    let lab = Lab::new(&["AIMA_SIM_LOAD_SECS=30"]);
    let (svc, _) = lab.service();
    let child = start_in_background(&lab, &svc);

    let term = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(term.success());
    let out = child.wait_with_output().unwrap();

    assert_eq!(out.status.code(), Some(130), "{out:?}");
    let listed = lab.listed_service(&svc);
    assert_eq!(listed["status"], "failed", "{listed:#}");
    assert!(
        listed["last_error"].as_str().unwrap().contains("SIGTERM"),
        "{listed:#}"
    );
    assert!(lab.containers().is_empty(), "left: {:?}", lab.containers());
}
