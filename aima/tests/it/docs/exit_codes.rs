//! The exit-code table of docs/lifecycle.md against [`Kind`]: one row per kind, with its exit
//! code, its JSON `code` and its HTTP status, and no row for a code aima does not use.

use aima::error::Kind;

use super::markdown::{code_spans, read, section, table_rows};

/// Every kind. The match has no wildcard, so a new kind does not compile until it is listed here
/// (and then documented).
fn every_kind() -> Vec<Kind> {
    let all = [
        Kind::Internal,
        Kind::Usage,
        Kind::NotFound,
        Kind::Conflict,
        Kind::PortInUse,
        Kind::GpuInUse,
        Kind::DockerUnavailable,
        Kind::StartFailed,
        Kind::Timeout,
        Kind::Storage,
        Kind::DiskFull,
        Kind::Engine,
        Kind::Forbidden,
        Kind::QuotaExceeded,
        Kind::Interrupted,
    ];
    for kind in all {
        match kind {
            Kind::Internal
            | Kind::Usage
            | Kind::NotFound
            | Kind::Conflict
            | Kind::PortInUse
            | Kind::GpuInUse
            | Kind::DockerUnavailable
            | Kind::StartFailed
            | Kind::Timeout
            | Kind::Storage
            | Kind::DiskFull
            | Kind::Engine
            | Kind::Forbidden
            | Kind::QuotaExceeded
            | Kind::Interrupted => {}
        }
    }
    all.to_vec()
}

/// A row of the table: exit code, JSON code (none for success), HTTP status (none for success).
struct Row {
    exit: u8,
    code: Option<String>,
    http: Option<u16>,
}

fn documented() -> Vec<Row> {
    let text = read("docs/lifecycle.md");
    table_rows(section(&text, "Exit codes"))
        .into_iter()
        .map(|cells| {
            assert!(
                cells.len() >= 4,
                "a row needs exit, code, HTTP, meaning: {cells:?}"
            );
            Row {
                exit: cells[0]
                    .parse()
                    .unwrap_or_else(|_| panic!("not an exit code: {:?}", cells[0])),
                code: code_spans(&cells[1]).first().map(|c| (*c).to_owned()),
                http: cells[2].parse().ok(),
            }
        })
        .collect()
}

#[test]
fn the_exit_code_table_lists_exactly_the_codes_of_kind() {
    let rows = documented();
    let kinds = every_kind();
    let mut problems = Vec::new();
    for kind in &kinds {
        let code = serde_json::to_value(kind).unwrap();
        let code = code.as_str().unwrap();
        match rows
            .iter()
            .filter(|r| r.exit == kind.exit_code())
            .collect::<Vec<_>>()[..]
        {
            [row] => {
                if row.code.as_deref() != Some(code) {
                    problems.push(format!(
                        "exit {}: the table says code {:?}, aima says {code:?}",
                        row.exit, row.code
                    ));
                }
                if row.http != Some(kind.http_status()) {
                    problems.push(format!(
                        "exit {} ({code}): the table says HTTP {:?}, aima answers {}",
                        row.exit,
                        row.http,
                        kind.http_status()
                    ));
                }
            }
            [] => problems.push(format!(
                "exit {} ({code}) is missing from the table",
                kind.exit_code()
            )),
            _ => problems.push(format!("exit {} is listed twice", kind.exit_code())),
        }
    }
    for row in &rows {
        let known = row.exit == 0 || kinds.iter().any(|k| k.exit_code() == row.exit);
        if !known {
            problems.push(format!(
                "exit {} is documented, aima never uses it",
                row.exit
            ));
        }
    }
    assert!(
        rows.iter().any(|r| r.exit == 0),
        "the table should say 0 is success"
    );
    assert!(
        problems.is_empty(),
        "docs/lifecycle.md's exit codes disagree with aima::error::Kind:\n{}",
        problems.join("\n")
    );
}
