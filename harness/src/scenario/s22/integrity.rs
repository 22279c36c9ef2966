//! `PRAGMA integrity_check` on aima's database, opened read-only while no daemon runs.

use std::path::Path;

/// SQLite's answer (`ok` when sound), or why the check could not run.
pub fn integrity_check(db: &Path) -> Result<String, String> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| format!("cannot open {}: {e}", db.display()))?;
    let rows: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut stmt| {
            stmt.query_map([], |row| row.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| format!("integrity_check failed to run: {e}"))?;
    Ok(rows.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sound_database_is_ok_and_garbage_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
            .unwrap();
        assert_eq!(integrity_check(&db).unwrap(), "ok");
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, vec![7u8; 4096]).unwrap();
        assert!(integrity_check(&junk).map(|r| r != "ok").unwrap_or(true));
    }
}
