//! Removing every container of a service, and confirming that Docker lists none afterwards.
//!
//! Docker lists a container being created before it can remove it: between reserving its
//! configuration and registering it, `docker ps` shows it (`Created`) while `docker rm` answers
//! "no such container", which the runtime takes for "already gone". So one pass of list-and-remove
//! can miss a container whose create was in flight, from a start just interrupted or killed.
//! The sweep lists again until none of the containers it first saw is left, for as long as
//! Docker may take to create one; containers that appear later are left to their own start.

use std::time::{Duration, Instant};

use super::{Deps, labels};
use crate::domain::{ContainerId, ServiceId};
use crate::runtime::{Runtime, RuntimeError, RuntimeResult};

/// Between two looks at a container Docker is still creating.
const POLL: Duration = Duration::from_millis(200);
/// How long a create may take before the start that asked gives up on it (Docker's call bound).
pub(super) const CREATE_WINDOW: Duration = Duration::from_secs(20);

/// Removes the service's containers until Docker lists none; returns how many were removed.
/// Fails with the last error if some are still listed after [`CREATE_WINDOW`].
pub(super) async fn remove_all(
    deps: &Deps,
    rt: &dyn Runtime,
    service: &ServiceId,
) -> RuntimeResult<usize> {
    let began = Instant::now();
    let mut removed = std::collections::HashSet::new();
    let mut first_look: Option<std::collections::HashSet<ContainerId>> = None;
    loop {
        let listed = labels::service_containers(rt, service, &deps.config).await?;
        // Only what the first look saw: a container that appears later belongs to a start that
        // began after this sweep (another process claimed the service meanwhile), not to us.
        let ours = first_look.get_or_insert_with(|| listed.iter().map(|c| c.id.clone()).collect());
        let listed: Vec<_> = listed
            .into_iter()
            .filter(|c| ours.contains(&c.id))
            .collect();
        if listed.is_empty() {
            return Ok(removed.len());
        }
        let mut last = None;
        for c in &listed {
            match rt.stop_and_remove(&c.id, true).await {
                Ok(()) => {
                    removed.insert(c.id.clone());
                }
                Err(e) => last = Some(e),
            }
        }
        if began.elapsed() >= CREATE_WINDOW {
            return Err(last.unwrap_or_else(|| RuntimeError::Timeout {
                address: rt.address(),
                operation: "removing the service's containers",
                secs: CREATE_WINDOW.as_secs(),
            }));
        }
        tracing::debug!(%service, listed = listed.len(), "removed its containers: looking again to confirm");
        tokio::time::sleep(POLL).await;
    }
}
