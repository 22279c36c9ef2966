//! Removing an engine's Swarm service so that its port is free on its node when the removal
//! returns, wherever that node is.

use std::time::{Duration, Instant};

use bollard::models::{ServiceSpecMode, ServiceSpecModeReplicated};
use bollard::query_parameters::UpdateServiceOptionsBuilder;

use super::tasks::TaskView;
use super::{SwarmRuntime, WATCH};
use crate::runtime::docker::CALL_SECS;
use crate::domain::ContainerId;
use crate::runtime::{Runtime, RuntimeError, RuntimeResult};

/// How long nothing of the service may show before its removal counts as done: a task
/// container the node was still creating shows up a moment after its task is gone.
const QUIET: Duration = Duration::from_secs(1);

impl SwarmRuntime {
    /// Removes the service, so that its port is free on its node when this returns: its task
    /// containers on this node are stopped with `grace` (`None`: killed); the service is scaled
    /// to no replica and its tasks on other nodes waited for until their node reports them
    /// down (once removed, the Swarm no longer says); then the service is removed.
    pub(super) async fn remove_service(&self, id: &ContainerId, grace: Option<u32>) -> RuntimeResult<()> {
        for c in self.local_containers(id).await? {
            match grace {
                None => self.docker.stop_and_remove(&c.id, true).await?,
                Some(secs) => self.docker.stop_within(&c.id, secs).await?,
            }
        }
        let secs = CALL_SECS + u64::from(grace.unwrap_or(0));
        if self.scale_to_zero(id).await? {
            let until = Instant::now() + Duration::from_secs(secs);
            while self
                .tasks(Some(id.as_str()))
                .await?
                .iter()
                .any(|t| t.state == "running")
                && Instant::now() < until
            {
                tokio::time::sleep(WATCH).await;
            }
        }
        match self
            .docker
            .bounded(
                "remove Swarm service",
                CALL_SECS,
                self.docker.client().delete_service(id.as_str()),
            )
            .await
        {
            Ok(()) | Err(RuntimeError::Api { status: 404, .. }) => {}
            Err(e) => return Err(e),
        }
        let until = Instant::now() + Duration::from_secs(secs);
        let mut clean_since: Option<Instant> = None;
        loop {
            let tasks_left = self.tasks(Some(id.as_str())).await?.iter().any(TaskView::is_active);
            let containers = self.local_containers(id).await?;
            if !tasks_left {
                // A node may still be creating the container of a task the Swarm has already
                // dropped (a service removed moments after it was made): nobody else will
                // remove it before it shows, so this removal does.
                for c in &containers {
                    self.docker.stop_and_remove(&c.id, true).await?;
                }
            }
            if tasks_left || !containers.is_empty() {
                clean_since = None;
            } else if clean_since.get_or_insert_with(Instant::now).elapsed() >= QUIET {
                return Ok(());
            }
            if Instant::now() >= until {
                return Err(RuntimeError::Timeout {
                    address: self.address(),
                    operation: "removing the Swarm service's tasks",
                    secs: until.elapsed().as_secs(),
                });
            }
            tokio::time::sleep(WATCH).await;
        }
    }

    /// Sets the service's replicas to 0 (its tasks' nodes stop them with the grace period of
    /// its spec); false when there is no such service.
    async fn scale_to_zero(&self, id: &ContainerId) -> RuntimeResult<bool> {
        let client = self.docker.client();
        let service = match self
            .docker
            .bounded(
                "inspect Swarm service",
                CALL_SECS,
                client.inspect_service(id.as_str(), None),
            )
            .await
        {
            Ok(service) => service,
            Err(RuntimeError::Api { status: 404, .. }) => return Ok(false),
            Err(e) => return Err(e),
        };
        let (Some(mut spec), Some(version)) = (service.spec, service.version.and_then(|v| v.index))
        else {
            return Ok(true);
        };
        spec.mode = Some(ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated { replicas: Some(0) }),
            ..Default::default()
        });
        let options = UpdateServiceOptionsBuilder::new()
            .version(i32::try_from(version).unwrap_or(i32::MAX))
            .build();
        match self
            .docker
            .bounded(
                "scale Swarm service",
                CALL_SECS,
                client.update_service(id.as_str(), spec, options, None),
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(RuntimeError::Api { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
