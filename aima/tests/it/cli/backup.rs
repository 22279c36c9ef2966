//! `aima backup` and `aima restore`: a consistent copy while commands write, a round trip of
//! models and services, the instance id kept or taken, private files, and refusals that change
//! nothing.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aima::store::SCHEMA_VERSION;

use crate::support::aima::Aima;
use crate::support::daemon::Daemon;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn instance_id(aima: &Aima) -> String {
    std::fs::read_to_string(aima.data_dir().join("instance-id"))
        .unwrap()
        .trim()
        .to_owned()
}

/// A path outside the data dir for a backup file.
fn backup_path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

fn integrity(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

/// Everything a refused restore must leave alone: what the lists show, the instance id and
/// the names of the data dir's files.
fn state(aima: &Aima) -> (serde_json::Value, serde_json::Value, String, Vec<String>) {
    let (models, services) = aima.store_contents();
    let mut files: Vec<String> = std::fs::read_dir(aima.data_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with("daemon-"))
        .collect();
    files.sort();
    (models, services, instance_id(aima), files)
}

#[test]
fn backup_then_restore_round_trips_models_and_services_in_private_files() {
    let (aima, _model, service) = Aima::seeded();
    let dir = tempfile::tempdir().unwrap();
    let file = backup_path(&dir, "aima-backup.db");
    let file_arg = file.to_str().unwrap();
    let before = aima.store_contents();
    let report = aima
        .run(&["backup", file_arg, "-o", "json"])
        .success()
        .json();
    assert_eq!(report["path"], file_arg, "{report:#}");
    assert_eq!(report["schema_version"], SCHEMA_VERSION, "{report:#}");
    assert_eq!(report["instance_id"], instance_id(&aima).as_str());
    assert_eq!(
        report["bytes"].as_u64(),
        Some(std::fs::metadata(&file).unwrap().len())
    );
    assert_eq!(mode(&file), 0o600);
    assert!(!Path::new(&format!("{file_arg}-wal")).exists());

    // Changes after the backup are undone by the restore.
    aima.run(&["service", "delete", &service]).success();
    aima.create_model();
    assert_ne!(aima.store_contents(), before);
    let id = instance_id(&aima);
    let out = aima.run(&["restore", file_arg]).success();
    assert!(out.stdout.contains("instance id"), "{out}");
    assert_eq!(aima.store_contents(), before);
    assert_eq!(instance_id(&aima), id, "the data dir keeps its own id");
    let db = aima.data_dir().join("aima.db");
    assert_eq!(mode(&db), 0o600);
    assert_eq!(integrity(&db), "ok");
    // The backup's own table stays out of the live database.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let meta: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'aima_backup'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(meta, 0);
}

#[test]
fn an_existing_file_is_replaced_only_with_force() {
    let aima = Aima::new();
    aima.create_model();
    let dir = tempfile::tempdir().unwrap();
    let file = backup_path(&dir, "taken.db");
    std::fs::write(&file, b"keep me").unwrap();
    let file_arg = file.to_str().unwrap();
    aima.run(&["backup", file_arg])
        .failure(4)
        .stderr_has("already exists")
        .stderr_has("--force");
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
    aima.run(&["backup", file_arg, "--force"]).success();
    let db = aima.data_dir().join("aima.db");
    aima.run(&["backup", db.to_str().unwrap(), "--force"])
        .failure(2)
        .stderr_has("is the state database itself");
    assert_eq!(integrity(&db), "ok");
    assert_eq!(integrity(&file), "ok");
    assert_eq!(mode(&file), 0o600);
}

#[test]
fn a_backup_taken_while_commands_write_is_consistent() {
    let aima = Arc::new(Aima::new());
    aima.create_model();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (aima, stop) = (aima.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut written = 0;
            while !stop.load(Ordering::Relaxed) {
                aima.create_model();
                written += 1;
            }
            written
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let mut models = Vec::new();
    for n in 0..4 {
        std::thread::sleep(std::time::Duration::from_millis(150));
        let file = backup_path(&dir, &format!("during-{n}.db"));
        aima.run(&["backup", file.to_str().unwrap()]).success();
        assert_eq!(integrity(&file), "ok", "backup {n}");
        let conn = rusqlite::Connection::open(&file).unwrap();
        let count: i64 = conn
            .query_row("SELECT count(*) FROM models", [], |r| r.get(0))
            .unwrap();
        models.push(count);
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().unwrap();
    assert!(written > 0, "the writer never wrote");
    assert!(models.windows(2).all(|w| w[0] <= w[1]), "{models:?}");
}

#[test]
fn restore_refuses_a_corrupt_file_a_newer_schema_and_a_served_data_dir_changing_nothing() {
    let (aima, _model, _service) = Aima::seeded();
    let dir = tempfile::tempdir().unwrap();
    let good = backup_path(&dir, "good.db");
    aima.run(&["backup", good.to_str().unwrap()]).success();
    aima.create_model(); // so a restore would show
    let before = state(&aima);

    let garbage = backup_path(&dir, "garbage.db");
    std::fs::write(&garbage, vec![b'x'; 8192]).unwrap();
    aima.run(&["restore", garbage.to_str().unwrap()])
        .failure(9)
        .stderr_has("is not a usable aima state database");

    // A real backup with pages torn out of its middle.
    let torn = backup_path(&dir, "torn.db");
    let mut bytes = std::fs::read(&good).unwrap();
    let page = 4096;
    for b in &mut bytes[page..3 * page] {
        *b = 0xa5;
    }
    std::fs::write(&torn, bytes).unwrap();
    aima.run(&["restore", torn.to_str().unwrap()]).failure(9);

    let newer = backup_path(&dir, "newer.db");
    std::fs::copy(&good, &newer).unwrap();
    let conn = rusqlite::Connection::open(&newer).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    aima.run(&["restore", newer.to_str().unwrap(), "-o", "json"])
        .failure(9)
        .stderr_has(&format!(
            "has schema version 99, newer than this aima knows ({SCHEMA_VERSION})"
        ));

    aima.run(&["restore", dir.path().join("missing.db").to_str().unwrap()])
        .failure(9);
    assert_eq!(state(&aima), before);

    let daemon = Daemon::start(&aima, &[]);
    let served = state(&aima); // the daemon's own files (socket, token) included
    aima.run(&["restore", good.to_str().unwrap(), "--with-instance-id"])
        .failure(4)
        .stderr_has("daemon serves data dir")
        .stderr_has("stop the daemon first");
    assert_eq!(state(&aima), served);
    drop(daemon);
}

#[test]
fn with_instance_id_takes_the_backups_id_and_by_default_the_data_dir_keeps_its_own() {
    let source = Aima::new();
    source.create_model();
    let dir = tempfile::tempdir().unwrap();
    let file = backup_path(&dir, "from-source.db");
    source.run(&["backup", file.to_str().unwrap()]).success();

    let target = Aima::new();
    target.create_model();
    let own = instance_id(&target);
    assert_ne!(own, instance_id(&source));
    let kept = target
        .run(&["restore", file.to_str().unwrap(), "-o", "json"])
        .success()
        .json();
    assert_eq!(kept["instance_id"], own.as_str(), "{kept:#}");
    assert_eq!(kept["instance_id_replaced"], false);
    assert_eq!(instance_id(&target), own);
    assert_eq!(target.store_contents(), source.store_contents());

    let taken = target
        .run(&[
            "restore",
            file.to_str().unwrap(),
            "--with-instance-id",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(taken["instance_id"], instance_id(&source).as_str());
    assert_eq!(instance_id(&target), instance_id(&source));
    assert_eq!(mode(&target.data_dir().join("instance-id")), 0o600);
    // `aima info` reads the new id.
    let info = target.run(&["info", "-o", "json"]).success();
    assert!(info.stdout.contains(&instance_id(&source)), "{info}");
}

/// A plain copy of `aima.db` (WAL mode, no `aima_backup` table) restores too, leaving nothing
/// beside it; it records no instance id to take.
#[test]
fn a_plain_copy_of_the_database_restores_but_has_no_instance_id_to_take() {
    let source = Aima::new();
    source.create_model();
    let dir = tempfile::tempdir().unwrap();
    let copy = backup_path(&dir, "copy.db");
    std::fs::copy(source.data_dir().join("aima.db"), &copy).unwrap();

    let target = Aima::new();
    target.create_model();
    let before = state(&target);
    target
        .run(&["restore", copy.to_str().unwrap(), "--with-instance-id"])
        .failure(2)
        .stderr_has("records no instance id");
    assert_eq!(state(&target), before);
    target.run(&["restore", copy.to_str().unwrap()]).success();
    assert_eq!(target.store_contents(), source.store_contents());
    let beside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(beside, ["copy.db"]);
}
