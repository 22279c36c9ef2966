//! Schema migrations: an append-only list applied in order, tracked by `PRAGMA user_version`.

use rusqlite::{Connection, Transaction};

use super::StoreError;
use crate::error::Result;

/// Never edit an entry once released: add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: models and services. `seq` gives creation order; ids are what people see.
    "CREATE TABLE models (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        source TEXT NOT NULL,
        repo TEXT NOT NULL,
        path TEXT,
        model_type TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE services (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        model_id TEXT NOT NULL REFERENCES models(id),
        engine_type TEXT NOT NULL,
        port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
        status TEXT NOT NULL,
        last_error TEXT,
        attempts TEXT NOT NULL DEFAULT '[]',
        container_id TEXT,
        owner_pid INTEGER,
        owner_start_time INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX services_by_status ON services(status);",
    // 2: the host address a service publishes on. Rows from before published on every address;
    // they move to the safe default, loopback.
    "ALTER TABLE services ADD COLUMN bind TEXT NOT NULL DEFAULT '127.0.0.1';",
    // 3: who owns a start beyond pid + start time: boot id, PID namespace, and a lease the
    // owner's heartbeat renews. Owners recorded before have none: their lease counts as lapsed.
    "ALTER TABLE services ADD COLUMN owner_boot_id TEXT;
    ALTER TABLE services ADD COLUMN owner_pid_ns INTEGER;
    ALTER TABLE services ADD COLUMN owner_lease_until INTEGER;",
    // 4: the change log of services, written by triggers so that every writer (any CLI process,
    // the daemon) records its changes in the same transaction; the daemon tails it for
    // `/api/v2/events` and `/metrics`. `began_at` is when the start that ended here claimed the
    // service. The newest 10,000 events are kept.
    "CREATE TABLE service_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        service_id TEXT NOT NULL,
        name TEXT NOT NULL,
        at INTEGER NOT NULL,
        from_status TEXT,
        to_status TEXT NOT NULL,
        last_error TEXT,
        attempt TEXT,
        began_at INTEGER
    );
    CREATE INDEX service_events_by_service ON service_events(service_id, seq);
    CREATE TRIGGER service_created AFTER INSERT ON services BEGIN
        INSERT INTO service_events (service_id, name, at, to_status)
        VALUES (NEW.id, NEW.name, NEW.updated_at, NEW.status);
    END;
    CREATE TRIGGER service_status_changed AFTER UPDATE OF status ON services
    WHEN OLD.status IS NOT NEW.status BEGIN
        INSERT INTO service_events
            (service_id, name, at, from_status, to_status, last_error, attempt, began_at)
        VALUES (NEW.id, NEW.name, NEW.updated_at, OLD.status, NEW.status, NEW.last_error,
            json_extract(NEW.attempts, '$[#-1]'),
            CASE WHEN OLD.status = 'starting' THEN
                (SELECT at FROM service_events
                 WHERE service_id = NEW.id AND to_status = 'starting'
                 ORDER BY seq DESC LIMIT 1)
            END);
    END;
    CREATE TRIGGER service_deleted AFTER DELETE ON services BEGIN
        INSERT INTO service_events (service_id, name, at, from_status, to_status)
        VALUES (OLD.id, OLD.name, CAST(unixepoch('subsec') * 1000 AS INTEGER), OLD.status,
            'deleted');
    END;
    CREATE TRIGGER service_events_bounded AFTER INSERT ON service_events BEGIN
        DELETE FROM service_events WHERE seq <= NEW.seq - 10000;
    END;",
    // 5: per-service resources: the GPUs chosen at create (`all`, `none`, `count=N`, `0,1`) and
    // a memory limit in bytes. Both NULL for rows from before: the engine's configuration
    // decides for them at each start.
    "ALTER TABLE services ADD COLUMN gpus TEXT;
    ALTER TABLE services ADD COLUMN memory_bytes INTEGER;",
    // 6: which claim owns a `starting`/`stopping` row (one daemon process makes many claims),
    // and the claim of a start that a stop displaced, until that starter has removed what it
    // created: the stop waits for it (see lifecycle::stop).
    "ALTER TABLE services ADD COLUMN owner_claim INTEGER;
    ALTER TABLE services ADD COLUMN yielding_claim INTEGER;",
    // 7: supervision. What the operator asked for (`desired`) apart from `status`: rows that
    // were running or starting were asked to run, the rest were not. The restart policy in
    // Docker's words (`no` for rows from before, today's behaviour), the restarts made in a row
    // and when the next one is due (while `backoff`).
    "ALTER TABLE services ADD COLUMN desired TEXT NOT NULL DEFAULT 'stopped';
    UPDATE services SET desired = 'running' WHERE status IN ('running', 'starting');
    ALTER TABLE services ADD COLUMN restart_policy TEXT NOT NULL DEFAULT 'no';
    ALTER TABLE services ADD COLUMN restarts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE services ADD COLUMN next_restart_at INTEGER;",
    // 8: the supervisor's events in the change log. `kind` is `status` for a plain change of
    // status, `backoff` when a restart is scheduled (this trigger), `restarting` when the
    // supervisor claims it and `gave_up` when it stops trying (both written by the store, see
    // store::supervision); `restarts` is the restart's number, `reason` the failure answered.
    "ALTER TABLE service_events ADD COLUMN kind TEXT NOT NULL DEFAULT 'status';
    ALTER TABLE service_events ADD COLUMN restarts INTEGER;
    ALTER TABLE service_events ADD COLUMN next_restart_at INTEGER;
    ALTER TABLE service_events ADD COLUMN reason TEXT;
    DROP TRIGGER service_status_changed;
    CREATE TRIGGER service_status_changed AFTER UPDATE OF status ON services
    WHEN OLD.status IS NOT NEW.status BEGIN
        INSERT INTO service_events
            (service_id, name, at, from_status, to_status, last_error, attempt, began_at, kind,
             restarts, next_restart_at, reason)
        VALUES (NEW.id, NEW.name, NEW.updated_at, OLD.status, NEW.status, NEW.last_error,
            json_extract(NEW.attempts, '$[#-1]'),
            CASE WHEN OLD.status = 'starting' THEN
                (SELECT at FROM service_events
                 WHERE service_id = NEW.id AND to_status = 'starting'
                 ORDER BY seq DESC LIMIT 1)
            END,
            CASE WHEN NEW.status = 'backoff' THEN 'backoff' ELSE 'status' END,
            CASE WHEN NEW.status = 'backoff' THEN NEW.restarts END,
            CASE WHEN NEW.status = 'backoff' THEN NEW.next_restart_at END,
            CASE WHEN NEW.status = 'backoff' THEN NEW.last_error END);
    END;",
    // 9: a service's own engine settings (image, arguments, environment, shm size) as JSON,
    // secrets in clear: the database is private to the data dir's owner (mode 0600). `{}` for
    // rows from before: the engine's settings decide, as they did.
    "ALTER TABLE services ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';",
    // 10: who. The user who registered a model or created a service (its owner), who last
    // started a service, and who made each change in the log. `changed_by` is the user behind
    // a service row's newest write: every write that changes a status sets it, and the
    // triggers copy it into the event. NULL for rows and events from before: only admins may
    // change services nobody owns. Named API tokens, kept as SHA-256 hashes only.
    "ALTER TABLE models ADD COLUMN created_by TEXT;
    ALTER TABLE services ADD COLUMN created_by TEXT;
    ALTER TABLE services ADD COLUMN started_by TEXT;
    ALTER TABLE services ADD COLUMN changed_by TEXT;
    ALTER TABLE service_events ADD COLUMN actor TEXT;
    CREATE TABLE api_tokens (
        name TEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        admin INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        created_by TEXT
    );
    DROP TRIGGER service_created;
    CREATE TRIGGER service_created AFTER INSERT ON services BEGIN
        INSERT INTO service_events (service_id, name, at, to_status, actor)
        VALUES (NEW.id, NEW.name, NEW.updated_at, NEW.status, NEW.changed_by);
    END;
    DROP TRIGGER service_status_changed;
    CREATE TRIGGER service_status_changed AFTER UPDATE OF status ON services
    WHEN OLD.status IS NOT NEW.status BEGIN
        INSERT INTO service_events
            (service_id, name, at, from_status, to_status, last_error, attempt, began_at, kind,
             restarts, next_restart_at, reason, actor)
        VALUES (NEW.id, NEW.name, NEW.updated_at, OLD.status, NEW.status, NEW.last_error,
            json_extract(NEW.attempts, '$[#-1]'),
            CASE WHEN OLD.status = 'starting' THEN
                (SELECT at FROM service_events
                 WHERE service_id = NEW.id AND to_status = 'starting'
                 ORDER BY seq DESC LIMIT 1)
            END,
            CASE WHEN NEW.status = 'backoff' THEN 'backoff' ELSE 'status' END,
            CASE WHEN NEW.status = 'backoff' THEN NEW.restarts END,
            CASE WHEN NEW.status = 'backoff' THEN NEW.next_restart_at END,
            CASE WHEN NEW.status = 'backoff' THEN NEW.last_error END,
            NEW.changed_by);
    END;
    DROP TRIGGER service_deleted;
    CREATE TRIGGER service_deleted AFTER DELETE ON services BEGIN
        INSERT INTO service_events (service_id, name, at, from_status, to_status, actor)
        VALUES (OLD.id, OLD.name, CAST(unixepoch('subsec') * 1000 AS INTEGER), OLD.status,
            'deleted', OLD.changed_by);
    END;",
];

/// The schema version this build migrates to.
pub fn known() -> usize {
    MIGRATIONS.len()
}

/// The schema version this build writes: the number of migrations.
#[cfg(any(test, feature = "test-support"))]
pub const LATEST: usize = MIGRATIONS.len();

/// Whether the schema needs migrating; a read, so it never waits for the write lock.
/// A schema newer than this build knows is refused.
pub fn behind(conn: &Connection) -> Result<bool> {
    Ok(checked_version(conn)? < MIGRATIONS.len())
}

/// Applies the missing migrations; checks the version again under the write lock, as another
/// process may have migrated since [`behind`] looked.
pub fn apply(tx: &Transaction<'_>) -> Result<()> {
    let version = checked_version(tx)?;
    if version == MIGRATIONS.len() {
        return Ok(());
    }
    for sql in &MIGRATIONS[version..] {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", MIGRATIONS.len())?;
    Ok(())
}

/// A database at schema version `n`: what an older aima left.
#[cfg(test)]
pub(super) fn apply_first(conn: &Connection, n: usize) {
    for sql in &MIGRATIONS[..n] {
        conn.execute_batch(sql).unwrap();
    }
    conn.pragma_update(None, "user_version", n).unwrap();
}

fn checked_version(conn: &Connection) -> Result<usize> {
    let version: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::SchemaTooNew {
            found: version,
            known: MIGRATIONS.len(),
        }
        .into());
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use crate::store::Store;

    #[test]
    fn migrations_apply_once_and_reach_latest_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aima.db");
        drop(Store::open(&path).unwrap());
        let store = Store::open(&path).unwrap();
        let v: usize = store
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, super::MIGRATIONS.len());
        store.check_integrity().unwrap();
    }

    /// Another process holds the write lock for the whole test: opening a current store only
    /// reads, so it neither waits for the lock (the busy timeout would fail it) nor writes.
    #[test]
    fn opening_a_current_store_takes_no_write_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aima.db");
        drop(Store::open(&path).unwrap());
        let holder = rusqlite::Connection::open(&path).unwrap();
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
        let wal = dir.path().join("aima.db-wal");
        let wal_before = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        let store = Store::open(&path).unwrap();
        store.readable().unwrap();
        assert!(store.list_models().unwrap().is_empty());
        let wal_after = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert_eq!(
            wal_before, wal_after,
            "opening and reading wrote to the WAL"
        );
        holder.execute_batch("ROLLBACK").unwrap();
    }

    /// Rows from before supervision: running and starting ones were asked to run, the rest
    /// not; all get policy `no` (today's behaviour) and no restarts.
    #[test]
    fn supervision_migrates_desired_state_from_status() {
        use crate::domain::{Desired, RestartPolicy, Status};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aima.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        for sql in &super::MIGRATIONS[..6] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 6).unwrap();
        conn.execute_batch(
            "INSERT INTO models (id, name, source, repo, model_type, created_at)
             VALUES ('model-00000001', 'm', 'ollama', 'r', 'llm', 0);",
        )
        .unwrap();
        let statuses = ["created", "starting", "running", "stopping", "stopped", "failed"];
        for (n, status) in statuses.iter().enumerate() {
            conn.execute(
                "INSERT INTO services (id, name, model_id, engine_type, port, status, created_at,
                    updated_at)
                 VALUES (?1, ?2, 'model-00000001', 'vllm', ?3, ?2, 0, 0)",
                rusqlite::params![format!("svc-{n:08x}"), status, 8000 + n as i64],
            )
            .unwrap();
        }
        drop(conn);

        let store = Store::open(&path).unwrap();

        for svc in store.list_services().unwrap() {
            let want = match svc.status {
                Status::Running | Status::Starting => Desired::Running,
                _ => Desired::Stopped,
            };
            assert_eq!(svc.desired, want, "{}", svc.name);
            assert_eq!((svc.restart, svc.restarts), (RestartPolicy::No, 0));
            assert_eq!(svc.next_restart_at, None);
        }
    }

    /// Events logged before the supervisor's kinds existed read as plain changes of status,
    /// and the trigger that replaced the old one still logs every change.
    #[test]
    fn events_from_before_kinds_read_as_status_changes() {
        use crate::store::EventKind;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aima.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        super::apply_first(&conn, 7);
        conn.execute_batch(
            "INSERT INTO models (id, name, source, repo, model_type, created_at)
             VALUES ('model-00000001', 'm', 'ollama', 'r', 'llm', 0);
             INSERT INTO services (id, name, model_id, engine_type, port, status, created_at,
                updated_at)
             VALUES ('svc-00000001', 's', 'model-00000001', 'vllm', 8000, 'created', 0, 0);
             UPDATE services SET status = 'starting', updated_at = 1;",
        )
        .unwrap();
        drop(conn);

        let store = Store::open(&path).unwrap();
        store
            .conn()
            .execute_batch("UPDATE services SET status = 'failed', updated_at = 2")
            .unwrap();

        let events = store.events_after(0, 10).unwrap();
        let seen: Vec<_> = events.iter().map(|e| (e.kind, e.to.as_str(), e.restart)).collect();
        assert_eq!(
            seen,
            [
                (EventKind::Status, "created", None),
                (EventKind::Status, "starting", None),
                (EventKind::Status, "failed", None),
            ]
        );
        assert_eq!(events[2].began_at, Some(1), "the start's claim, as before");
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aima.db");
        drop(Store::open(&path).unwrap());
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = Store::open(&path).err().unwrap();
        assert!(err.message.contains("schema version 99"), "{}", err.message);
    }
}
