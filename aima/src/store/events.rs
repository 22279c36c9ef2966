//! The services' change log (`service_events`), written by triggers in every writer's own
//! transaction, so changes made by CLI processes and by the daemon alike are in it, in order.

use rusqlite::{Row, params};
use serde::Serialize;

use super::Store;
use crate::domain::{Attempt, Status};
use crate::error::Result;

/// What an event tells: a change of status, or a step of the supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A service was created, changed status or was deleted.
    Status,
    /// The supervisor scheduled a restart (the service now reads `backoff`).
    Backoff,
    /// The supervisor began a scheduled restart (`backoff` → `starting`).
    Restarting,
    /// The supervisor stopped restarting (the service stays `failed`).
    GaveUp,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Status => "status",
            EventKind::Backoff => "backoff",
            EventKind::Restarting => "restarting",
            EventKind::GaveUp => "gave_up",
        }
    }

    /// Kinds this build does not know read as `status`: a change is still a change.
    fn parse(s: &str) -> Self {
        [EventKind::Backoff, EventKind::Restarting, EventKind::GaveUp]
            .into_iter()
            .find(|k| k.as_str() == s)
            .unwrap_or(EventKind::Status)
    }
}

/// One change of a service: created (`from` absent), a transition, `deleted`, or a step of the
/// supervisor (`kind`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ServiceEvent {
    /// Increases with every change; resume a stream after it (`Last-Event-ID`).
    pub seq: i64,
    pub kind: EventKind,
    pub service_id: String,
    pub name: String,
    #[serde(serialize_with = "as_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: i64,
    /// The status before; null when the service was created.
    pub from: Option<String>,
    /// A status, or `deleted`.
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The service's last start attempt when it changed, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<Attempt>,
    /// The supervisor's events: the number of the restart scheduled (`backoff`), begun
    /// (`restarting`), or made in a row before it gave up (`gave_up`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<u32>,
    /// `backoff`: when the restart is due.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_rfc3339"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_restart_at: Option<i64>,
    /// The supervisor's events: the failure it answers (`backoff`, `restarting`) or why it
    /// gave up (`gave_up`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who made the change: a user, `aima` for the daemon's own; null for changes from
    /// before aima recorded it.
    pub actor: Option<String>,
    /// For the end of a start: when that start claimed the service.
    #[serde(skip)]
    pub began_at: Option<i64>,
}

fn opt_rfc3339<S: serde::Serializer>(
    ms: &Option<i64>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => as_rfc3339(ms, s),
        None => s.serialize_none(),
    }
}

fn as_rfc3339<S: serde::Serializer>(ms: &i64, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&crate::clock::rfc3339(*ms))
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<ServiceEvent> {
    let attempt: Option<String> = r.get(7)?;
    Ok(ServiceEvent {
        seq: r.get(0)?,
        kind: EventKind::parse(&r.get::<_, String>(9)?),
        service_id: r.get(1)?,
        name: r.get(2)?,
        at: r.get(3)?,
        from: r.get(4)?,
        to: r.get(5)?,
        last_error: r.get(6)?,
        // An attempt this build cannot read is left out rather than failing the feed.
        attempt: attempt.and_then(|a| serde_json::from_str(&a).ok()),
        began_at: r.get(8)?,
        restart: r.get(10)?,
        next_restart_at: r.get(11)?,
        reason: r.get(12)?,
        actor: r.get(13)?,
    })
}

impl Store {
    /// Up to `limit` events after `seq`, oldest first.
    pub fn events_after(&self, seq: i64, limit: usize) -> Result<Vec<ServiceEvent>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT seq, service_id, name, at, from_status, to_status, last_error, attempt, began_at,
                kind, restarts, next_restart_at, reason, actor
             FROM service_events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![seq, limit as i64], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The newest `limit` events of one service, newest first (the status page's history).
    pub fn recent_events_of(&self, service_id: &str, limit: usize) -> Result<Vec<ServiceEvent>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT seq, service_id, name, at, from_status, to_status, last_error, attempt, began_at,
                kind, restarts, next_restart_at, reason, actor
             FROM service_events WHERE service_id = ?1 ORDER BY seq DESC LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![service_id, limit as i64], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The newest event's `seq` (0 when there is none).
    pub fn last_event_seq(&self) -> Result<i64> {
        Ok(self.conn().query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM service_events",
            [],
            |r| r.get(0),
        )?)
    }

    /// How many services are in each status, every status listed.
    pub fn count_by_status(&self) -> Result<Vec<(Status, u64)>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT status, COUNT(*) FROM services GROUP BY status")?;
        let counted: Vec<(String, u64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Status::ALL
            .into_iter()
            .map(|status| {
                let n = counted
                    .iter()
                    .find(|(s, _)| s == status.as_str())
                    .map_or(0, |(_, n)| *n);
                (status, n)
            })
            .collect())
    }
}
