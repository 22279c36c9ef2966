//! Backups of the state database and restoring one.
//!
//! `aima backup` copies the live database with SQLite's online backup API, a few pages at a
//! time with a short pause between steps, all from one read snapshot: CLI commands and a
//! daemon keep writing meanwhile (a WAL reader blocks no writer), and what is written is the
//! state of one moment.
//! The backup records the data dir's instance id in a table of its own, [`META_TABLE`], and is
//! a single file (rollback journal, no `-wal`) created with mode 0600.
//!
//! `aima restore` first stages the backup as a file in the data dir: it is read through
//! SQLite (so it must open, pass `PRAGMA integrity_check` and have a schema version this aima
//! knows), copied, stripped of its [`META_TABLE`] and migrated. Only then is the live database
//! checkpointed (its `-wal` folded into it, so nothing of it hangs on stale side files) and
//! replaced by one rename; any failure before that leaves the data dir as it was.

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::Serialize;

use super::{Store, migrations};
use crate::error::{Classified, Kind, Result};

/// Pages copied per step (1 MiB at SQLite's default 4 KiB pages), and the pause after each:
/// no step holds the database for long.
const PAGES_PER_STEP: i32 = 256;
const PAUSE: Duration = Duration::from_millis(5);

/// How long a restore waits for other connections to let the live database's WAL be folded in.
const CHECKPOINT_WAIT: Duration = Duration::from_secs(2);

/// The table of a backup file saying where it comes from (`instance_id`, `aima_version`,
/// `created_at`); never part of a live database.
pub const META_TABLE: &str = "aima_backup";

/// Why a backup or a restore failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{} already exists", path.display())]
    Exists { path: PathBuf },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot copy the state database into {}", path.display())]
    Copy {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{} is not a usable aima state database", path.display())]
    Unusable {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{} is not an aima state database (schema version 0)", path.display())]
    NotAima { path: PathBuf },
    #[error("{} fails SQLite's integrity check: {verdict}", path.display())]
    Corrupt { path: PathBuf, verdict: String },
    #[error("{} has schema version {found}, newer than this aima knows ({known})", path.display())]
    SchemaTooNew {
        path: PathBuf,
        found: usize,
        known: usize,
    },
    #[error("{} is the state database itself", path.display())]
    OntoItself { path: PathBuf },
    #[error("{} records no instance id", path.display())]
    NoInstanceId { path: PathBuf },
    #[error("an aima daemon serves data dir {} (its socket answers)", data_dir.display())]
    DaemonServes { data_dir: PathBuf },
    #[error("the state database {} is in use by another process", path.display())]
    InUse { path: PathBuf },
}

impl Classified for BackupError {
    fn kind(&self) -> Kind {
        match self {
            BackupError::Exists { .. }
            | BackupError::DaemonServes { .. }
            | BackupError::InUse { .. } => Kind::Conflict,
            BackupError::NoInstanceId { .. } | BackupError::OntoItself { .. } => Kind::Usage,
            _ => Kind::Storage,
        }
    }

    fn help(&self) -> Option<String> {
        Some(
            match self {
                BackupError::Exists { .. } => "choose another file, or pass --force to replace it",
                BackupError::Write { .. } | BackupError::Copy { .. } => {
                    "check that the directory is writable and its disk has room"
                }
                BackupError::Unusable { .. }
                | BackupError::NotAima { .. }
                | BackupError::Corrupt { .. } => "restore a file written by `aima backup`",
                BackupError::SchemaTooNew { .. } => {
                    "restore it with the aima release that wrote it, or a newer one"
                }
                BackupError::OntoItself { .. } => "write the backup to a file of its own",
                BackupError::NoInstanceId { .. } => {
                    "restore without --with-instance-id: the data dir keeps its own id"
                }
                BackupError::DaemonServes { .. } => "stop the daemon first, then restore",
                BackupError::InUse { .. } => {
                    "wait for the aima commands using this data dir to finish, then restore"
                }
            }
            .to_owned(),
        )
    }
}

/// What `aima backup` wrote.
#[derive(Debug, Serialize)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub schema_version: usize,
    pub instance_id: String,
}

impl Store {
    /// Writes a consistent copy of the database to `dest` (mode 0600), recording
    /// `instance_id`; refused when `dest` exists, unless `force`.
    pub fn backup_to(&self, dest: &Path, instance_id: &str, force: bool) -> Result<BackupReport> {
        if let Ok(meta) = std::fs::metadata(dest) {
            if !force {
                return Err(exists(dest));
            }
            if self.is_database_file(&meta) {
                return Err(BackupError::OntoItself {
                    path: dest.to_owned(),
                }
                .into());
            }
        }
        let tmp = TempFile::beside(dest)?;
        let copy_failed = |source| BackupError::Copy {
            path: dest.to_owned(),
            source,
        };
        let schema_version = (|| {
            let mut to = Connection::open(&tmp.path)?;
            copy_snapshot(self.conn(), &mut to)?;
            to.execute_batch(&format!(
                "CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            ))?;
            let now = crate::clock::now_ms().to_string();
            for (key, value) in [
                ("instance_id", instance_id),
                ("aima_version", env!("CARGO_PKG_VERSION")),
                ("created_at", now.as_str()),
            ] {
                to.execute(
                    &format!("INSERT INTO {META_TABLE} (key, value) VALUES (?1, ?2)"),
                    [key, value],
                )?;
            }
            // The copy took the source's WAL flag: one self-contained file instead.
            to.pragma_update(None, "journal_mode", "DELETE")?;
            let version: usize = to.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            to.close().map_err(|(_, e)| e)?;
            Ok(version)
        })()
        .map_err(copy_failed)?;
        tmp.sync(dest)?;
        if force {
            std::fs::rename(&tmp.path, dest)
        } else {
            std::fs::hard_link(&tmp.path, dest)
        }
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => exists(dest),
            _ => write_failed(dest, e).into(),
        })?;
        sync_dir(dest)?;
        let bytes = std::fs::metadata(dest)
            .map_err(|e| write_failed(dest, e))?
            .len();
        Ok(BackupReport {
            path: dest.to_owned(),
            bytes,
            schema_version,
            instance_id: instance_id.to_owned(),
        })
    }
}

impl Store {
    /// Whether `meta` is that of this store's database file or one of its side files.
    fn is_database_file(&self, meta: &std::fs::Metadata) -> bool {
        use std::os::unix::fs::MetadataExt;
        let Some(db) = self.conn.path().filter(|p| !p.is_empty()) else {
            return false;
        };
        ["", "-wal", "-shm"].iter().any(|suffix| {
            std::fs::metadata(side_file(Path::new(db), suffix))
                .is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino())
        })
    }
}

/// A validated, migrated copy of a backup in the data dir, ready to replace the database.
pub struct Staged {
    tmp: TempFile,
    /// The backup's own schema version, and the one it was migrated to.
    pub schema_version: usize,
    pub migrated_to: usize,
    /// The instance id the backup records (none in a plain copy of a database).
    pub instance_id: Option<String>,
}

/// Reads `file` as a backup and stages it beside `db_path`; nothing of the data dir changes.
pub fn stage_restore(file: &Path, db_path: &Path) -> Result<Staged> {
    let tmp = TempFile::beside(db_path)?;
    // Reading a WAL-mode file (a plain copy of `aima.db`) makes SQLite create its side files:
    // those it left behind, empty, are removed once the file is closed.
    let had_side_files = ["-wal", "-shm"].map(|suffix| side_file(file, suffix).exists());
    let read = read_backup(file, &tmp.path);
    let wal = side_file(file, "-wal");
    if !had_side_files[0] && std::fs::metadata(&wal).is_ok_and(|m| m.len() == 0) {
        let _ = std::fs::remove_file(&wal);
        if !had_side_files[1] {
            let _ = std::fs::remove_file(side_file(file, "-shm"));
        }
    }
    let (schema_version, instance_id) = read?;
    // Migrated (and switched to WAL) here, so a migration that fails changes nothing; closing
    // the only connection folds its WAL back into the file.
    let store = Store::open_keeping(&tmp.path, 0)?;
    let migrated_to: usize = store
        .conn()
        .query_row("PRAGMA user_version", [], |r| r.get(0))?;
    drop(store);
    tmp.sync(db_path)?;
    Ok(Staged {
        tmp,
        schema_version,
        migrated_to,
        instance_id,
    })
}

/// Checks the backup `file` and copies it, without its [`META_TABLE`], into `into`; returns
/// its schema version and recorded instance id. The file is closed when this returns.
fn read_backup(file: &Path, into: &Path) -> Result<(usize, Option<String>)> {
    let unusable = |source| BackupError::Unusable {
        path: file.to_owned(),
        source,
    };
    let from = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(unusable)?;
    // A file that is not a database fails at its first read.
    let schema_version: usize = from
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(unusable)?;
    let verdict: String = from
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(unusable)?;
    if verdict != "ok" {
        return Err(BackupError::Corrupt {
            path: file.to_owned(),
            verdict,
        }
        .into());
    }
    if schema_version == 0 {
        return Err(BackupError::NotAima {
            path: file.to_owned(),
        }
        .into());
    }
    if schema_version > migrations::known() {
        return Err(BackupError::SchemaTooNew {
            path: file.to_owned(),
            found: schema_version,
            known: migrations::known(),
        }
        .into());
    }
    let instance_id = recorded_instance(&from).map_err(unusable)?;
    (|| {
        let mut to = Connection::open(into)?;
        copy_snapshot(&from, &mut to)?;
        to.execute_batch(&format!("DROP TABLE IF EXISTS {META_TABLE}"))?;
        to.close().map_err(|(_, e)| e)
    })()
    .map_err(|source| BackupError::Copy {
        path: into.to_owned(),
        source,
    })?;
    Ok((schema_version, instance_id))
}

impl Staged {
    /// Replaces the database at `db_path` with the staged copy, in one rename.
    pub fn install(mut self, db_path: &Path) -> Result<()> {
        let in_use = || BackupError::InUse {
            path: db_path.to_owned(),
        };
        if db_path.exists() {
            // Fold the WAL into the database and close: with no other connection open, SQLite
            // removes the -wal and -shm, and the old database stays whole until the rename.
            let conn = Connection::open(db_path)?;
            conn.busy_timeout(CHECKPOINT_WAIT)?;
            let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            conn.close().map_err(|(_, e)| e)?;
            let wal_len = std::fs::metadata(side_file(db_path, "-wal")).map_or(0, |m| m.len());
            if busy != 0 || wal_len != 0 {
                return Err(in_use().into());
            }
        }
        std::fs::rename(&self.tmp.path, db_path).map_err(|e| write_failed(db_path, e))?;
        self.tmp.kept = true;
        sync_dir(db_path)?;
        // Empty now, but they belong to the old file: SQLite must not pair them with the new one.
        for suffix in ["-wal", "-shm"] {
            match std::fs::remove_file(side_file(db_path, suffix)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(write_failed(&side_file(db_path, suffix), e).into());
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Copies `from` into `to` in steps, all read from one snapshot: in WAL mode a reader blocks no
/// writer, and a write by another connection cannot restart the copy (without the snapshot,
/// each one would, and steady writes could keep a large copy from ever finishing).
fn copy_snapshot(from: &Connection, to: &mut Connection) -> rusqlite::Result<()> {
    from.execute_batch("BEGIN DEFERRED")?;
    let copied = from
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))
        .and_then(|_| Backup::new(from, to))
        .and_then(|backup| backup.run_to_completion(PAGES_PER_STEP, PAUSE, None));
    let ended = from.execute_batch("COMMIT");
    copied.and(ended)
}

/// The instance id a backup records, if it has the table.
fn recorded_instance(conn: &Connection) -> rusqlite::Result<Option<String>> {
    let has_table: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [META_TABLE],
        |r| r.get(0),
    )?;
    if !has_table {
        return Ok(None);
    }
    conn.query_row(
        &format!("SELECT value FROM {META_TABLE} WHERE key = 'instance_id'"),
        [],
        |r| r.get(0),
    )
    .optional()
}

/// A private file created beside its destination, removed (with any SQLite side files)
/// unless it was renamed into place.
struct TempFile {
    path: PathBuf,
    kept: bool,
}

impl TempFile {
    fn beside(dest: &Path) -> Result<TempFile> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = dest.file_name().map_or_else(
            || "backup".into(),
            |n| n.to_string_lossy().into_owned(),
        );
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = parent(dest).join(format!(".{name}.{}.{unique}.tmp", std::process::id()));
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| write_failed(dest, e))?;
        Ok(TempFile { path, kept: false })
    }

    /// Flushes the file to disk before it is renamed into place.
    fn sync(&self, dest: &Path) -> Result<()> {
        std::fs::File::open(&self.path)
            .and_then(|f| f.sync_all())
            .map_err(|e| write_failed(dest, e).into())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.kept {
            for suffix in ["", "-journal", "-wal", "-shm"] {
                let _ = std::fs::remove_file(side_file(&self.path, suffix));
            }
        }
    }
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn side_file(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Makes a rename in `path`'s directory durable.
fn sync_dir(path: &Path) -> Result<()> {
    std::fs::File::open(parent(path))
        .and_then(|d| d.sync_all())
        .map_err(|e| write_failed(path, e).into())
}

fn exists(path: &Path) -> crate::error::Error {
    BackupError::Exists {
        path: path.to_owned(),
    }
    .into()
}

fn write_failed(path: &Path, source: std::io::Error) -> BackupError {
    BackupError::Write {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;

    fn model_count(path: &Path) -> i64 {
        let conn = Connection::open(path).unwrap();
        conn.query_row("SELECT count(*) FROM models", [], |r| r.get(0))
            .unwrap()
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn an_older_schema_is_migrated_before_it_replaces_anything() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old.db");
        let conn = Connection::open(&old).unwrap();
        migrations::apply_first(&conn, 1);
        conn.execute(
            "INSERT INTO models (id, name, source, repo, model_type, created_at)
             VALUES ('model-0000aaaa', 'old', 'ollama', 'tinyllama', 'llm', 0)",
            [],
        )
        .unwrap();
        drop(conn);
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let db = data.join("aima.db");
        drop(Store::open(&db).unwrap());
        let staged = stage_restore(&old, &db).unwrap();
        assert_eq!((staged.schema_version, staged.migrated_to), (1, migrations::known()));
        assert_eq!(staged.instance_id, None);
        staged.install(&db).unwrap();
        assert_eq!(files(&data), ["aima.db"]);
        let store = Store::open(&db).unwrap();
        assert_eq!(store.list_models().unwrap().len(), 1);
        store.check_integrity().unwrap();
    }

    /// A copy of many steps while another connection writes all the time still finishes (each
    /// write would restart a copy that did not read one snapshot), and is consistent.
    #[test]
    fn a_long_copy_finishes_while_another_connection_keeps_writing() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("aima.db");
        let store = Store::open(&db).unwrap();
        store
            .conn()
            .execute_batch(
                "CREATE TABLE filler (b BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500)
                 INSERT INTO filler SELECT randomblob(4000) FROM n;",
            )
            .unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (db, stop) = (db.clone(), stop.clone());
            std::thread::spawn(move || {
                let conn = Connection::open(&db).unwrap();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    conn.execute(
                        "INSERT INTO models (id, name, source, repo, model_type, created_at)
                         VALUES (?1, 'w', 'ollama', 'tinyllama', 'llm', 0)",
                        [format!("model-{n:08x}")],
                    )
                    .unwrap();
                    n += 1;
                }
                n
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        let file = dir.path().join("b.db");
        let report = store.backup_to(&file, "0123456789abcdef", false).unwrap();
        stop.store(true, Ordering::Relaxed);
        assert!(writer.join().unwrap() > 0);
        assert!(report.bytes > 1500 * 4000);
        let copy = Connection::open(&file).unwrap();
        let verdict: String = copy
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(verdict, "ok");
    }

    /// A reader in another connection keeps the WAL from being folded in: the restore is
    /// refused, and the live database and the data dir's files are as they were.
    #[test]
    fn a_database_in_use_is_not_replaced_and_the_staged_copy_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("aima.db");
        let store = Store::open(&db).unwrap();
        let backup = dir.path().join("b.db");
        store.backup_to(&backup, "0123456789abcdef", false).unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO models (id, name, source, repo, model_type, created_at)
                 VALUES ('model-0000bbbb', 'after', 'ollama', 'tinyllama', 'llm', 0)",
                [],
            )
            .unwrap();
        let reader = Connection::open(&db).unwrap();
        reader.execute_batch("BEGIN; SELECT count(*) FROM models;").unwrap();
        let before = files(dir.path());
        let staged = stage_restore(&backup, &db).unwrap();
        assert_eq!(staged.instance_id.as_deref(), Some("0123456789abcdef"));
        let err = staged.install(&db).unwrap_err();
        assert_eq!(err.code, Kind::Conflict, "{}", err.render());
        assert_eq!(files(dir.path()), before);
        reader.execute_batch("COMMIT").unwrap();
        assert_eq!(model_count(&db), 1);
    }
}
