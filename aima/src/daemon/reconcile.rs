//! The reconciler: every period, make recorded states true (`lifecycle::refresh_all`), supervise
//! (restart failed services per their policy, with backoff: `lifecycle::supervise`) and remove
//! this instance's orphaned containers. Idempotent; safe beside CLI commands on the same store.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use std::collections::HashMap;

use tokio::sync::Notify;
use tokio::task::{self, JoinSet};

use super::docker_watch::DockerWatch;
use crate::domain::{ContainerId, Service, ServiceId};
use crate::error::Result;
use crate::lifecycle::orphans::{Reaper, orphans};
use crate::lifecycle::{self, Deps, labels, supervise};
use crate::metrics::Metrics;
use crate::store::{StoreHandle, StorePool};

/// What one pass changed, for the log.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Pass {
    /// Services whose status this pass changed: (id, from, to).
    pub(crate) changed: Vec<(String, &'static str, &'static str)>,
    /// Orphaned containers removed.
    pub(crate) reaped: Vec<ContainerId>,
    /// Services whose restart this pass began.
    pub(crate) restarting: Vec<ServiceId>,
    /// When the next restart waiting in backoff is due (ms since the epoch).
    pub(crate) next_due: Option<i64>,
}

pub(crate) struct Reconciler {
    deps: Deps,
    /// The daemon's store connections, shared with the API.
    stores: StorePool,
    reaper: Reaper,
    /// Where passes and removed containers are counted.
    metrics: Arc<Metrics>,
    /// The supervisor's restarts in progress, each a start of its own, so that a slow engine
    /// does not hold up the passes; dropped (aborted) with the reconciler.
    restarts: JoinSet<()>,
    in_flight: HashMap<task::Id, ServiceId>,
    /// Asks for a pass now: an engine's death came as an event, or the liveness watch took
    /// an engine for dead.
    pass_now: Arc<Notify>,
    /// Whether Docker answered the last pass, for the log.
    docker: DockerWatch,
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
            restarts: JoinSet::new(),
            in_flight: HashMap::new(),
            pass_now: Arc::new(Notify::new()),
            docker: DockerWatch::default(),
        }
    }

    /// Passes also when `wake` is notified, not only every period.
    pub(crate) fn woken_by(mut self, wake: Arc<Notify>) -> Self {
        self.pass_now = wake;
        self
    }

    /// What asks this reconciler for a pass before its period is up.
    pub(crate) fn pass_now(&self) -> Arc<Notify> {
        self.pass_now.clone()
    }

    /// Passes until `stop`; the first one at once. A pass in progress is dropped on `stop`:
    /// every step is a conditional update or an idempotent removal, so the next daemon resumes.
    pub(crate) async fn run(mut self, every: Duration, stop: CancellationToken) {
        loop {
            let mut wait = every;
            tokio::select! {
                () = stop.cancelled() => break,
                result = self.pass() => match result {
                    Ok(pass) => {
                        self.metrics.reconcile_pass(true, pass.reaped.len());
                        log(&pass);
                        // A restart due before the next period gets a pass of its own.
                        if let Some(due) = pass.next_due {
                            let until = Duration::from_millis((due - supervise::now()).max(0) as u64);
                            wait = wait.min(until);
                        }
                    }
                    Err(e) => {
                        self.metrics.reconcile_pass(false, 0);
                        tracing::warn!("reconcile pass failed: {}", e.message);
                    }
                },
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
                () = self.pass_now.notified() => {}
            }
        }
        tracing::debug!("reconciler stopped");
    }

    pub(crate) async fn pass(&mut self) -> Result<Pass> {
        let store = self.stores.handle().await?;
        let before = store.list_services().await?;
        let after = lifecycle::refresh_all(&self.deps, &store).await?;
        let changed = changes(&before, &after);
        let restarting = self.supervise(&store, &after).await?;
        let reaped = self.reap(&store).await?;
        let next_due = supervise::next_due(&store.list_services().await?);
        Ok(Pass {
            changed,
            reaped,
            restarting,
            next_due,
        })
    }

    /// Answers failures per policy and begins the restarts that are due, one task each; a
    /// service whose restart is still in progress is left to it.
    async fn supervise(
        &mut self,
        store: &StoreHandle,
        services: &[Service],
    ) -> Result<Vec<ServiceId>> {
        while let Some(done) = self.restarts.try_join_next_with_id() {
            let task = done.map_or_else(|e| e.id(), |(task, ())| task);
            self.in_flight.remove(&task);
        }
        let pacing = self.deps.config.supervision;
        let due = supervise::answer(store, services, supervise::now(), pacing.backoff_max).await?;
        let busy: Vec<ServiceId> = self.in_flight.values().cloned().collect();
        let mut begun = Vec::new();
        for id in to_begin(due, &busy, pacing.parallel_starts) {
            let (deps, store, svc) = (self.deps.clone(), store.clone(), id.clone());
            let task = self.restarts.spawn(async move {
                match supervise::restart(&deps, &store, &svc).await {
                    Ok(s) => {
                        tracing::info!(service = %svc, status = s.status.as_str(), "restarted")
                    }
                    Err(e) => tracing::warn!(service = %svc, "restart failed: {}", e.message),
                }
            });
            self.in_flight.insert(task.id(), id.clone());
            begun.push(id);
        }
        Ok(begun)
    }

    /// Lists containers before reading services, so a container created after the read (by a
    /// start claimed after it) is not in the list.
    async fn reap(&mut self, store: &StoreHandle) -> Result<Vec<ContainerId>> {
        let rt = match self.deps.docker().await {
            Ok(rt) => {
                self.docker.log(&Ok(()));
                rt
            }
            Err(e) => {
                self.docker.log(&Err(e));
                return Ok(Vec::new());
            }
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

/// The due restarts to begin now: not those already in progress (`busy`), and only as many
/// as keep at most `parallel` in flight — a reboot does not start every engine at once; the others stay
/// due in `backoff` for a later pass.
fn to_begin(due: Vec<ServiceId>, busy: &[ServiceId], parallel: usize) -> Vec<ServiceId> {
    let room = parallel.saturating_sub(busy.len());
    due.into_iter()
        .filter(|id| !busy.contains(id))
        .take(room)
        .collect()
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
    for id in &pass.restarting {
        tracing::info!(service = %id, "supervisor: restart begun");
    }
    for id in &pass.reaped {
        tracing::info!(container = %id.short(), "removed orphaned container");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<ServiceId> {
        (0..n)
            .map(|i| ServiceId::parse(&format!("svc-{i:08x}")).unwrap())
            .collect()
    }

    #[test]
    fn restarts_begin_at_most_parallel_at_once() {
        let all = ids(5);
        assert_eq!(to_begin(all.clone(), &[], 2), all[..2]);
        // One in flight leaves room for one more; the one in flight is not begun twice.
        assert_eq!(to_begin(all.clone(), &all[..1], 2), all[1..2]);
        assert!(to_begin(all.clone(), &all[3..5], 2).is_empty());
        assert_eq!(to_begin(all.clone(), &[], 64), all);
    }
}
