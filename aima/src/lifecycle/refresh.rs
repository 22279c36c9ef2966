//! Making a recorded state true again, by whoever looks next (a CLI command or the daemon):
//! a start whose process died, a detached start that came up or crashed, an engine that exited.

use super::failure::exit_summary;
use super::{Deps, lease, resolving, sweep};
use crate::domain::{Attempt, Phase, Service, ServiceId, Status, size_text};
use crate::error::{Kind, Result};
use crate::runtime::{Runtime, RuntimeError, SharedRuntime};
use crate::store::{Change, StoreHandle};

/// What a refresh may take as recorded, without asking Docker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trust {
    /// Nothing: look at every service that Docker may have changed.
    Nothing,
    /// Running services: Docker's event stream keeps their records true (the daemon's
    /// [`super::watch::EventWatch`] says when).
    RunningRecords,
}

pub(crate) async fn refresh(deps: &Deps, store: &StoreHandle, id: &ServiceId) -> Result<Service> {
    refresh_trusting(deps, store, id, Trust::Nothing).await
}

/// As [`refresh`], taking what `trust` allows as recorded.
pub(crate) async fn refresh_trusting(
    deps: &Deps,
    store: &StoreHandle,
    id: &ServiceId,
    trust: Trust,
) -> Result<Service> {
    let svc = store.get_service(id).await?;
    if !needs_a_look(&svc, trust) {
        return Ok(svc);
    }
    let rt = docker_if_reachable(deps).await;
    resolve(deps, store, svc, rt.as_ref()).await
}

pub(crate) async fn refresh_all(deps: &Deps, store: &StoreHandle) -> Result<Vec<Service>> {
    let services = store.list_services().await?;
    refresh_each_trusting(deps, store, services, Trust::Nothing).await
}

/// `services` (as just read from `store`), each refreshed but for what `trust` allows to take
/// as recorded; Docker is asked once, and only when one of them needs a look.
pub(crate) async fn refresh_each_trusting(
    deps: &Deps,
    store: &StoreHandle,
    services: Vec<Service>,
    trust: Trust,
) -> Result<Vec<Service>> {
    if !services.iter().any(|s| needs_a_look(s, trust)) {
        return Ok(services);
    }
    let rt = docker_if_reachable(deps).await;
    let mut out = Vec::with_capacity(services.len());
    for svc in services {
        if needs_a_look(&svc, trust) {
            out.push(resolve(deps, store, svc, rt.as_ref()).await?);
        } else {
            out.push(svc);
        }
    }
    Ok(out)
}

/// Whether `svc` may have changed in Docker (or its owner died) beyond what `trust` allows to
/// take as recorded.
pub(crate) fn needs_a_look(svc: &Service, trust: Trust) -> bool {
    match svc.status {
        Status::Running => trust == Trust::Nothing,
        Status::Starting | Status::Stopping => true,
        _ => false,
    }
}

/// Reading state must work with Docker away: what needs Docker then waits for the next look.
async fn docker_if_reachable(deps: &Deps) -> Option<SharedRuntime> {
    match deps.docker().await {
        Ok(rt) => Some(rt),
        Err(e) => {
            tracing::warn!("not checking containers: {}", e.message);
            None
        }
    }
}

pub(super) async fn resolve(
    deps: &Deps,
    store: &StoreHandle,
    svc: Service,
    rt: Option<&SharedRuntime>,
) -> Result<Service> {
    let verdict = match (svc.status, svc.owner) {
        (Status::Starting, Some(owner)) => lease::gone(deps, owner)
            .map(|why| (Status::Failed, format!("start interrupted: {why}"))),
        (Status::Stopping, Some(owner)) => {
            lease::gone(deps, owner).map(|why| (Status::Failed, format!("stop interrupted: {why}")))
        }
        (Status::Starting, None) | (Status::Running, _) => match rt {
            Some(rt) => look_at_container(deps, rt.as_ref(), &svc).await,
            None => None,
        },
        _ => None,
    };
    let Some((to, reason)) = verdict else {
        return Ok(svc);
    };
    let _gate = resolving::one_at_a_time(&svc.id).await;
    // Look again before acting: a starter that finished (wrote `running`) and exited between
    // our read and the look at its process reads as gone, and its engine must not be removed.
    // A process found gone writes nothing more, so this second read is the truth.
    let now = store.get_service(&svc.id).await?;
    if (now.status, now.owner, now.updated_at) != (svc.status, svc.owner, svc.updated_at) {
        return Ok(now);
    }
    let failed = to == Status::Failed;
    if failed && let Some(rt) = rt {
        // Best effort: what stays (Docker failing) is removed by the next start's preflight,
        // `service prune` or the daemon's reaper, as the service is now failed.
        if let Err(e) = sweep::remove_all(deps, rt.as_ref(), &svc.id).await {
            tracing::warn!(service = %svc.id, "cannot remove its containers: {e}");
        }
    }
    let mut attempts = svc.attempts.clone();
    if failed && svc.status == Status::Starting {
        attempts.push(start_ended(&svc, &reason));
    }
    let change = Change {
        to,
        last_error: if failed {
            Some(reason.clone())
        } else {
            svc.last_error.clone()
        },
        attempts,
        container_id: if failed {
            None
        } else {
            svc.container_id.clone()
        },
        owner: None,
    };
    tracing::info!(service = %svc.id, to = to.as_str(), "{reason}");
    match store.change_observed(&svc.id, &[svc.status], change).await? {
        Some(changed) => Ok(changed),
        // Another reader (the daemon's reconciler, a CLI command) acted first: show the row as
        // it now is, not the state both of us found stale.
        None => store.get_service(&svc.id).await,
    }
}

/// How the reason recorded for an engine that ended by itself with code 0 begins.
const CLEAN_EXIT: &str = "the engine exited with code 0";

/// Whether `reason`, a recorded failure, says the engine ended by itself with code 0: the one
/// death of a running engine that `on-failure` does not restart.
pub(crate) fn exited_cleanly(reason: &str) -> bool {
    reason
        .strip_prefix(CLEAN_EXIT)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(':') || rest.starts_with(" ("))
}

/// The attempt that ends a start found failed on a later look, so that the last attempt always
/// says how a failed start ended: its process died (interrupted), or its engine did not come up
/// after the start detached (health).
fn start_ended(svc: &Service, reason: &str) -> Attempt {
    let (phase, code) = if svc.owner.is_some() {
        (Phase::Interrupted, Kind::Interrupted)
    } else {
        (Phase::Health, Kind::StartFailed)
    };
    Attempt {
        number: svc.attempts.len() as u32 + 1,
        phase,
        // From the last recorded change: the claim, or the hand-over of a detached start.
        elapsed_ms: (crate::clock::now_ms() - svc.updated_at).max(0) as u64,
        reason: reason.to_owned(),
        code: Some(code.code().to_owned()),
        log_tail: Vec::new(),
    }
}

/// For a detached start or a running service: has its container come up, or gone away?
async fn look_at_container(
    deps: &Deps,
    rt: &dyn Runtime,
    svc: &Service,
) -> Option<(Status, String)> {
    let Some(container) = &svc.container_id else {
        return Some((
            Status::Failed,
            "no container is recorded for this service".to_owned(),
        ));
    };
    let state = match rt.state(container).await {
        Ok(state) => state,
        Err(RuntimeError::NoSuchContainer(_)) => {
            return Some((
                Status::Failed,
                format!("its container {} is gone", container.short()),
            ));
        }
        Err(_) => return None,
    };
    if !state.running && state.oom_killed {
        let limit = svc
            .memory_bytes
            .or(deps.config.engine(svc.engine_type).limits.memory_bytes)
            .map_or_else(|| "its default share of the host".to_owned(), size_text);
        return Some((
            Status::Failed,
            format!(
                "out of memory: the kernel's OOM killer stopped the engine at its memory limit of {limit}"
            ),
        ));
    }
    if !state.running {
        let logs = rt.logs_tail(container, 20).await.unwrap_or_default();
        return Some((
            Status::Failed,
            format!("the engine exited {}", exit_summary(state.exit_code, &logs)),
        ));
    }
    if svc.status == Status::Starting {
        let path = &deps.config.engine(svc.engine_type).health_path;
        // On a Swarm the engine answers on its node's address.
        let reach = match rt.placement(container).await {
            Ok(Some(placed)) => std::net::SocketAddr::new(placed.address, svc.port.get()),
            _ => svc.local_address(),
        };
        if deps.host.health_status(reach, path).await == Some(200) {
            return Some((
                Status::Running,
                "the engine answered its health check".to_owned(),
            ));
        }
    }
    None
}

