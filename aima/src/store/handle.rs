//! The store as async code uses it: every database call runs on tokio's blocking pool, never on
//! an async worker, so a slow disk or a write waiting for the lock holds up no other request.
//!
//! [`StoreHandle`] owns one connection (a CLI command's, or one of the daemon's pool) behind a
//! mutex; [`StorePool::call`](super::StorePool::call) takes a pooled connection for one call.
//! Both mark the thread they run on, and in debug builds every database call checks the mark
//! ([`check_thread`]): a call made from an async task elsewhere panics, so the test suite
//! catches one the moment it is written.

use std::cell::Cell;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard};

use super::Store;
use crate::error::{Error, Result};

/// A connection the handle owns: a [`Store`] of its own or one of the daemon's pool.
type Owned = Box<dyn DerefMut<Target = Store> + Send>;

/// One connection for async code; clones share it (calls take turns).
#[derive(Clone)]
pub struct StoreHandle {
    store: Arc<Mutex<Owned>>,
}

impl StoreHandle {
    pub fn new(store: impl DerefMut<Target = Store> + Send + 'static) -> Self {
        StoreHandle {
            store: Arc::new(Mutex::new(Box::new(store))),
        }
    }

    /// Runs `f` on the store, on the blocking pool.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T> + Send + 'static,
    {
        let store = self.store.clone();
        off_the_workers(move || f(&mut lock(&store))).await
    }

    /// The store, on this thread: for code that runs on no async worker (tests, the CLI's
    /// synchronous commands). A call through it from an async task fails the debug check.
    pub fn sync(&self) -> SyncStore<'_> {
        SyncStore(lock(&self.store))
    }
}

/// The store of a [`StoreHandle`], locked for calls on this thread.
pub struct SyncStore<'a>(MutexGuard<'a, Owned>);

impl Deref for SyncStore<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.0
    }
}

impl DerefMut for SyncStore<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        &mut self.0
    }
}

fn lock(store: &Mutex<Owned>) -> MutexGuard<'_, Owned> {
    // A panic during a call left a connection with no transaction open (writes commit or roll
    // back before they return): still usable.
    store.lock().unwrap_or_else(|e| e.into_inner())
}

thread_local! {
    static STORE_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` on the blocking pool, marked as a thread where database calls belong.
pub(super) async fn off_the_workers<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(move || {
        STORE_THREAD.set(true);
        let out = f();
        STORE_THREAD.set(false);
        out
    })
    .await
    .map_err(|e| Error::internal("a store task failed").caused_by(e))?
}

/// In debug builds: panics when a database call runs inside an async task anywhere but on a
/// thread [`off_the_workers`] marked. Code outside any task (a CLI command's `block_on`, a
/// plain thread, a test's body) may block: it holds up no one else.
#[track_caller]
pub(super) fn check_thread() {
    if cfg!(debug_assertions) && tokio::task::try_id().is_some() && !STORE_THREAD.get() {
        panic!(
            "a database call on an async worker: go through StoreHandle::call or StorePool::call"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_database_call_on_an_async_worker_fails_the_debug_check_and_the_handle_does_not() {
        let handle = StoreHandle::new(Box::new(Store::open_in_memory().unwrap()));
        let direct = handle.clone();
        let on_a_worker =
            tokio::spawn(async move { direct.sync().list_services().map(|s| s.len()) });
        let joined = on_a_worker.await;
        assert!(
            joined.as_ref().is_err_and(|e| e.is_panic()),
            "a store call inside a task must panic in debug builds: {joined:?}"
        );
        let through_the_handle = handle.call(|s| s.list_services()).await.unwrap();
        assert!(through_the_handle.is_empty());
    }
}
