//! The end of a chaos run: the checks that hold once everything is stopped (zero containers of
//! the run, every port free, the database intact, the bystander untouched), then the clean-up
//! of whatever the run still owns.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::fixtures::census::DockerView;
use crate::fixtures::port_check::check_port;

use super::ops::cli_result;
use super::world::{REAP_GRACE_SECS, World};

/// How long the run's containers may take to be gone after every service was stopped: a late
/// create of a killed start is reaped after the reaper's grace and a pass.
const CONTAINERS_GONE: Duration = Duration::from_secs(REAP_GRACE_SECS + 8);
const PORTS_FREE: Duration = Duration::from_secs(5);

pub(crate) fn finish(world: &World, docker: &DockerView, bystander: &str) {
    world.say("final checks: stop every service, then nothing of the run may be left");
    if world.daemon().is_none() {
        let _ = world.start_daemon();
    }
    let list = world.aima(
        "final",
        &["service".into(), "list".into(), "-q".into()],
        &[],
    );
    let ids: Vec<String> = list.stdout.split_whitespace().map(str::to_owned).collect();
    for id in &ids {
        let stop = world.aima(
            "final",
            &[
                "service".into(),
                "stop".into(),
                id.clone(),
                "-o".into(),
                "json".into(),
            ],
            &[],
        );
        world.history.record(
            "final",
            json!({"op": "stop", "service": id, "result": cli_result(&stop)}),
        );
        super::ops::check_command(world, None, &stop, false);
        if !stop.succeeded() {
            world.violation(
                "final-stop",
                None,
                id,
                format!("`{}` failed at the end: {}", stop.display, stop.outcome()),
            );
        }
    }
    // Containers of the run: gone within the bound.
    let since = Instant::now();
    let left = loop {
        let left: Vec<_> = docker
            .owned_by_run(&world.instance, &world.run_id)
            .into_iter()
            .filter(|c| {
                c.id != bystander
                    && !super::blockers::is_blocker(c)
                    && !crate::fixtures::census_swarm::is_swarm_task(c)
            })
            .collect();
        if left.is_empty() || since.elapsed() >= CONTAINERS_GONE {
            break left;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    world.history.record(
        "final",
        json!({"check": "containers", "left": left.iter().map(|c| c.line()).collect::<Vec<_>>()}),
    );
    for c in &left {
        world.violation(
            "leftover-container",
            None,
            &c.name,
            format!(
                "{} still exists {} ms after every service was stopped: {}",
                c.name,
                CONTAINERS_GONE.as_millis(),
                c.line()
            ),
        );
    }
    for (slot, port) in world.ports.iter().enumerate() {
        let since = Instant::now();
        let check = loop {
            let check = check_port(*port);
            if check.is_free() || since.elapsed() >= PORTS_FREE {
                break check;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        if !check.is_free() {
            world.violation(
                "port-held-at-end",
                Some(slot),
                &port.to_string(),
                format!("after every service was stopped, {}", check.describe()),
            );
        }
    }
    // The daemon stops cleanly; then the database must pass its integrity check.
    if let Some(mut daemon) = world.daemon().take() {
        let stopped = daemon.stop();
        world.history.record("final", json!({"check": "daemon stop", "verified": stopped.verified, "evidence": stopped.describe()}));
        if !stopped.verified || stopped.escalated {
            world.violation(
                "daemon-stop",
                None,
                "aima start",
                format!("the daemon did not stop on SIGTERM: {}", stopped.describe()),
            );
        }
    }
    match integrity(&world.data_dir.join("aima.db")) {
        Ok(answer) if answer == "ok" => {
            world.history.record(
                "final",
                json!({"check": "integrity_check", "answer": answer}),
            );
        }
        Ok(answer) => world.violation(
            "integrity",
            None,
            "aima.db",
            format!("PRAGMA integrity_check answered {answer:?}"),
        ),
        Err(err) => world.violation(
            "integrity",
            None,
            "aima.db",
            format!("could not run PRAGMA integrity_check: {err}"),
        ),
    }
    // The bystander is exactly as it was.
    let bystander_now = docker
        .list_with_label("aima.service=svc-00000000")
        .unwrap_or_default();
    let seen = bystander_now.iter().find(|c| c.id == bystander);
    match seen {
        Some(c) if c.state == "created" => {}
        Some(c) => world.violation(
            "bystander-touched",
            None,
            &c.name,
            format!("another data dir's container changed state: {}", c.line()),
        ),
        None if !bystander.is_empty() => world.violation(
            "bystander-touched",
            None,
            bystander,
            "another data dir's container was removed".into(),
        ),
        None => {}
    }
    clean_up(world, docker);
}

fn integrity(db: &std::path::Path) -> rusqlite::Result<String> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.query_row("PRAGMA integrity_check", [], |row| row.get(0))
}

/// Removes what the run still owns (containers with its instance or run label, the bystander
/// included, and its cache volumes); never anything else.
fn clean_up(world: &World, docker: &DockerView) {
    for c in docker.owned_by_run(&world.instance, &world.run_id) {
        let removed = docker
            .remove(&c.id)
            .map(|()| "removed".to_owned())
            .unwrap_or_else(|e| format!("{e:#}"));
        world
            .history
            .record("cleanup", json!({"container": c.name, "result": removed}));
    }
    for line in docker.remove_instance_volumes(&world.instance) {
        world.history.record("cleanup", json!({"volume": line}));
    }
}
