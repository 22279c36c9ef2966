//! Service rows: creation with port assignment, reads, and conditional status changes.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{OptionalExtension, Row, ToSql, Transaction, params};

use super::Store;
use super::models::bad_column;
use crate::clock;
use crate::domain::{
    PortRange,
    Attempt, ContainerId, Desired, EngineType, Gpus, HostPort, Model, ModelId, Owner,
    RestartPolicy, Service, ServiceId, ServiceSettings, Status, StoredSettings, endpoint_url,
};
use crate::error::{Error, Kind, Result};

const COLUMNS: &str = "id, name, model_id, engine_type, port, status, last_error, attempts, container_id, \
                       owner_pid, owner_start_time, created_at, updated_at, bind, \
                       owner_boot_id, owner_pid_ns, owner_lease_until, gpus, memory_bytes, owner_claim, \
                       desired, restart_policy, restarts, next_restart_at, settings, created_by, started_by";

/// A host port is stored as a plain integer (the column checks `BETWEEN 1 AND 65535`).
impl ToSql for HostPort {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(self.get().into())
    }
}

impl FromSql for HostPort {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let port = u16::column_result(value)?;
        HostPort::new(port).ok_or(FromSqlError::OutOfRange(0))
    }
}

/// A boot id as stored: 32 hex digits.
fn boot_id_text(id: u128) -> String {
    format!("{id:032x}")
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Service> {
    let engine: String = r.get(3)?;
    let status: String = r.get(5)?;
    let attempts: String = r.get(7)?;
    let owner = match (r.get::<_, Option<u32>>(9)?, r.get::<_, Option<i64>>(10)?) {
        (Some(pid), Some(start_time)) => Some(Owner {
            pid,
            start_time: start_time as u64,
            boot_id: r
                .get::<_, Option<String>>(14)?
                .and_then(|hex| u128::from_str_radix(&hex, 16).ok())
                .unwrap_or(0),
            pid_ns: r.get::<_, Option<i64>>(15)?.unwrap_or(0) as u64,
            lease_until: r.get::<_, Option<i64>>(16)?.unwrap_or(0),
            claim: r.get::<_, Option<i64>>(19)?.unwrap_or(0),
        }),
        _ => None,
    };
    let mut svc = Service {
        id: ServiceId::parse(&r.get::<_, String>(0)?).map_err(|e| bad_column(0, e))?,
        name: r.get(1)?,
        model_id: ModelId::parse(&r.get::<_, String>(2)?).map_err(|e| bad_column(2, e))?,
        engine_type: EngineType::parse(&engine)
            .ok_or_else(|| bad_column(3, format!("unknown engine {engine}")))?,
        port: r.get(4)?,
        bind: {
            let bind: String = r.get(13)?;
            bind.parse()
                .map_err(|_| bad_column(13, format!("bad bind address {bind}")))?
        },
        gpus: match r.get::<_, Option<String>>(17)? {
            Some(text) => Some(Gpus::from_stored(&text).map_err(|e| bad_column(17, e))?),
            None => None,
        },
        memory_bytes: r.get::<_, Option<i64>>(18)?.map(|b| b as u64),
        settings: {
            let text: String = r.get(24)?;
            serde_json::from_str::<StoredSettings>(&text)
                .map_err(|e| bad_column(24, e))?
                .into()
        },
        desired: {
            let desired: String = r.get(20)?;
            Desired::parse(&desired)
                .ok_or_else(|| bad_column(20, format!("unknown desired state {desired}")))?
        },
        restart: {
            let policy: String = r.get(21)?;
            RestartPolicy::parse(&policy)
                .ok_or_else(|| bad_column(21, format!("unknown restart policy {policy}")))?
        },
        restarts: r.get(22)?,
        next_restart_at: r.get(23)?,
        status: Status::parse(&status)
            .ok_or_else(|| bad_column(5, format!("unknown status {status}")))?,
        last_error: r.get(6)?,
        attempts: serde_json::from_str(&attempts).map_err(|e| bad_column(7, e))?,
        container_id: r.get::<_, Option<String>>(8)?.map(ContainerId::from),
        owner,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
        created_by: r.get(25)?,
        started_by: r.get(26)?,
        endpoint: String::new(),
    };
    svc.endpoint = endpoint_url(svc.local_address());
    Ok(svc)
}

/// What `service create` asks for; the port is chosen inside the write transaction.
pub(crate) struct NewService {
    pub model_id: ModelId,
    pub engine_type: EngineType,
    pub name: Option<String>,
    pub port: Option<HostPort>,
    pub default_port: HostPort,
    /// The range a picked port must lie in (the creator's `ports` quota).
    pub port_range: Option<PortRange>,
    pub bind: std::net::IpAddr,
    pub gpus: Gpus,
    pub memory_bytes: Option<u64>,
    pub restart: RestartPolicy,
    pub settings: ServiceSettings,
}

/// A status change applied only if the row is still in one of the expected states. It owns
/// what it records, so async code can hand it to the store's thread.
pub(crate) struct Change {
    pub to: Status,
    pub last_error: Option<String>,
    pub attempts: Vec<Attempt>,
    pub container_id: Option<ContainerId>,
    pub owner: Option<Owner>,
}

impl Store {
    pub(crate) fn create_service(&mut self, new: NewService) -> Result<Service> {
        let model = self.get_model(&new.model_id)?;
        let id = ServiceId::generate();
        self.insert_service(&model, &new, &id)?;
        self.get_service(&id)
    }

    /// The write half of [`Store::create_service`], for a model read beforehand.
    pub(super) fn insert_service(
        &mut self,
        model: &Model,
        new: &NewService,
        id: &ServiceId,
    ) -> Result<()> {
        self.room_for_new()?;
        let acting = self.acting.clone();
        self.write(|tx| {
            // The model was read before the write lock: it may have been deleted since.
            if !model_exists(tx, &new.model_id)? {
                return Err(Error::conflict(format!(
                    "model {} was deleted while this service was being created",
                    new.model_id
                ))
                .with_help("register the model again, then create the service"));
            }
            let port = match new.port {
                Some(port) => {
                    if let Some(holder) = port_holder(tx, port)? {
                        return Err(Error::conflict(format!("port {port} is already assigned to service {holder}"))
                            .with_help("choose another --port, or stop or delete that service first"));
                    }
                    port
                }
                None => first_free_port(tx, new.default_port, new.port_range)?,
            };
            let name = new.name.clone().unwrap_or_else(|| format!("{}-{}-{}", model.name, new.engine_type, &id.as_str()[4..8]));
            let now = clock::now_ms();
            tx.execute(
                "INSERT INTO services (id, name, model_id, engine_type, port, bind, status, created_at, updated_at, gpus, memory_bytes, restart_policy, settings, created_by, changed_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'created', ?7, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
                params![id.as_str(), name, new.model_id.as_str(), new.engine_type.as_str(), port, new.bind.to_string(), now,
                    new.gpus.to_string(), new.memory_bytes.map(|b| b as i64), new.restart.text(), stored(&new.settings)?, acting],
            )?;
            Ok(())
        })
    }

    pub(crate) fn list_services(&self) -> Result<Vec<Service>> {
        let mut stmt = self
            .conn()
            .prepare(&format!("SELECT {COLUMNS} FROM services ORDER BY seq"))?;
        let rows = stmt
            .query_map([], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Up to `limit` services created after `after` (from the start without it), oldest first,
    /// and how many there are in all; `None` when `after` names no service.
    pub(crate) fn services_after(
        &self,
        after: Option<&ServiceId>,
        limit: usize,
    ) -> Result<Option<(Vec<Service>, usize)>> {
        self.rows_after(
            "services",
            COLUMNS,
            after.map(ServiceId::as_str),
            limit,
            from_row,
        )
    }

    /// The row as recorded, without the refresh that `ops` reads do.
    pub fn get_service(&self, id: &ServiceId) -> Result<Service> {
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM services WHERE id = ?1"),
                [id.as_str()],
                from_row,
            )
            .optional()?
            .ok_or_else(|| Error::not_found("service", id.as_str()))
    }

    pub(crate) fn delete_service(&mut self, id: &ServiceId) -> Result<Service> {
        let svc = self.get_service(id)?;
        let acting = self.acting.clone();
        let deleted = self.write(|tx| {
            let deletable = format!("id = ?1 AND status NOT IN ({})", sql_list(&Status::BUSY));
            // Named first, in the same transaction, so the log's `deleted` entry names who
            // deleted it; a refused delete changes neither.
            tx.execute(
                &format!("UPDATE services SET changed_by = ?2 WHERE {deletable}"),
                params![id.as_str(), acting],
            )?;
            Ok(tx.execute(
                &format!("DELETE FROM services WHERE {deletable}"),
                [id.as_str()],
            )?)
        })?;
        if deleted == 0 {
            let now = self.get_service(id)?;
            return Err(Error::conflict(format!(
                "service {id} is {} and cannot be deleted",
                now.status.as_str()
            ))
            .with_help(format!("stop it first: aima service stop {id}")));
        }
        Ok(svc)
    }

    /// Applies `change` when the service is in one of `from`; returns the row as it ends up, or
    /// `None` when its status had moved on (someone else acted first).
    pub(crate) fn change_service(
        &mut self,
        id: &ServiceId,
        from: &[Status],
        change: Change,
    ) -> Result<Option<Service>> {
        Ok(self.apply(id, from, None, false, change, None)?.0)
    }

    /// As [`Store::change_service`], recorded as aima's own: a change that a reader makes
    /// because of what it found (an engine gone, a starter dead) is no one's action, whoever's
    /// command happened to look.
    pub(crate) fn change_observed(
        &mut self,
        id: &ServiceId,
        from: &[Status],
        change: Change,
    ) -> Result<Option<Service>> {
        let acting = self.acting.replace(crate::domain::DAEMON_NAME.to_owned());
        let changed = self.change_service(id, from, change);
        self.acting = acting;
        changed
    }

    /// Applies `change` only while the row is still `starting` under `claim`: a start that lost
    /// its claim (to a stop, or to a reader that took it for hung) records nothing.
    pub(crate) fn change_claimed(
        &mut self,
        id: &ServiceId,
        claim: i64,
        change: Change,
    ) -> Result<Option<Service>> {
        Ok(self
            .apply(id, &[Status::Starting], Some(claim), false, change, None)?
            .0)
    }

    /// A stop's claim: as [`Store::change_service`], and when it displaces a start in progress,
    /// that start's claim is recorded as yielding (until [`Store::yielded`]) and its owner
    /// returned, so the stop can wait for the starter to remove what it created.
    pub(crate) fn take_over(
        &mut self,
        id: &ServiceId,
        from: &[Status],
        change: Change,
    ) -> Result<(Option<Service>, Option<Owner>)> {
        self.apply(id, from, None, true, change, None)
    }

    /// `tag`, when given, runs in the change's transaction once the row has changed, so that
    /// the change log never shows the change without it (see [`Store::claim_restart`]).
    pub(super) fn apply(
        &mut self,
        id: &ServiceId,
        from: &[Status],
        claim: Option<i64>,
        displace: bool,
        change: Change,
        tag: Option<fn(&rusqlite::Transaction<'_>, &ServiceId) -> rusqlite::Result<()>>,
    ) -> Result<(Option<Service>, Option<Owner>)> {
        if change.to == Status::Starting {
            self.room_for_new()?;
        }
        let attempts = serde_json::to_string(&change.attempts)
            .map_err(|e| Error::internal("cannot encode attempts").caused_by(e))?;
        let acting = self.acting.clone();
        // A start's claim names its starter; the supervisor's restarts (tagged) keep the
        // operator's start as the one that asked for the service to run.
        let starts = change.to == Status::Starting && from != [Status::Starting] && tag.is_none();
        let (changed, displaced) = self.write(|tx| {
            let before = tx
                .query_row(
                    &format!("SELECT {COLUMNS} FROM services WHERE id = ?1"),
                    [id.as_str()],
                    from_row,
                )
                .optional()?;
            let displaced = before
                .filter(|svc| displace && svc.status == Status::Starting && from.contains(&svc.status))
                .and_then(|svc| svc.owner)
                .filter(|owner| owner.claim != 0);
            let changed = tx.execute(
                &format!(
                    "UPDATE services SET status = ?2, last_error = ?3, attempts = ?4, container_id = ?5,
                        owner_pid = ?6, owner_start_time = ?7, updated_at = ?8,
                        owner_boot_id = ?9, owner_pid_ns = ?10, owner_lease_until = ?11,
                        owner_claim = ?12, yielding_claim = coalesce(?13, yielding_claim),
                        changed_by = ?15,
                        started_by = CASE WHEN ?16 THEN ?15 ELSE started_by END
                     WHERE id = ?1 AND status IN ({}) AND (?14 IS NULL OR owner_claim = ?14)",
                    sql_list(from)
                ),
                params![
                    id.as_str(),
                    change.to.as_str(),
                    change.last_error.as_deref(),
                    attempts,
                    change.container_id.as_ref().map(ContainerId::as_str),
                    change.owner.map(|o| o.pid),
                    change.owner.map(|o| o.start_time as i64),
                    clock::now_ms(),
                    change.owner.map(|o| boot_id_text(o.boot_id)),
                    change.owner.map(|o| o.pid_ns as i64),
                    change.owner.map(|o| o.lease_until),
                    change.owner.map(|o| o.claim).filter(|c| *c != 0),
                    displaced.map(|o| o.claim),
                    claim,
                    acting,
                    starts,
                ],
            )?;
            if let Some(tag) = tag.filter(|_| changed == 1) {
                tag(tx, id)?;
            }
            Ok((changed, displaced))
        })?;
        if changed == 0 {
            Ok((None, None))
        } else {
            Ok((Some(self.get_service(id)?), displaced))
        }
    }

    /// A displaced starter is done: it removed what it created.
    pub(crate) fn yielded(&mut self, id: &ServiceId, claim: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE services SET yielding_claim = NULL WHERE id = ?1 AND yielding_claim = ?2",
                params![id.as_str(), claim],
            )?;
            Ok(())
        })
    }

    /// Whether the start that held `claim` still has to remove what it created.
    pub(crate) fn is_yielding(&self, id: &ServiceId, claim: i64) -> Result<bool> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM services WHERE id = ?1 AND yielding_claim = ?2",
                params![id.as_str(), claim],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Whether `claim` still holds the row in `status`: read often by the claim's holder.
    pub(crate) fn holds_claim(&self, id: &ServiceId, status: Status, claim: i64) -> Result<bool> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM services WHERE id = ?1 AND status = ?2 AND coalesce(owner_claim, 0) = ?3",
                params![id.as_str(), status.as_str(), claim],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }
}

fn model_exists(tx: &Transaction<'_>, id: &ModelId) -> Result<bool> {
    Ok(tx
        .query_row("SELECT 1 FROM models WHERE id = ?1", [id.as_str()], |_| {
            Ok(())
        })
        .optional()?
        .is_some())
}

impl Store {
    /// The owner's heartbeat: extends its lease to `until` while the service is still
    /// `status` and still its; false when it is not (stopped or taken over meanwhile).
    pub(crate) fn renew_lease(
        &mut self,
        id: &ServiceId,
        status: Status,
        owner: &Owner,
        until: i64,
    ) -> Result<bool> {
        let changed = self.write(|tx| {
            Ok(tx.execute(
                "UPDATE services SET owner_lease_until = ?5
                 WHERE id = ?1 AND status = ?2 AND owner_pid = ?3 AND owner_start_time = ?4
                   AND coalesce(owner_claim, 0) = ?6",
                params![
                    id.as_str(),
                    status.as_str(),
                    owner.pid,
                    owner.start_time as i64,
                    until,
                    owner.claim
                ],
            )?)
        })?;
        Ok(changed == 1)
    }
}

/// The service (other than stopped/failed ones) already holding `port`, if any.
fn port_holder(tx: &Transaction<'_>, port: HostPort) -> Result<Option<String>> {
    Ok(tx
        .query_row(
            &format!(
                "SELECT id FROM services WHERE port = ?1 AND status IN ({}) LIMIT 1",
                sql_list(&Status::HOLDS_PORT)
            ),
            [port],
            |r| r.get(0),
        )
        .optional()?)
}

fn first_free_port(
    tx: &Transaction<'_>,
    from: HostPort,
    range: Option<PortRange>,
) -> Result<HostPort> {
    let mut stmt = tx.prepare(&format!(
        "SELECT port FROM services WHERE status IN ({})",
        sql_list(&Status::HOLDS_PORT)
    ))?;
    let held: std::collections::HashSet<HostPort> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let Some(range) = range else {
        return std::iter::successors(Some(from), |p| p.next())
            .find(|p| !held.contains(p))
            .ok_or_else(|| {
                Error::conflict(format!("no free port at or above {from} for a new service"))
                    .with_help("pass --port, or delete services you no longer need")
            });
    };
    range
        .from_preferring(from)
        .find(|p| !held.contains(p))
        .ok_or_else(|| {
            Error::new(
                Kind::QuotaExceeded,
                format!("quota exceeded: every port of your range {range} is held by a service"),
            )
            .with_help("stop and delete a service you no longer need, or ask an admin to widen the range in config.toml")
        })
}

/// The settings as the `settings` column keeps them.
pub(super) fn stored(settings: &ServiceSettings) -> Result<String> {
    serde_json::to_string(&StoredSettings::from(settings))
        .map_err(|e| Error::internal("cannot encode a service's settings").caused_by(e))
}

/// `'created', 'starting'` for an SQL `IN (…)`; statuses are fixed identifiers, never user input.
pub(super) fn sql_list(states: &[Status]) -> String {
    let quoted: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
    quoted.join(", ")
}
