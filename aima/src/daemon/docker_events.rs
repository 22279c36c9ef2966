//! Detection by events: the daemon follows Docker's event stream (deaths, OOM kills and
//! removals of aima's containers) and makes the record of the service concerned true at once,
//! through the same refresh the reconciler runs, then wakes the reconciler so the supervisor
//! answers within a moment instead of at its next period.
//!
//! The stream breaking is logged and reopened with backoff (1 s doubling to 30 s); meanwhile
//! the reconciler's polling keeps the records true and reads ask Docker again ([`EventWatch`]).
//! A runtime without a stream (a Swarm) leaves it all to polling.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::clock;
use crate::config::Config;
use crate::domain::{ServiceId, Status};
use crate::error::Kind;
use crate::lifecycle::labels::{INSTANCE, MANAGED, SERVICE};
use crate::lifecycle::watch::EventWatch;
use crate::lifecycle::{self, Deps};
use crate::runtime::{ContainerAction, ContainerEvent};
use crate::store::StorePool;

/// How far back a new stream starts: events of the moments before it opened are replayed, so
/// none falls between the catch-up refresh and the stream (a clock a little off included).
const SINCE_MARGIN_SECS: i64 = 5;

pub(crate) struct Follower {
    deps: Deps,
    stores: StorePool,
    watch: Arc<EventWatch>,
    /// Wakes the reconciler.
    wake: Arc<Notify>,
}

/// How one opening of the stream ended.
#[derive(Debug)]
enum Ended {
    /// The runtime has no event stream.
    Unsupported,
    /// It broke; `served` when it had caught up and served events before breaking.
    Broke { why: String, served: bool },
}

impl Follower {
    pub(crate) fn new(
        deps: Deps,
        stores: StorePool,
        watch: Arc<EventWatch>,
        wake: Arc<Notify>,
    ) -> Self {
        Follower {
            deps,
            stores,
            watch,
            wake,
        }
    }

    /// Follows until `stop`, reopening the stream whenever it breaks.
    pub(crate) async fn run(self, stop: CancellationToken) {
        let mut reconnect = Reconnect::default();
        loop {
            let ended = tokio::select! {
                () = stop.cancelled() => break,
                ended = self.follow() => ended,
            };
            self.watch.closed();
            match ended {
                Ended::Unsupported => {
                    tracing::info!(
                        "this runtime has no container event stream: deaths are found by the reconciler's polling"
                    );
                    break;
                }
                Ended::Broke { why, served } => {
                    if served {
                        reconnect.reset();
                    }
                    let wait = reconnect.next_wait();
                    tracing::warn!(
                        "Docker's event stream is closed ({why}); reopening in {}s (meanwhile the reconciler polls and reads ask Docker)",
                        wait.as_secs()
                    );
                    tokio::select! {
                        () = stop.cancelled() => break,
                        () = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
        self.watch.closed();
        tracing::debug!("event follower stopped");
    }

    /// One opening of the stream: subscribe (from a little before now), catch up with a full
    /// refresh, then make each event's service true as it comes.
    async fn follow(&self) -> Ended {
        let broke = |why: String, served: bool| Ended::Broke { why, served };
        let rt = match self.deps.docker().await {
            Ok(rt) => rt,
            Err(e) => return broke(e.message, false),
        };
        let since = clock::now_ms() / 1000 - SINCE_MARGIN_SECS;
        let Some(mut stream) = rt.container_events(&[format!("{MANAGED}=true")], since) else {
            return Ended::Unsupported;
        };
        let epoch = self.watch.opened();
        // The catch-up runs to its end before any event is handled (the stream holds them
        // meanwhile): a handler waiting for a service that the catch-up is acting on would
        // otherwise wait for a future this loop no longer polls.
        if let Err(why) = self.catch_up().await {
            return broke(why, false);
        }
        self.watch.caught_up(epoch);
        tracing::debug!("following Docker's event stream");
        loop {
            match stream.next().await {
                None => return broke("Docker ended it".to_owned(), true),
                Some(Err(e)) => return broke(e.to_string(), true),
                Some(Ok(event)) => {
                    if let Err(why) = self.handle(&event).await {
                        return broke(why, true);
                    }
                }
            }
        }
    }

    /// A full refresh begun after the stream's starting mark: a death before it is found here,
    /// one after it comes as an event.
    async fn catch_up(&self) -> Result<(), String> {
        // The refresh keeps records as they are when Docker is away: that is no catching up.
        self.deps.docker().await.map_err(|e| e.message)?;
        let store = self.stores.handle().await.map_err(|e| e.message)?;
        let services = lifecycle::refresh_all(&self.deps, &store)
            .await
            .map_err(|e| format!("cannot catch up: {}", e.message))?;
        if services.iter().any(|s| s.status == Status::Failed) {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Makes the service `event` concerns true, as the reconciler's refresh would; an error
    /// when its record could not be made true (reads must not trust it then).
    async fn handle(&self, event: &ContainerEvent) -> Result<(), String> {
        let Some(id) = concerns(event, &self.deps.config) else {
            return Ok(());
        };
        let _pending = self.watch.received();
        let store = self.stores.handle().await.map_err(|e| e.message)?;
        let svc = match lifecycle::refresh(&self.deps, &store, &id).await {
            Ok(svc) => svc,
            // Deleted since: its containers' removal is what this event tells.
            Err(e) if e.code == Kind::NotFound => return Ok(()),
            Err(e) => {
                return Err(format!(
                    "cannot record an event of service {id}: {}",
                    e.message
                ));
            }
        };
        let dead = matches!(
            event.action,
            ContainerAction::Die | ContainerAction::Destroy
        );
        if dead
            && svc.status == Status::Running
            && svc.container_id.as_ref() == Some(&event.container)
        {
            // Docker said its engine ended, and the refresh could not confirm it.
            return Err(format!(
                "the death of service {id}'s engine could not be recorded"
            ));
        }
        if svc.status == Status::Failed {
            tracing::info!(service = %id, action = ?event.action, exit_code = ?event.exit_code, "engine ended: recorded at once");
            self.wake.notify_one();
        }
        Ok(())
    }
}

/// The service of this data dir an event concerns, by the container's labels.
pub(crate) fn concerns(event: &ContainerEvent, config: &Config) -> Option<ServiceId> {
    let label = |key| event.labels.get(key).map(String::as_str);
    if label(MANAGED) != Some("true") || !label(INSTANCE).is_some_and(|i| config.owns_instance(i)) {
        return None;
    }
    ServiceId::parse(label(SERVICE)?).ok()
}

/// The pause before reopening a broken stream: 1 s, doubling to 30 s; back to 1 s once a
/// stream has served.
#[derive(Debug)]
pub(crate) struct Reconnect {
    next: Duration,
}

const FIRST_WAIT: Duration = Duration::from_secs(1);
const MAX_WAIT: Duration = Duration::from_secs(30);

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect { next: FIRST_WAIT }
    }
}

impl Reconnect {
    pub(crate) fn next_wait(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(MAX_WAIT);
        wait
    }

    pub(crate) fn reset(&mut self) {
        self.next = FIRST_WAIT;
    }
}

#[cfg(test)]
#[path = "docker_events_tests.rs"]
mod tests;
