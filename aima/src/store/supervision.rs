//! The supervisor's bookkeeping on service rows: desired state, restarts in a row and when the
//! next one is due. Every change is conditional, so an operator's verb that came first wins.

use rusqlite::params;

use super::Store;
use super::services::{Change, sql_list};
use crate::clock;
use crate::domain::{Desired, Service, ServiceId, Status};
use crate::error::Result;

impl Store {
    /// Records what the operator asked for while the row is in one of `while_in`; asking for
    /// `stopped` also cancels a restart that was due. False when the row had moved on.
    pub(crate) fn set_desired(
        &mut self,
        id: &ServiceId,
        desired: Desired,
        while_in: &[Status],
    ) -> Result<bool> {
        let changed = self.write(|tx| {
            Ok(tx.execute(
                &format!(
                    "UPDATE services SET desired = ?2,
                        next_restart_at = CASE WHEN ?2 = 'stopped' THEN NULL ELSE next_restart_at END
                     WHERE id = ?1 AND status IN ({})",
                    sql_list(while_in)
                ),
                params![id.as_str(), desired.as_str()],
            )?)
        })?;
        Ok(changed == 1)
    }

    /// An operator's start begins a new row of restarts.
    pub(crate) fn reset_restarts(&mut self, id: &ServiceId) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE services SET restarts = 0, next_restart_at = NULL WHERE id = ?1",
                [id.as_str()],
            )?;
            Ok(())
        })
    }

    /// The supervisor's answer to a failure it read at `seen` (the row's `updated_at`): the
    /// row reads `backoff` with restart number `restarts` due at `due`. `None` when the row
    /// changed since, or its operator no longer wants it running.
    pub(crate) fn schedule_restart(
        &mut self,
        id: &ServiceId,
        seen: i64,
        restarts: u32,
        due: i64,
    ) -> Result<Option<Service>> {
        let acting = self.acting.clone();
        let changed = self.write(|tx| {
            Ok(tx.execute(
                "UPDATE services SET status = 'backoff', restarts = ?3, next_restart_at = ?4,
                    updated_at = ?5, changed_by = ?6
                 WHERE id = ?1 AND status = 'failed' AND desired = 'running' AND updated_at = ?2",
                params![id.as_str(), seen, restarts, due, clock::now_ms(), acting],
            )?)
        })?;
        self.changed_row(id, changed)
    }

    /// The supervisor stops restarting a failure it read at `seen`: the row stays `failed`
    /// with `reason`, and is rewritten (its `updated_at` moves past the failure's), which marks
    /// the failure as answered.
    pub(crate) fn give_up(
        &mut self,
        id: &ServiceId,
        seen: i64,
        reason: &str,
    ) -> Result<Option<Service>> {
        let acting = self.acting.clone();
        let changed = self.write(|tx| {
            let changed = tx.execute(
                "UPDATE services SET last_error = ?3, next_restart_at = NULL,
                    updated_at = max(?4, updated_at + 1), changed_by = ?5
                 WHERE id = ?1 AND status = 'failed' AND updated_at = ?2",
                params![id.as_str(), seen, reason, clock::now_ms(), acting],
            )?;
            // No status changes, so no trigger writes this event: it is written here.
            if changed == 1 {
                tx.execute(
                    "INSERT INTO service_events (service_id, name, at, from_status, to_status,
                        last_error, kind, restarts, reason, actor)
                     SELECT id, name, updated_at, status, status, last_error, 'gave_up', restarts,
                        last_error, changed_by
                     FROM services WHERE id = ?1",
                    [id.as_str()],
                )?;
            }
            Ok(changed)
        })?;
        self.changed_row(id, changed)
    }

    /// The supervisor's claim of a restart that is due: the row leaves `backoff` for
    /// `starting` as [`Store::change_service`] would move it, and the change log tells that
    /// change as `restarting`, with the restart's number and the failure it answers.
    pub(crate) fn claim_restart(&mut self, id: &ServiceId, change: Change) -> Result<Option<Service>> {
        Ok(self
            .apply(id, &[Status::Backoff], None, false, change, Some(tag_restarting))?
            .0)
    }

    fn changed_row(&self, id: &ServiceId, changed: usize) -> Result<Option<Service>> {
        if changed == 0 {
            return Ok(None);
        }
        self.get_service(id).map(Some)
    }
}

/// Marks the change just logged for `id` (its claim from `backoff`) as the supervisor's restart.
fn tag_restarting(tx: &rusqlite::Transaction<'_>, id: &ServiceId) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE service_events SET kind = 'restarting',
            restarts = (SELECT restarts FROM services WHERE id = ?1),
            reason = (SELECT reason FROM service_events
                      WHERE service_id = ?1 AND kind = 'backoff' ORDER BY seq DESC LIMIT 1)
         WHERE seq = (SELECT MAX(seq) FROM service_events WHERE service_id = ?1)",
        [id.as_str()],
    )?;
    Ok(())
}
