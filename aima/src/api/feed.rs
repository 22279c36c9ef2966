//! Tails the services' change log: every change, by any aima process sharing the data dir,
//! counts in the metrics and wakes the `/api/v2/events` streams. A poll of an indexed range is
//! cheap; it runs on the blocking pool so a busy store never holds up an async worker.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::metrics::Metrics;
use crate::store::{ServiceEvent, Store, StorePool};

/// How often the log is read.
pub(crate) const EVERY: Duration = Duration::from_millis(250);
const BATCH: usize = 500;

/// Polls until `stop`; starts after the newest event, so counters begin at zero.
pub(crate) async fn run(
    db: StorePool,
    metrics: Arc<Metrics>,
    newest: Arc<watch::Sender<i64>>,
    stop: CancellationToken,
) {
    let mut last = match read(db.clone(), |store| store.last_event_seq()).await {
        Ok(seq) => seq,
        Err(e) => {
            tracing::warn!("cannot read the change log: {}", e.message);
            0
        }
    };
    newest.send_replace(last);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(EVERY) => {}
        }
        let after = last;
        match read(db.clone(), move |store| store.events_after(after, BATCH)).await {
            Ok(events) => {
                for event in &events {
                    metrics.service_event(event);
                }
                if let Some(event) = events.last() {
                    last = event.seq;
                    newest.send_replace(last);
                }
            }
            Err(e) => tracing::warn!("cannot read the change log: {}", e.message),
        }
    }
}

/// Runs `f` on one of the daemon's connections, on the blocking pool.
pub(crate) async fn read<T: Send + 'static>(
    db: StorePool,
    f: impl FnOnce(&Store) -> Result<T> + Send + 'static,
) -> Result<T> {
    db.call(move |store| f(store)).await
}

/// Events after `seq`, for a stream catching up.
pub(crate) async fn events_after(db: StorePool, seq: i64) -> Result<Vec<ServiceEvent>> {
    read(db, move |store| store.events_after(seq, BATCH)).await
}
