//! The supervisor's policy: which failed services it restarts, when, and when it gives up.
//! The daemon's reconciler runs it (without a daemon nothing supervises); each restart is a
//! full `start` (preflight and all) claimed from `backoff`, so an operator's verb that comes
//! first — a stop, a start, a delete refused — always wins.

use std::future::pending;
use std::time::Duration;

use super::refresh::exited_cleanly;
use super::start::{Starter, start_as};
use super::{Deps, StartOptions};
use crate::clock;
use crate::domain::{Desired, RestartPolicy, Service, ServiceId, Status, backoff};
use crate::error::Result;
use crate::store::{EventKind, StoreHandle};

/// How long a supervisor's start may take to come up healthy, as `service start` by default.
const RESTART_TIMEOUT: Duration = Duration::from_secs(300);

/// What the supervisor does about a failed service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Leave,
    /// Wait in `backoff` for restart number `restarts` of a row, due at `due` (ms).
    Restart { restarts: u32, due: i64 },
    /// Stay `failed`, for this reason.
    GiveUp(String),
    /// Stay `failed` without a restart that the policy does not ask for, the reason saying so.
    Settle(String),
}

/// The policy table, for a service that reads `failed` and is wanted running. `failed_from`
/// is the status it failed from, when that failure is not answered yet (the last change of the
/// row): `running` means its engine died after it ran; `starting` a start failed (the
/// operator's, or one of the supervisor's own while `restarts` > 0).
/// `cap` is the longest wait (`[supervision] backoff_max_secs`).
pub(crate) fn verdict(svc: &Service, failed_from: Option<Status>, now: i64, cap: Duration) -> Verdict {
    let Some(from) = failed_from else {
        return Verdict::Leave;
    };
    if svc.desired != Desired::Running {
        return Verdict::Leave;
    }
    let limit = match svc.restart {
        RestartPolicy::No => return Verdict::Leave,
        RestartPolicy::Always => None,
        RestartPolicy::OnFailure(limit) => {
            let ran = from == Status::Running;
            let reason = svc.last_error.as_deref().unwrap_or_default();
            if ran && exited_cleanly(reason) {
                return Verdict::Settle(format!(
                    "{reason} (not restarted: policy {} restarts only an engine that failed)",
                    svc.restart.text()
                ));
            }
            // An operator's failed start is that operator's; a restart's failure counts.
            if !ran && svc.restarts == 0 {
                return Verdict::Leave;
            }
            limit
        }
    };
    if let Some(n) = limit
        && svc.restarts >= n
    {
        let last = svc.last_error.as_deref().unwrap_or("no error recorded");
        return Verdict::GiveUp(format!("crash loop: {n} restarts, last: {last}"));
    }
    let restarts = svc.restarts.saturating_add(1);
    Verdict::Restart {
        restarts,
        due: now + backoff(restarts, cap).as_millis() as i64,
    }
}

/// Answers the failures among `services` (as just refreshed) and returns the services whose
/// restart is due at `now`; backoff waits are at most `cap`.
pub(crate) async fn answer(
    store: &StoreHandle,
    services: &[Service],
    now: i64,
    cap: Duration,
) -> Result<Vec<ServiceId>> {
    let mut due = Vec::new();
    for svc in services {
        if svc.desired != Desired::Running || svc.restart == RestartPolicy::No {
            continue;
        }
        match svc.status {
            Status::Backoff if svc.next_restart_at.is_none_or(|at| at <= now) => {
                due.push(svc.id.clone());
            }
            Status::Failed => {
                let from = unanswered_failure(store, svc).await?;
                match verdict(svc, from, now, cap) {
                    Verdict::Leave => {}
                    Verdict::Restart { restarts, due: at } => {
                        let (id, seen) = (svc.id.clone(), svc.updated_at);
                        let scheduled = store
                            .call(move |s| s.schedule_restart(&id, seen, restarts, at))
                            .await?;
                        if scheduled.is_some() {
                            tracing::info!(service = %svc.id, restarts, "restart in {} ms", at - now);
                            if at <= now {
                                due.push(svc.id.clone());
                            }
                        }
                    }
                    Verdict::Settle(reason) => {
                        tracing::info!(service = %svc.id, "not restarting: {reason}");
                        let (id, seen) = (svc.id.clone(), svc.updated_at);
                        store.call(move |s| s.give_up(&id, seen, &reason)).await?;
                    }
                    Verdict::GiveUp(reason) => {
                        tracing::warn!(service = %svc.id, "giving up: {reason}");
                        let (id, seen) = (svc.id.clone(), svc.updated_at);
                        store.call(move |s| s.give_up(&id, seen, &reason)).await?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(due)
}

/// The status `svc` failed from, while that failure is the last change of its row.
async fn unanswered_failure(store: &StoreHandle, svc: &Service) -> Result<Option<Status>> {
    let (id, at) = (svc.id.to_string(), svc.updated_at);
    let last = store.call(move |s| s.recent_events_of(&id, 1)).await?;
    Ok(last
        .into_iter()
        .next()
        .filter(|e| e.kind == EventKind::Status && e.to == Status::Failed.as_str() && e.at == at)
        .and_then(|e| e.from.as_deref().and_then(Status::parse)))
}

/// When the next restart among `services` is due, if one is waiting.
pub(crate) fn next_due(services: &[Service]) -> Option<i64> {
    services
        .iter()
        .filter(|s| s.status == Status::Backoff && s.desired == Desired::Running)
        .filter_map(|s| s.next_restart_at)
        .min()
}

/// A restart: a full start, claimed only while the service still waits in `backoff`.
pub(crate) async fn restart(deps: &Deps, store: &StoreHandle, id: &ServiceId) -> Result<Service> {
    let opts = StartOptions {
        wait: true,
        timeout: RESTART_TIMEOUT,
        progress: None,
        pull: None,
        node: None,
    };
    tracing::info!(service = %id, "restarting");
    start_as(Starter::Supervisor, deps, store, id, opts, pending()).await
}

/// Now, as the supervisor counts it.
pub(crate) fn now() -> i64 {
    clock::now_ms()
}
