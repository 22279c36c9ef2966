//! Real Docker, a real daemon: engines an older release started keep running across the upgrade.
//! A data dir of schema version 1 (from before instance ids: its engines carry a hash of the
//! data dir's path as their instance label) has a running engine; the current daemon's first
//! start migrates the store, adopts that engine for its service and reaps nothing of the old
//! label.

use std::time::Duration;

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::docker::{labelled_container, state_of};
use crate::cli::upgrade::data_dir_at;
use crate::support::containers::Cleanup;
use crate::support::daemon::Daemon;
use crate::support::docker::sim_image;

/// The label the releases before instance ids gave a data dir's engines.
fn old_path_label(dir: &std::path::Path) -> String {
    let canonical = dir.canonicalize().unwrap();
    let digest = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn engines_started_under_schema_1_are_adopted_never_reaped_after_the_upgrade() {
    let image = sim_image(&[]);
    let aima = data_dir_at(1)
        .env("AIMA_VLLM_IMAGE", &image)
        .env("AIMA_RECONCILE_SECS", "1")
        .env("AIMA_REAP_GRACE_SECS", "1");
    let dir = aima.data_dir().to_owned();
    let legacy = old_path_label(&dir);

    // What the old release left: the engine of its running service, recorded in the store, and
    // one of a service it no longer has.
    let engine = labelled_container(&image, &legacy, "svc-00000002");
    let stray = labelled_container(&image, &legacy, "svc-deadbeef");
    let _cleanup = Cleanup {
        instance: legacy.clone(),
        extra: vec![engine.clone(), stray.clone()],
    };
    let conn = Connection::open(dir.join("aima.db")).unwrap();
    conn.execute(
        "UPDATE services SET container_id = ?1, engine_type = 'vllm' WHERE id = 'svc-00000002'",
        [&engine],
    )
    .unwrap();
    drop(conn);

    let daemon = Daemon::start(&aima, &[]);
    std::thread::sleep(Duration::from_secs(5)); // five reconcile passes, reaper grace 1 s

    let kept = std::fs::read_to_string(dir.join("instance-legacy")).unwrap();
    assert_eq!(
        kept.trim(),
        legacy,
        "the old label is kept as the legacy one"
    );
    assert_eq!(
        state_of(&engine).as_deref(),
        Some("running"),
        "the engine was reaped"
    );
    assert_eq!(
        state_of(&stray).as_deref(),
        Some("running"),
        "an old-label container was reaped"
    );
    let (code, svc) = daemon.call("GET", "/api/v2/services/svc-00000002", None);
    assert_eq!(code, 200, "{svc}");
    assert_eq!(
        svc["status"], "running",
        "the service lost its engine: {svc:#}"
    );

    // Its service still knows it: a stop removes it.
    let (code, stopped) = daemon.call("POST", "/api/v2/services/svc-00000002/stop", Some("{}"));
    assert_eq!(code, 200, "{stopped}");
    assert_eq!(state_of(&engine), None, "the stop left the adopted engine");
}
