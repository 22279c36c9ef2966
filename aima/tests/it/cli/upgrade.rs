//! Upgrades keep data: a data dir written at every schema version the store has had (the
//! fixtures in `tests/fixtures/upgrade/`, one per version, as that release wrote it) opens in
//! this build, migrates once and keeps every model, service, attempt and change; a data dir
//! newer than this build is refused with the storage exit code and left as it was.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use aima::store::SCHEMA_VERSION;
use rusqlite::Connection;
use serde_json::Value;

use crate::support::aima::Aima;

/// The storage exit code (docs/lifecycle.md, exit codes).
const STORAGE: i32 = 9;

/// The instance id a fixture data dir holds from schema version 3 on; data dirs of versions 1
/// and 2 may have been written before aima kept one.
const FIXTURE_INSTANCE_ID: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

fn fixture_sql(version: usize) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/upgrade")
        .join(format!("v{version}.sql"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "no upgrade fixture for schema version {version} at {} ({e}): a release that adds a \
             migration adds its fixture with make_fixture.py",
            path.display()
        )
    })
}

/// A data dir as the release of `version` left it: its database, and its instance id where
/// that release kept one.
pub(crate) fn data_dir_at(version: usize) -> Aima {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let db = dir.join("aima.db");
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch(&fixture_sql(version)).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    drop(conn);
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
    if version >= 3 {
        let id = dir.join("instance-id");
        std::fs::write(&id, format!("{FIXTURE_INSTANCE_ID}\n")).unwrap();
        std::fs::set_permissions(&id, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    Aima::at(tmp, dir)
}

fn db_path(aima: &Aima) -> PathBuf {
    aima.data_dir().join("aima.db")
}

fn user_version(aima: &Aima) -> usize {
    Connection::open(db_path(aima))
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

/// Every row of `table`, in `columns`, as text, in insertion order.
fn rows(conn: &Connection, table: &str, columns: &[String]) -> Vec<Vec<String>> {
    let sql = format!("SELECT {} FROM {table} ORDER BY seq", columns.join(", "));
    let mut stmt = conn.prepare(&sql).unwrap();
    let n = columns.len();
    stmt.query_map([], |r| {
        (0..n)
            .map(|i| {
                let v: rusqlite::types::Value = r.get(i)?;
                Ok(format!("{v:?}"))
            })
            .collect()
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// Each table of the database with its columns and every row in them.
type Contents = Vec<(String, Vec<String>, Vec<Vec<String>>)>;

fn contents(aima: &Aima) -> Contents {
    let conn = Connection::open(db_path(aima)).unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap();
    let tables: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    tables
        .into_iter()
        .map(|table| {
            let mut stmt = conn
                .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .unwrap();
            let columns: Vec<String> = stmt
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let rows = rows(&conn, &table, &columns);
            (table, columns, rows)
        })
        .collect()
}

/// What `contents` held before, read again now in the columns it had then.
fn same_columns_now(before: &Contents, aima: &Aima) -> Contents {
    let conn = Connection::open(db_path(aima)).unwrap();
    before
        .iter()
        .map(|(table, columns, _)| (table.clone(), columns.clone(), rows(&conn, table, columns)))
        .collect()
}

fn by_id<'a>(items: &'a Value, id: &str) -> &'a Value {
    items["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == id)
        .unwrap_or_else(|| panic!("{id} is missing from {items:#}"))
}

/// One schema version's data dir through the current binary.
fn upgrade_keeps_everything(version: usize) {
    let aima = data_dir_at(version);
    let before = contents(&aima);
    assert_eq!(user_version(&aima), version);

    // Models first: listing them reads no container, so the rows stay exactly as they were.
    let models = aima.run(&["model", "list", "-o", "json"]).success().json();
    assert_eq!(
        user_version(&aima),
        SCHEMA_VERSION,
        "v{version}: not migrated"
    );
    assert_eq!(
        same_columns_now(&before, &aima),
        before,
        "v{version}: the upgrade changed or lost rows"
    );
    let services = aima
        .run(&["service", "list", "-o", "json"])
        .success()
        .json();
    let migrated = contents(&aima);

    // What people see: every service with its status, port and attempts; every model.
    let want = [
        ("svc-00000001", "created", 8000),
        // Recorded running, but no such container exists here: the truth is recorded.
        ("svc-00000002", "failed", 11434),
        ("svc-00000003", "stopped", 8080),
        ("svc-00000004", "failed", 8001),
    ];
    assert_eq!(services["items"].as_array().unwrap().len(), want.len());
    for (id, status, port) in want {
        let svc = by_id(&services, id);
        assert_eq!(svc["status"], status, "v{version} {id}: {svc:#}");
        assert_eq!(svc["port"], port, "v{version} {id}: {svc:#}");
    }
    let failed = aima
        .run(&["service", "get", "qwen-failed", "-o", "json"])
        .success()
        .json();
    let attempts = failed["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "v{version}: {failed:#}");
    assert_eq!(attempts[1]["phase"], "health");
    assert_eq!(
        attempts[1]["log_tail"][1], "RuntimeError: CUDA out of memory",
        "v{version}: {failed:#}"
    );
    for id in ["model-5e6f7a8b", "model-0badcafe", "model-11223344"] {
        by_id(&models, id);
    }
    let local = by_id(&models, "model-0badcafe");
    assert_eq!(local["path"], "/srv/models/tiny", "v{version}: {local:#}");

    // Supervision's columns as the migration derived them (what was asked for, today's policy).
    let running = by_id(&services, "svc-00000002");
    assert_eq!(running["desired"], "running", "v{version}: {running:#}");
    let error = running["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("gone"), "v{version}: {running:#}");
    assert_eq!(by_id(&services, "svc-00000003")["desired"], "stopped");

    // Owners: recorded since schema 10; rows from before have none (admins only).
    let owner = if version >= 10 {
        "alice".into()
    } else {
        Value::Null
    };
    let failed_row = by_id(&services, "svc-00000004");
    assert_eq!(
        failed_row["created_by"], owner,
        "v{version}: {failed_row:#}"
    );
    assert_eq!(by_id(&models, "model-5e6f7a8b")["created_by"], owner);
    assert_eq!(by_id(&services, "svc-00000001")["created_by"], Value::Null);

    // Once: a second open finds nothing to do and changes nothing.
    aima.run(&["model", "list", "-o", "json"]).success();
    aima.run(&["service", "list", "-o", "json"]).success();
    assert_eq!(
        contents(&aima),
        migrated,
        "v{version}: a second open changed the data"
    );
    assert_eq!(user_version(&aima), SCHEMA_VERSION);

    // The data dir keeps its identity; one from before instance ids gets one, and keeps its old
    // path-derived label as the legacy one (its engines are recognised, never reaped).
    let id = std::fs::read_to_string(aima.data_dir().join("instance-id")).unwrap();
    let legacy = aima.data_dir().join("instance-legacy");
    if version >= 3 {
        assert_eq!(id.trim(), FIXTURE_INSTANCE_ID, "v{version}");
        assert!(!legacy.exists(), "v{version}: a legacy label was invented");
    } else {
        assert!(legacy.exists(), "v{version}: the old label was not kept");
    }
}

#[test]
fn there_is_a_fixture_for_every_schema_version() {
    for version in 1..=SCHEMA_VERSION {
        let sql = fixture_sql(version);
        assert!(
            sql.contains(&format!("PRAGMA user_version = {version};")),
            "v{version}.sql does not set its schema version"
        );
    }
}

/// One test per version, so a failure names the release whose data dirs it would break.
macro_rules! upgrade_from {
    ($($name:ident: $version:literal),* $(,)?) => {$(
        #[test]
        fn $name() {
            if $version <= SCHEMA_VERSION {
                upgrade_keeps_everything($version);
            }
        }
    )*};
}

upgrade_from! {
    upgrade_from_schema_1_keeps_every_row: 1,
    upgrade_from_schema_2_keeps_every_row: 2,
    upgrade_from_schema_3_keeps_every_row: 3,
    upgrade_from_schema_4_keeps_every_row: 4,
    upgrade_from_schema_5_keeps_every_row: 5,
    upgrade_from_schema_6_keeps_every_row: 6,
    upgrade_from_schema_7_keeps_every_row: 7,
    upgrade_from_schema_8_keeps_every_row: 8,
    upgrade_from_schema_9_keeps_every_row: 9,
    upgrade_from_schema_10_keeps_every_row: 10,
}

/// Every file of the data dir with its bytes: what a refused open must leave alone.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    files.sort();
    files
}

/// An older binary meeting a data dir a newer release migrated: simulated by this build and a
/// schema one ahead of it.
#[test]
fn a_newer_schema_is_refused_with_both_versions_and_left_as_it_was() {
    let aima = data_dir_at(SCHEMA_VERSION);
    aima.run(&["service", "list"]).success();
    let newer = SCHEMA_VERSION + 1;
    let conn = Connection::open(db_path(&aima)).unwrap();
    conn.pragma_update(None, "user_version", newer).unwrap();
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .unwrap();
    drop(conn);
    let before = files(aima.data_dir());

    for args in [
        &["service", "list"][..],
        &[
            "model", "create", "--name", "x", "--source", "ollama", "--repo", "x",
        ],
        &["service", "start", "qwen-vllm"],
    ] {
        let out = aima
            .run(args)
            .failure(STORAGE)
            .stderr_has(&format!("schema version {newer}"))
            .stderr_has(&format!("newer than this aima knows ({SCHEMA_VERSION})"))
            .stderr_has("help:");
        assert!(out.stdout.trim().is_empty(), "{out}");
        assert_eq!(
            files(aima.data_dir()),
            before,
            "{out}\nthe data dir changed"
        );
    }
    assert_eq!(user_version(&aima), newer);
}
