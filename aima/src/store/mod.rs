//! The state store: one SQLite database per data dir, shared safely by many processes.
//!
//! WAL lets readers run beside a writer; every write is a `BEGIN IMMEDIATE` transaction so two
//! writers queue on the busy timeout instead of failing with "database is locked".
//!
//! Opening only reads: the journal mode and schema version are checked, and the migrations'
//! write transaction runs only when the schema is behind. So a write lock held elsewhere (or a
//! full disk) delays or fails only the calls that write. A write waiting for the lock inside
//! an async task of a multi-thread runtime hands that worker's other tasks to another thread
//! first ([`tokio::task::block_in_place`]), so it never stalls unrelated requests.

mod migrations;
mod models;
mod services;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::{Error, Result};

pub use services::{Change, NewService};

const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Store {
    conn: Connection,
}

impl Store {
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path).map_err(|e| {
            Error::storage(format!("cannot open the state database {}", path.display()))
                .caused_by(e)
                .with_help("check that AIMA_DATA_DIR is writable")
        })?;
        Self::init(conn)
    }

    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut store = Store { conn };
        // Switching to WAL needs a moment of exclusive access (the busy timeout covers it); the
        // mode is persistent, so only a new database switches.
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            store.blocking(|conn| conn.pragma_update(None, "journal_mode", "WAL"))?;
        }
        if migrations::behind(&store.conn)? {
            store.write(migrations::apply)?;
        }
        Ok(store)
    }

    /// Runs `f` in an immediate (write-locked) transaction, committed when it returns `Ok`.
    pub(crate) fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        self.blocking(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })
    }

    /// Runs `f`, which may wait for the write lock, off the async worker when called from one.
    fn blocking<T, E>(&mut self, f: impl FnOnce(&mut Connection) -> Result<T, E>) -> Result<T, E> {
        let conn = &mut self.conn;
        match tokio::runtime::Handle::try_current() {
            Ok(rt) if rt.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| f(conn))
            }
            _ => f(conn),
        }
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// A cheap check that the database is readable: one read of its schema header.
    pub fn readable(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA schema_version", [], |r| r.get::<_, i64>(0))?;
        Ok(())
    }

    /// SQLite's full integrity check: reads every page, so for tests and repairs, not requests.
    pub fn integrity_ok(&self) -> Result<bool> {
        let verdict: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        Ok(verdict == "ok")
    }
}
