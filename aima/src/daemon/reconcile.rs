//! The reconciler: every period, make recorded states true (`lifecycle::refresh_all`) and remove
//! this instance's orphaned containers. Idempotent; safe beside CLI commands on the same store.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::domain::{ContainerId, Service};
use crate::error::Result;
use crate::lifecycle::orphans::{Reaper, orphans};
use crate::lifecycle::{self, Deps, labels};
use crate::metrics::Metrics;
use crate::store::{StoreHandle, StorePool};

/// What one pass changed, for the log.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Pass {
    /// Services whose status this pass changed: (id, from, to).
    pub(crate) changed: Vec<(String, &'static str, &'static str)>,
    /// Orphaned containers removed.
    pub(crate) reaped: Vec<ContainerId>,
}

pub(crate) struct Reconciler {
    deps: Deps,
    /// The daemon's store connections, shared with the API.
    stores: StorePool,
    reaper: Reaper,
    /// Where passes and removed containers are counted.
    metrics: Arc<Metrics>,
}

impl Reconciler {
    pub(crate) fn new(
        deps: Deps,
        stores: StorePool,
        reap_grace: Duration,
        metrics: Arc<Metrics>,
    ) -> Self {
        Reconciler {
            deps,
            stores,
            reaper: Reaper::new(reap_grace),
            metrics,
        }
    }

    /// Passes until `stop`; the first one at once. A pass in progress is dropped on `stop`:
    /// every step is a conditional update or an idempotent removal, so the next daemon resumes.
    pub(crate) async fn run(mut self, every: Duration, stop: CancellationToken) {
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                result = self.pass() => match result {
                    Ok(pass) => {
                        self.metrics.reconcile_pass(true, pass.reaped.len());
                        log(&pass);
                    }
                    Err(e) => {
                        self.metrics.reconcile_pass(false, 0);
                        tracing::warn!("reconcile pass failed: {}", e.message);
                    }
                },
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(every) => {}
            }
        }
        tracing::debug!("reconciler stopped");
    }

    pub(crate) async fn pass(&mut self) -> Result<Pass> {
        let store = self.stores.handle().await?;
        let before = store.list_services().await?;
        let after = lifecycle::refresh_all(&self.deps, &store).await?;
        let changed = changes(&before, &after);
        let reaped = self.reap(&store).await?;
        Ok(Pass { changed, reaped })
    }

    /// Lists containers before reading services, so a container created after the read (by a
    /// start claimed after it) is not in the list.
    async fn reap(&mut self, store: &StoreHandle) -> Result<Vec<ContainerId>> {
        let Ok(rt) = self.deps.docker().await else {
            return Ok(Vec::new()); // refresh_all has said Docker is away
        };
        let instance = &self.deps.config.instance;
        let containers = match rt.list(&labels::selector(None, instance)).await {
            Ok(containers) => containers,
            Err(e) => {
                tracing::warn!("cannot list containers to reap: {e}");
                return Ok(Vec::new());
            }
        };
        let services = store.list_services().await?;
        let found: Vec<&ContainerId> = orphans(&containers, &services, instance)
            .into_iter()
            .map(|c| &c.id)
            .collect();
        let mut reaped = Vec::new();
        for id in self.reaper.due(&found, Instant::now()) {
            match rt.stop_and_remove(&id, true).await {
                Ok(()) => {
                    self.reaper.forget(&id);
                    reaped.push(id);
                }
                Err(e) => tracing::warn!(container = %id, "cannot remove orphaned container: {e}"),
            }
        }
        Ok(reaped)
    }
}

fn changes(before: &[Service], after: &[Service]) -> Vec<(String, &'static str, &'static str)> {
    after
        .iter()
        .filter_map(|a| {
            let b = before.iter().find(|b| b.id == a.id)?;
            (b.status != a.status).then(|| (a.id.to_string(), b.status.as_str(), a.status.as_str()))
        })
        .collect()
}

fn log(pass: &Pass) {
    for (id, from, to) in &pass.changed {
        tracing::info!(service = %id, "reconciled: {from} → {to}");
    }
    for id in &pass.reaped {
        tracing::info!(container = %id.short(), "removed orphaned container");
    }
}
