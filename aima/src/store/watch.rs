//! The daemon's liveness watch on service rows: an engine that stopped answering is recorded
//! failed, and one that stayed healthy long enough has its restarts forgiven. Both changes
//! hold only while the row still runs the container that was watched, so an operator's stop
//! (or a restart) that came first wins.

use rusqlite::params;

use super::Store;
use crate::clock;
use crate::domain::{ContainerId, Service, ServiceId};
use crate::error::Result;

impl Store {
    /// The engine in `container` stopped answering: the row reads `failed` with `reason` and
    /// no container. `None` when the row no longer runs that container.
    pub(crate) fn fail_unanswering(
        &mut self,
        id: &ServiceId,
        container: &ContainerId,
        reason: &str,
    ) -> Result<Option<Service>> {
        let acting = self.acting.clone();
        let changed = self.write(|tx| {
            Ok(tx.execute(
                "UPDATE services SET status = 'failed', last_error = ?3, container_id = NULL,
                    updated_at = max(?4, updated_at + 1), changed_by = ?5
                 WHERE id = ?1 AND status = 'running' AND container_id = ?2",
                params![id.as_str(), container.as_str(), reason, clock::now_ms(), acting],
            )?)
        })?;
        if changed == 0 {
            return Ok(None);
        }
        self.get_service(id).map(Some)
    }

    /// The engine in `container` stayed healthy long enough: its restarts in a row start over
    /// from 0. False when the row no longer runs that container, or counted none.
    pub(crate) fn forgive_restarts(
        &mut self,
        id: &ServiceId,
        container: &ContainerId,
    ) -> Result<bool> {
        let changed = self.write(|tx| {
            Ok(tx.execute(
                "UPDATE services SET restarts = 0
                 WHERE id = ?1 AND status = 'running' AND container_id = ?2 AND restarts > 0",
                params![id.as_str(), container.as_str()],
            )?)
        })?;
        Ok(changed == 1)
    }
}
