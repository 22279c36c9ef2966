//! The state store: one SQLite database per data dir, shared safely by many processes.
//!
//! WAL lets readers run beside a writer; every write is a `BEGIN IMMEDIATE` transaction so two
//! writers queue on the busy timeout instead of failing with "database is locked".

mod events;
mod migrations;
mod models;
mod services;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::{Classified, Kind, Result};

pub use events::ServiceEvent;
pub(crate) use services::{Change, NewService};

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
            StoreError::Integrity => return None,
        };
        Some(help.to_owned())
    }
}

const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Store {
    conn: Connection,
}

impl Store {
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
        Self::init(conn)
    }

    #[cfg(test)]
    pub(crate) fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Switching to WAL needs a moment of exclusive access; the busy timeout covers it.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut store = Store { conn };
        store.write(migrations::apply)?;
        Ok(store)
    }

    /// Runs `f` in an immediate (write-locked) transaction, committed when it returns `Ok`.
    pub(crate) fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// SQLite's integrity check, as an error when it fails.
    pub fn check_integrity(&self) -> Result<()> {
        let verdict: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if verdict == "ok" {
            Ok(())
        } else {
            Err(StoreError::Integrity.into())
        }
    }
}
