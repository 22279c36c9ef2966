//! The upgrade fixtures (`tests/fixtures/upgrade/vN.sql`, one data dir per released schema
//! version, used by the CLI's upgrade tests) hold exactly the schema the first N migrations
//! make: a fixture cannot drift from the migrations it stands for, and a new migration without
//! its fixture fails here.

use rusqlite::Connection;

use super::migrations::{LATEST, apply_first};

const FIXTURES: &[&str] = &[
    include_str!("../../tests/fixtures/upgrade/v1.sql"),
    include_str!("../../tests/fixtures/upgrade/v2.sql"),
    include_str!("../../tests/fixtures/upgrade/v3.sql"),
    include_str!("../../tests/fixtures/upgrade/v4.sql"),
    include_str!("../../tests/fixtures/upgrade/v5.sql"),
    include_str!("../../tests/fixtures/upgrade/v6.sql"),
    include_str!("../../tests/fixtures/upgrade/v7.sql"),
    include_str!("../../tests/fixtures/upgrade/v8.sql"),
    include_str!("../../tests/fixtures/upgrade/v9.sql"),
    include_str!("../../tests/fixtures/upgrade/v10.sql"),
];

/// Every table, index and trigger with its SQL, whitespace folded.
fn schema(conn: &Connection) -> Vec<(String, String, String)> {
    let mut stmt = conn
        .prepare(
            "SELECT type, name, sql FROM sqlite_master
             WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
        )
        .unwrap();
    stmt.query_map([], |r| {
        let sql: String = r.get(2)?;
        Ok((
            r.get(0)?,
            r.get(1)?,
            sql.split_whitespace().collect::<Vec<_>>().join(" "),
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

#[test]
fn every_schema_version_has_a_fixture() {
    assert_eq!(
        FIXTURES.len(),
        LATEST,
        "add tests/fixtures/upgrade/v{}.sql (make_fixture.py) for the new migration",
        LATEST
    );
}

#[test]
fn each_fixture_holds_the_schema_of_its_version() {
    for (i, sql) in FIXTURES.iter().enumerate() {
        let version = i + 1;
        let fixture = Connection::open_in_memory().unwrap();
        fixture.execute_batch(sql).unwrap();
        let found: usize = fixture
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(found, version, "v{version}.sql");
        let migrated = Connection::open_in_memory().unwrap();
        apply_first(&migrated, version);
        assert_eq!(schema(&fixture), schema(&migrated), "v{version}.sql");
    }
}
