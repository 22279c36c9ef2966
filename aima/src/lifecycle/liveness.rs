//! What the daemon's liveness watch does to a service (the watch itself, its probes and its
//! counting, is `daemon::liveness`): an engine that stopped answering is recorded `failed`
//! and its containers removed — the supervisor then answers that failure per the service's
//! policy, as it answers an engine that exited — and an engine that stayed healthy long enough
//! has its restarts in a row forgiven.

use super::{Deps, sweep};
use crate::domain::{ContainerId, Service, ServiceId};
use crate::error::Result;
use crate::store::StoreHandle;

/// Records the engine of `id` in `container` as dead for `reason` and removes the service's
/// containers. `None` (and nothing removed) when the row no longer runs that container: an
/// operator's stop, or another reader, came first.
pub(crate) async fn fail_unanswering(
    deps: &Deps,
    store: &StoreHandle,
    id: &ServiceId,
    container: &ContainerId,
    reason: String,
) -> Result<Option<Service>> {
    let (row, box_id) = (id.clone(), container.clone());
    let failed = store
        .call(move |s| s.fail_unanswering(&row, &box_id, &reason))
        .await?;
    let Some(failed) = failed else {
        return Ok(None);
    };
    tracing::warn!(service = %id, container = %container.short(), "taken for dead: {}",
        failed.last_error.as_deref().unwrap_or_default());
    // The row no longer names a container: what this cannot remove now, the next start's
    // preflight, `service prune` or the daemon's reaper removes.
    match deps.docker().await {
        Ok(rt) => {
            if let Err(e) = sweep::remove_all(deps, rt.as_ref(), id).await {
                tracing::warn!(service = %id, "cannot remove its containers: {e}");
            }
        }
        Err(e) => tracing::warn!(service = %id, "cannot remove its containers: {}", e.message),
    }
    Ok(Some(failed))
}

/// Starts the restarts in a row of `id` over, while it still runs `container`.
pub(crate) async fn forgive_restarts(
    store: &StoreHandle,
    id: &ServiceId,
    container: &ContainerId,
) -> Result<bool> {
    let (row, box_id) = (id.clone(), container.clone());
    let forgiven = store
        .call(move |s| s.forgive_restarts(&row, &box_id))
        .await?;
    if forgiven {
        tracing::info!(service = %id, "healthy for a while: restarts in a row start over");
    }
    Ok(forgiven)
}
