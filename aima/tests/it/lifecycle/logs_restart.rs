//! Real Docker, the engine simulator: `service logs` of a running engine (all, `--tail`,
//! `-f` until the engine stops, JSON), the lines kept from failed attempts once their containers
//! are gone, and `service restart` with the same guarantees as stop then start.

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::lab::Lab;

const STARTUP_LINE: &str = "Application startup complete.";

#[test]
fn logs_show_a_running_engine_tail_and_follow_until_it_stops() {
    let lab = Lab::new(&[]);
    let (svc, _port) = lab.service();
    lab.run(&["service", "start", &svc, "--wait", "--timeout", "60"])
        .success();

    let all = lab.run(&["service", "logs", &svc]).success();
    assert!(all.stdout.contains(STARTUP_LINE), "{all}");
    assert!(all.stderr.is_empty(), "{all}");
    let last = lab.run(&["service", "logs", &svc, "--tail", "1"]).success();
    assert_eq!(last.stdout.lines().count(), 1, "{last}");
    let json = lab
        .run(&["service", "logs", &svc, "-o", "json"])
        .success()
        .json();
    assert_eq!(json["source"], "container", "{json:#}");
    assert_eq!(json["attempt"], 1, "{json:#}");
    assert!(json["lines"].as_array().unwrap().len() >= 2, "{json:#}");

    // `-f` keeps reading until the engine stops, then ends by itself.
    let mut follow = lab
        .command(&["service", "logs", &svc, "-f"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("run aima service logs -f");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        follow.try_wait().unwrap().is_none(),
        "-f ended while the engine runs"
    );
    lab.run(&["service", "stop", &svc]).success();
    let until = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = follow.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > until {
            let _ = follow.kill();
            panic!("`service logs -f` still runs 30s after the engine stopped");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut out = String::new();
    follow
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(status.success(), "{status}: {out}");
    assert!(out.contains(STARTUP_LINE), "{out}");
    assert!(
        out.contains("shutting down"),
        "the engine's last words: {out}"
    );
}

#[test]
fn a_failed_starts_logs_are_kept_per_attempt_after_its_containers_are_gone() {
    let lab = Lab::new(&["AIMA_SIM_CRASH=error"]);
    let (svc, _port) = lab.service();
    lab.run(&["service", "start", &svc, "--wait", "--timeout", "60"])
        .failure(7);
    assert!(lab.containers().is_empty());

    let last = lab
        .run(&["service", "logs", &svc])
        .success()
        .stderr_has("lines kept from attempt 3, which failed");
    assert!(
        last.stdout.contains("Engine core initialization failed"),
        "{last}"
    );
    let first = lab
        .run(&["service", "logs", &svc, "--attempt", "1", "-o", "json"])
        .success();
    let json = first.json();
    assert_eq!(
        (json["source"].as_str(), json["attempt"].as_u64()),
        (Some("attempt"), Some(1))
    );
    lab.run(&["service", "logs", &svc, "--attempt", "4"])
        .failure(3)
        .stderr_has("no recorded attempt 4");
}

#[test]
fn restart_replaces_the_engine_and_the_conflict_hint_names_it() {
    let lab = Lab::new(&[]);
    let (svc, port) = lab.service();
    // From `created`, restart is a start.
    let first = lab.bring_up("restart", &svc, &[]).json();

    lab.run(&["service", "start", &svc])
        .failure(4)
        .stderr_has(&format!("to restart it: aima service restart {svc}"));

    let restarted = lab.bring_up("restart", &svc, &[]);
    let second = restarted.json();
    assert_eq!(
        (second["status"].as_str(), second["port"].as_u64()),
        (Some("running"), Some(port.into())),
        "{restarted}"
    );
    assert_ne!(
        first["container_id"], second["container_id"],
        "the engine container was replaced"
    );
    assert_eq!(lab.containers().len(), 1, "{:?}", lab.containers());
    let logs = lab.run(&["service", "logs", &svc]).success();
    assert_eq!(
        logs.stdout.matches(STARTUP_LINE).count(),
        1,
        "a fresh engine's logs: {logs}"
    );
}
