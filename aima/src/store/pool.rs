//! Open connections kept for a long-lived process (the daemon): a request takes one and gives
//! it back, instead of opening the database, setting up the connection and closing it again
//! each time. The change-log feed alone reads the store four times a second.
//!
//! A connection goes back only with no transaction open (a [`Store::write`] commits or rolls
//! back before it returns), and at most [`KEEP`] stay idle: a burst of concurrent requests
//! opens more, and closes the extra ones when it has passed.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::Store;
use super::handle::{StoreHandle, off_the_workers};
use crate::config::Config;
use crate::domain::Actor;
use crate::error::Result;

/// Idle connections kept: the feed, the reconciler and a few requests at once.
const KEEP: usize = 4;

/// Connections to one database, shared by the daemon's handlers.
#[derive(Clone)]
pub struct StorePool {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// The free space kept on the data dir's disk before writes ([`Store::open_in`]).
    min_free: u64,
    idle: Mutex<Vec<Store>>,
    /// Whom writes are recorded for when no request says ([`Actor::daemon`]).
    daemon: String,
}

impl StorePool {
    /// A pool of the data dir's store; nothing is opened until the first [`StorePool::take`].
    pub fn new(config: &Config) -> Self {
        Self::at(&config.db_path(), config.disk.data_min_free)
    }

    fn at(path: &Path, min_free: u64) -> Self {
        StorePool {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                min_free,
                idle: Mutex::new(Vec::new()),
                daemon: Actor::daemon().name,
            }),
        }
    }

    /// An idle connection, or a new one; it returns to the pool when dropped.
    pub fn take(&self) -> Result<PooledStore> {
        let idle = self.lock().pop();
        let mut store = match idle {
            Some(store) => store,
            None => Store::open_keeping(&self.inner.path, self.inner.min_free)?,
        };
        // The daemon's own until a request says whom it acts for ([`StorePool::handle_as`]).
        store.act_as(Some(&self.inner.daemon));
        Ok(PooledStore {
            store: Some(store),
            pool: self.clone(),
        })
    }

    /// Runs `f` on a connection of the pool, on the blocking pool (see [`StoreHandle`]).
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let pool = self.clone();
        off_the_workers(move || f(&mut *pool.take()?)).await
    }

    /// A connection of the pool for one long operation (a start, a stop), as a handle; taken
    /// (and opened when none is idle) on the blocking pool.
    pub async fn handle(&self) -> Result<StoreHandle> {
        let pool = self.clone();
        off_the_workers(move || pool.take())
            .await
            .map(StoreHandle::new)
    }

    /// As [`StorePool::handle`], its writes recorded as made by `actor`.
    pub async fn handle_as(&self, actor: &Actor) -> Result<StoreHandle> {
        let pool = self.clone();
        let name = actor.name.clone();
        off_the_workers(move || {
            let mut store = pool.take()?;
            store.act_as(Some(&name));
            Ok(store)
        })
        .await
        .map(StoreHandle::new)
    }

    /// As [`StorePool::call`], its writes recorded as made by `actor`.
    pub async fn call_as<T: Send + 'static>(
        &self,
        actor: &Actor,
        f: impl FnOnce(&mut Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let pool = self.clone();
        let name = actor.name.clone();
        off_the_workers(move || {
            let mut store = pool.take()?;
            store.act_as(Some(&name));
            f(&mut store)
        })
        .await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Store>> {
        // A panic while holding the lock left a list of connections, which is still valid.
        self.inner.idle.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A connection of a [`StorePool`], used as a [`Store`].
pub struct PooledStore {
    store: Option<Store>,
    pool: StorePool,
}

impl Deref for PooledStore {
    type Target = Store;

    fn deref(&self) -> &Store {
        self.store.as_ref().expect("present until dropped")
    }
}

impl DerefMut for PooledStore {
    fn deref_mut(&mut self) -> &mut Store {
        self.store.as_mut().expect("present until dropped")
    }
}

impl Drop for PooledStore {
    fn drop(&mut self) {
        let Some(store) = self.store.take() else {
            return;
        };
        if !store.conn.is_autocommit() {
            return; // a transaction is still open: close this connection rather than reuse it
        }
        let mut idle = self.pool.lock();
        if idle.len() < KEEP {
            idle.push(store);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_returned_connection_is_reused_and_sees_other_writers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aima.db");
        let pool = StorePool::at(&path, 0);
        let first = pool.take().unwrap();
        // A temporary table exists for its own connection only.
        first
            .conn()
            .execute_batch("CREATE TEMP TABLE marker (x)")
            .unwrap();
        drop(first);
        let again = pool.take().unwrap();
        let marked: i64 = again
            .conn()
            .query_row(
                "SELECT count(*) FROM sqlite_temp_master WHERE name = 'marker'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            marked, 1,
            "the connection given back was not the one reused"
        );

        let other = Store::open(&path).unwrap();
        other
            .conn()
            .execute_batch("CREATE TABLE written_elsewhere (x)")
            .unwrap();
        let tables: i64 = again
            .conn()
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'written_elsewhere'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 1);
    }

    #[test]
    fn at_most_keep_connections_stay_idle() {
        let dir = tempfile::tempdir().unwrap();
        let pool = StorePool::at(&dir.path().join("aima.db"), 0);
        let taken: Vec<_> = (0..KEEP + 3).map(|_| pool.take().unwrap()).collect();
        drop(taken);
        assert_eq!(pool.lock().len(), KEEP);
    }

    #[test]
    fn a_connection_left_in_a_transaction_is_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let pool = StorePool::at(&dir.path().join("aima.db"), 0);
        let store = pool.take().unwrap();
        store.conn().execute_batch("BEGIN").unwrap();
        drop(store);
        assert!(pool.lock().is_empty());
    }
}
