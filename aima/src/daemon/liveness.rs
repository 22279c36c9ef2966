//! The liveness watch: while a service is `running`, the daemon asks its engine's health path
//! every `[engines.X] liveness_secs` (the same request the start's health wait makes). After
//! `liveness_failures` failed probes in a row the engine is taken for dead: the row reads
//! `failed` ("stopped answering its health check") and its containers are removed, and the
//! reconciler is woken to answer that failure per the service's policy, as it answers an
//! engine that exited. An engine healthy for ten minutes in a row has its restarts forgiven.
//!
//! Cost: one `GET` of the health path per running engine per period, and one read of the
//! service rows per tick.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use tokio::sync::Notify;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::watches::{Answer, Probing, Watches};
use crate::clock;
use crate::config::{Config, RuntimeKind};
use crate::domain::Service;
use crate::error::Result;
use crate::lifecycle::{Deps, liveness};
use crate::store::{StoreHandle, StorePool};

/// How often the watch looks at the rows: the shortest period it can keep.
const TICK: Duration = Duration::from_secs(1);
/// The longest a probe waits for an answer (the start's health wait waits as long); a
/// shorter period waits no longer than the period.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub(crate) struct Liveness {
    deps: Deps,
    stores: StorePool,
    /// Woken when a service is taken for dead, so its restart does not wait for a pass.
    reconcile_now: Arc<Notify>,
    watches: Watches,
}

impl Liveness {
    pub(crate) fn new(deps: Deps, stores: StorePool, reconcile_now: Arc<Notify>) -> Self {
        Liveness {
            deps,
            stores,
            reconcile_now,
            watches: Watches::default(),
        }
    }

    /// Ticks until `stop`. A tick in progress is dropped on `stop`: its changes are
    /// conditional, and what it did not finish the reconciler or the next daemon does.
    pub(crate) async fn run(mut self, stop: CancellationToken) {
        // Ticks a period apart from their starts: a tick that waited on a silent engine for
        // its whole timeout does not push the next probe a period further.
        let mut ticks = tokio::time::interval(TICK);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = ticks.tick() => {}
            }
            tokio::select! {
                () = stop.cancelled() => break,
                result = self.tick() => if let Err(e) = result {
                    tracing::warn!("liveness check failed: {}", e.message);
                },
            }
        }
        tracing::debug!("liveness watch stopped");
    }

    async fn tick(&mut self) -> Result<()> {
        let store = self.stores.handle().await?;
        let services = store.list_services().await?;
        let (deps, config) = (&self.deps, &self.deps.config);
        let now = clock::now_ms();
        let due = self
            .watches
            .follow(&services, now, |s| probing_of(config, s));
        let probes = services
            .iter()
            .filter(|s| due.contains(&s.id))
            .map(|svc| async move { (svc, probe(deps, svc).await) });
        for (svc, status) in join_all(probes).await {
            let Some(container) = &svc.container_id else {
                continue;
            };
            let p = probing_of(config, svc);
            let healthy = status == Some(200);
            match self.watches.record(&svc.id, container, healthy, now, p) {
                Answer::Dead(n) => self.take_for_dead(&store, svc, n, status).await?,
                Answer::Failing(n) => {
                    tracing::info!(service = %svc.id, "health check failed ({n} of {} in a row): {}",
                        p.failures, last_answer(status, p));
                }
                Answer::Healthy | Answer::Stale => {}
            }
        }
        for (id, container) in self.watches.forgiven(&services, now) {
            liveness::forgive_restarts(&store, &id, &container).await?;
        }
        Ok(())
    }

    async fn take_for_dead(
        &self,
        store: &StoreHandle,
        svc: &Service,
        failures: u32,
        last: Option<u16>,
    ) -> Result<()> {
        let Some(container) = &svc.container_id else {
            return Ok(());
        };
        let p = probing_of(&self.deps.config, svc);
        let path = &self.deps.config.engine(svc.engine_type).health_path;
        let reason = format!(
            "stopped answering its health check: {failures} probes of {path} in a row failed, the last {}",
            last_answer(last, p)
        );
        let failed =
            liveness::fail_unanswering(&self.deps, store, &svc.id, container, reason).await?;
        if failed.is_some() {
            self.reconcile_now.notify_one();
        }
        Ok(())
    }
}

/// The engine's answer to its health path, as the start's health wait asks it.
async fn probe(deps: &Deps, svc: &Service) -> Option<u16> {
    let spec = deps.config.engine(svc.engine_type);
    let limit = PROBE_TIMEOUT.min(Duration::from_secs(spec.liveness_secs.into()));
    let asked = deps
        .host
        .health_status(reach(deps, svc).await, &spec.health_path);
    tokio::time::timeout(limit, asked).await.ok().flatten()
}

/// Where the engine answers: on a Swarm, its node's address.
async fn reach(deps: &Deps, svc: &Service) -> std::net::SocketAddr {
    if deps.config.runtime.kind == RuntimeKind::Swarm
        && let (Ok(rt), Some(container)) = (deps.docker().await, &svc.container_id)
        && let Ok(Some(placed)) = rt.placement(container).await
    {
        return std::net::SocketAddr::new(placed.address, svc.port.get());
    }
    svc.local_address()
}

/// How `svc`'s engine is probed, per its engine's settings.
fn probing_of(config: &Config, svc: &Service) -> Probing {
    let spec = config.engine(svc.engine_type);
    Probing {
        every_ms: i64::from(spec.liveness_secs) * 1000,
        failures: spec.liveness_failures,
    }
}

fn last_answer(status: Option<u16>, p: Probing) -> String {
    match status {
        Some(code) => format!("answered HTTP {code}"),
        None => {
            let limit = PROBE_TIMEOUT.min(Duration::from_millis(p.every_ms as u64));
            format!("had no answer within {}s", limit.as_secs_f32())
        }
    }
}
