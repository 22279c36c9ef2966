//! The state store: one SQLite database per data dir, shared safely by many processes.
//!
//! WAL lets readers run beside a writer; every write is a `BEGIN IMMEDIATE` transaction so two
//! writers queue on the busy timeout instead of failing with "database is locked".
//!
//! A full disk never costs what is recorded: a write is one transaction, so one that runs out of
//! room rolls back whole. A write that begins something new (a model, a service, a start) is
//! refused at once when the disk is below the configured minimum
//! ([`crate::config::DiskLimits`]); writes that record how work already under way ended (a
//! start's outcome, a stop, a lease) and deletions go ahead while there is room at all, so a
//! nearly full disk never leaves a running engine recorded as `starting`. A write or open that
//! fails for lack of room (SQLite's "database or disk is full", or an I/O error while the disk
//! has next to nothing free) becomes the one [`DiskFull`] error naming the data dir and its free
//! space.
//!
//! `aima backup` and `aima restore` copy the database out with SQLite's online backup API and
//! put a checked copy back in one rename ([`backup`]).
//!
//! Opening only reads: the journal mode and schema version are checked, and the migrations'
//! write transaction runs only when the schema is behind. So a write lock held elsewhere (or a
//! full disk) delays or fails only the calls that write. Async code reaches the store through
//! [`StoreHandle`] or [`StorePool::call`], which run every call on the blocking pool; a debug
//! check panics on a database call made on an async worker.

#[cfg(test)]
mod actor_tests;
mod backup;
#[cfg(test)]
mod disk_tests;
mod events;
#[cfg(test)]
mod fixture_tests;
mod handle;
mod handle_calls;
mod migrations;
mod models;
mod pool;
mod service_update;
mod services;
mod supervision;
mod tokens;
mod watch;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::config::Config;
use crate::disk::{DiskFull, Place};
use crate::error::{Classified, Error, Kind, Result};

pub use backup::{BackupError, stage_restore};
pub use events::{EventKind, ServiceEvent};
pub use handle::StoreHandle;
#[cfg(any(test, feature = "test-support"))]
pub use migrations::LATEST as SCHEMA_VERSION;
pub use pool::StorePool;
#[cfg(any(test, feature = "test-support"))]
pub use pool::PooledStore;
pub(crate) use service_update::ServiceConfig;
pub(crate) use services::{Change, NewService};
pub use tokens::{TokenHash, TokenInfo};

/// The state database failing, as opposed to a record that is missing or busy (those are
/// ordinary [`crate::error::Error`]s: not found, conflict).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the state database {}", path.display())]
    Open {
        path: std::path::PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the state database failed")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the state database has schema version {found}, newer than this aima knows ({known})")]
    SchemaTooNew { found: usize, known: usize },
    #[cfg(any(test, feature = "test-support"))]
    #[error("the state database failed its integrity check")]
    Integrity,
}

/// `?` on SQLite calls: the database failed.
impl From<rusqlite::Error> for crate::error::Error {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::from(e).into()
    }
}

impl Classified for StoreError {
    fn kind(&self) -> Kind {
        Kind::Storage
    }

    fn help(&self) -> Option<String> {
        let help = match self {
            StoreError::Open { .. } => "check that AIMA_DATA_DIR is writable",
            StoreError::Sqlite(_) => "check that AIMA_DATA_DIR is writable and not on a full disk",
            StoreError::SchemaTooNew { .. } => {
                "use the aima release that created this data dir, or a newer one"
            }
            #[cfg(any(test, feature = "test-support"))]
            StoreError::Integrity => return None,
        };
        Some(help.to_owned())
    }
}

const WHAT: &str = "cannot write the state database";
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Below this much free space, an I/O error of the database is taken for a full disk: SQLite
/// reports running out of room while growing its shared-memory index as an I/O error.
const NEARLY_FULL: u64 = 1 << 20;

pub struct Store {
    conn: Connection,
    /// The directory holding the database; `None` in memory.
    dir: Option<PathBuf>,
    /// Free space a write needs on `dir`'s disk (0: no check).
    min_free: u64,
    /// Who this connection's writes are made for: recorded as a model's or service's owner,
    /// a start's starter and each change's actor. `None` records nobody (tools and tests).
    acting: Option<String>,
}

impl Store {
    /// The data dir's store, keeping the configured free space on its disk before writes.
    pub fn open_in(config: &Config) -> Result<Self> {
        Self::open_keeping(&config.db_path(), config.disk.data_min_free)
    }

    /// The database at `path`, without a free-space check before writes (tools and tests).
    #[cfg(any(test, feature = "test-support"))]
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_keeping(path, 0)
    }

    fn open_keeping(path: &Path, min_free: u64) -> Result<Self> {
        let dir = path.parent().map(Path::to_owned);
        create_private(path);
        let opened = Connection::open(path)
            .map_err(|source| {
                StoreError::Open {
                    path: path.to_owned(),
                    source,
                }
                .into()
            })
            .and_then(|conn| Self::init(conn, dir.clone(), min_free));
        opened.map_err(|e| out_of_room(e, dir.as_deref(), "cannot open the state database"))
    }

    #[cfg(test)]
    pub(crate) fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?, None, 0)
    }

    fn init(conn: Connection, dir: Option<PathBuf>, min_free: u64) -> Result<Self> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut store = Store {
            conn,
            dir,
            min_free,
            acting: None,
        };
        // Switching to WAL needs a moment of exclusive access (the busy timeout covers it); the
        // mode is persistent, so only a new database switches.
        let mode: String = store
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            store.blocking(|conn| conn.pragma_update(None, "journal_mode", "WAL"))?;
        }
        if migrations::behind(store.conn())? {
            store.write(migrations::apply)?;
        }
        Ok(store)
    }

    /// Records the writes from now on as made by `name` (see [`Store::acting`]).
    pub fn act_as(&mut self, name: Option<&str>) {
        self.acting = name.map(str::to_owned);
    }

    /// Who this connection's writes are made for.
    pub fn acting(&self) -> Option<&str> {
        self.acting.as_deref()
    }

    /// Before a write that begins something new: refused when the disk holding the database is
    /// below the configured minimum.
    pub(crate) fn room_for_new(&self) -> Result<()> {
        if let Some(dir) = &self.dir {
            DiskFull::check(WHAT, Place::DataDir, dir, self.min_free)?;
        }
        Ok(())
    }

    /// Runs `f` in an immediate (write-locked) transaction, committed when it returns `Ok`; a
    /// failure for lack of room is the [`DiskFull`] error.
    pub(crate) fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        self.blocking(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })
        .map_err(|e| out_of_room(e, self.dir.as_deref(), WHAT))
    }

    /// Runs `f`, which may wait for the write lock: never on an async worker (see [`handle`]).
    #[track_caller]
    fn blocking<T, E>(&mut self, f: impl FnOnce(&mut Connection) -> Result<T, E>) -> Result<T, E> {
        handle::check_thread();
        f(&mut self.conn)
    }

    /// Up to `limit` rows of `table` (`columns`, read by `from_row`) created after the row whose
    /// id is `after` (from the start without it), in creation order, and how many rows the
    /// table holds; `None` when `after` names no row.
    fn rows_after<T>(
        &self,
        table: &str,
        columns: &str,
        after: Option<&str>,
        limit: usize,
        from_row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<(Vec<T>, usize)>> {
        use rusqlite::OptionalExtension;
        let from_seq: i64 = match after {
            None => 0,
            Some(id) => {
                let seq = self
                    .conn
                    .query_row(
                        &format!("SELECT seq FROM {table} WHERE id = ?1"),
                        [id],
                        |r| r.get(0),
                    )
                    .optional()?;
                match seq {
                    Some(seq) => seq,
                    None => return Ok(None),
                }
            }
        };
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {columns} FROM {table} WHERE seq > ?1 ORDER BY seq LIMIT ?2"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(rusqlite::params![from_seq, limit], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let total: usize =
            self.conn()
                .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
        Ok(Some((rows, total)))
    }

    /// The connection, for a read; checked to be off the async workers (see [`handle`]).
    #[track_caller]
    pub(crate) fn conn(&self) -> &Connection {
        handle::check_thread();
        &self.conn
    }

    /// A cheap check that the database is readable: one read of its schema header.
    pub fn readable(&self) -> Result<()> {
        self.conn()
            .query_row("PRAGMA schema_version", [], |r| r.get::<_, i64>(0))?;
        Ok(())
    }

    /// SQLite's full integrity check, as an error when it fails: reads every page, so for
    /// tests and repairs, not requests.
    #[cfg(any(test, feature = "test-support"))]
    pub fn check_integrity(&self) -> Result<()> {
        let verdict: String = self
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if verdict == "ok" {
            Ok(())
        } else {
            Err(StoreError::Integrity.into())
        }
    }
}

/// Creates the database file empty with mode 0600 when it is missing (an empty file is an empty
/// database), so it is never readable by other accounts, whatever the umask; SQLite gives its
/// `-wal` and `-shm` files the database's own mode. Best effort: when this fails, opening fails
/// too, and SQLite's error says why (a full disk included).
fn create_private(path: &Path) {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
}

/// `e` as a [`DiskFull`] error when SQLite failed for lack of room under `dir`; else unchanged.
fn out_of_room(e: Error, dir: Option<&Path>, what: &str) -> Error {
    let Some(dir) = dir else { return e };
    let Some(sqlite) = sqlite_cause(&e) else {
        return e;
    };
    let full = match sqlite.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => true,
        Some(rusqlite::ErrorCode::SystemIoFailure) => {
            crate::disk::free_bytes(dir).is_ok_and(|free| free < NEARLY_FULL)
        }
        _ => false,
    };
    if full {
        DiskFull::full(what, Place::DataDir, dir, sqlite).into()
    } else {
        e
    }
}

/// The SQLite error behind `e`, if one is in its chain.
fn sqlite_cause(e: &Error) -> Option<&rusqlite::Error> {
    let mut cur = std::error::Error::source(e);
    while let Some(cause) = cur {
        if let Some(sqlite) = cause.downcast_ref::<rusqlite::Error>() {
            return Some(sqlite);
        }
        cur = cause.source();
    }
    None
}
