//! `aima backup` while a service is started and stopped against real Docker: every copy is
//! consistent (integrity check) and holds the service in one of its states.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::support::lab::Lab;

const STATES: [&str; 7] = [
    "created", "starting", "running", "stopping", "stopped", "failed", "backoff",
];

#[test]
fn backups_taken_while_a_service_starts_and_stops_are_consistent() {
    let lab = Lab::new(&[]);
    let (service, _port) = lab.service();
    let dir = tempfile::tempdir().unwrap();
    let done = AtomicBool::new(false);
    let mut seen = Vec::new();
    std::thread::scope(|scope| {
        let cycles = scope.spawn(|| {
            for _ in 0..3 {
                lab.bring_up("start", &service, &[]);
                lab.run(&["service", "stop", &service]).success();
            }
            done.store(true, Ordering::Relaxed);
        });
        let mut n = 0;
        while !done.load(Ordering::Relaxed) && !cycles.is_finished() {
            let file = dir.path().join(format!("during-{n}.db"));
            lab.run(&["backup", file.to_str().unwrap()]).success();
            let conn = rusqlite::Connection::open(&file).unwrap();
            let integrity: String = conn
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            assert_eq!(integrity, "ok", "backup {n}");
            let status: String = conn
                .query_row(
                    "SELECT status FROM services WHERE id = ?1",
                    [&service],
                    |r| r.get(0),
                )
                .unwrap();
            assert!(STATES.contains(&status.as_str()), "backup {n}: {status}");
            seen.push(status);
            n += 1;
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        cycles.join().unwrap();
    });
    assert!(seen.len() >= 3, "backups taken during the cycles: {seen:?}");
    assert!(
        seen.iter().any(|s| s != "created"),
        "no backup caught the service past created: {seen:?}"
    );
}
