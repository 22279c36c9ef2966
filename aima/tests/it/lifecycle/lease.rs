//! Real Docker, real processes: a start's owner lease. A starter that hangs (SIGSTOP) stops
//! renewing its lease and is reported `failed` once it lapses, its container removed; a starter
//! in another PID namespace (as in a container) is never declared dead from the host while it
//! works, although its pid means nothing here.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::lab::Lab;
use crate::support::wait::wait_until;

fn signal(pid: u32, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{name} {pid}");
}

fn status_and_error(lab: &Lab, svc: &str) -> (String, String) {
    let svc = lab.listed_service(svc);
    let text = |key: &str| svc[key].as_str().unwrap_or_default().to_owned();
    (text("status"), text("last_error"))
}

#[test]
fn a_hung_starter_is_failed_once_its_lease_lapses() {
    let lab = Lab::with_env(&["AIMA_SIM_LOAD_SECS=120"], &[("AIMA_LEASE_SECS", "2")]);
    let (svc, _) = lab.service();
    let mut starter = lab
        .command(&["service", "start", &svc, "--wait", "--timeout", "300"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn aima");
    wait_until(Duration::from_secs(30), "the engine container", || {
        !lab.containers().is_empty()
    });
    // While it runs and beats, a reader leaves it alone, well past one lease period.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(status_and_error(&lab, &svc).0, "starting");

    signal(starter.id(), "STOP");
    let hung = Instant::now();
    let (status, error) = wait_until(Duration::from_secs(20), "the start to be failed", || {
        let seen = status_and_error(&lab, &svc);
        (seen.0 == "failed").then_some(seen)
    });
    eprintln!(
        "hung starter reported failed {:?} after SIGSTOP",
        hung.elapsed()
    );
    assert_eq!(status, "failed");
    assert!(error.contains("has not renewed its lease"), "{error}");
    assert!(lab.containers().is_empty(), "{:?}", lab.containers());

    // Woken up, the starter finds its claim taken over and leaves the record as it is.
    signal(starter.id(), "CONT");
    signal(starter.id(), "TERM");
    let _ = starter.wait();
    assert_eq!(status_and_error(&lab, &svc).0, "failed");
}

#[test]
fn a_starter_in_another_pid_namespace_is_not_declared_dead() {
    let lab = Lab::new(&["AIMA_SIM_LOAD_SECS=6"]);
    let (svc, _) = lab.service();
    // As a starter in a container would: its own PID namespace and /proc (needs root, as the
    // Docker tests do).
    let inner = lab.command(&["service", "start", &svc, "--wait", "--timeout", "120"]);
    let mut outer = Command::new("unshare");
    outer
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(inner.get_program())
        .args(inner.get_args())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in inner.get_envs() {
        match value {
            Some(value) => outer.env(key, value),
            None => outer.env_remove(key),
        };
    }
    let starter = outer.spawn().expect("spawn unshare");
    wait_until(Duration::from_secs(30), "the start to begin", || {
        (status_and_error(&lab, &svc).0 == "starting").then_some(())
    });
    let mut looks = 0;
    while looks < 8 {
        let (status, error) = status_and_error(&lab, &svc);
        if status == "running" {
            break;
        }
        assert_eq!(status, "starting", "declared dead from the host: {error}");
        looks += 1;
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(
        looks >= 2,
        "the start ended before the host could look at it"
    );
    let out = starter.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(status_and_error(&lab, &svc).0, "running");
    lab.run(&["service", "stop", &svc]).success();
}
