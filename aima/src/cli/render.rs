//! Rendering results: JSON for scripts, aligned tables and detail views for people.

use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use super::terminal;
use crate::clock;
use crate::domain::{Model, RestartPolicy, Service, Status};
use crate::error::Error;

#[derive(Serialize)]
struct List<'a, T> {
    items: &'a [T],
    total: usize,
}

pub(crate) fn json_list<T: Serialize>(items: &[T]) -> String {
    to_json(&List {
        items,
        total: items.len(),
    })
}

pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| format!("{{\"error\":{{\"code\":\"internal\",\"message\":\"{e}\"}}}}"))
}

/// `value` as JSON with a `warnings` list beside its fields.
pub(crate) fn with_warnings<T: Serialize>(value: &T, warnings: &[String]) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(mut fields)) => {
            fields.insert("warnings".to_owned(), warnings.into());
            to_json(&fields)
        }
        _ => to_json(value),
    }
}

pub(crate) fn json_error(err: &Error) -> String {
    #[derive(Serialize)]
    struct Wrapped<'a> {
        error: &'a Error,
    }
    to_json(&Wrapped { error: err })
}

/// Columns padded to their widest cell, in terminal columns (a CJK character takes two); the
/// last column is not padded.
/// `aima quota`: one row per limit.
pub(crate) fn quota(report: &crate::ops::quota::QuotaReport) -> String {
    if report.quotas.is_empty() {
        return format!("no quota applies to {}\n", report.user);
    }
    let rows: Vec<Vec<String>> = report
        .quotas
        .iter()
        .map(|r| {
            vec![
                r.quota.clone(),
                r.limit.clone(),
                r.used.clone(),
                r.services.join(","),
                r.table.clone(),
            ]
        })
        .collect();
    table(&["QUOTA", "LIMIT", "USED", "SERVICES", "FROM"], &rows)
}

pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|c| terminal::cell(c).into_owned()).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len() - 1;
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i == last {
                out.push_str(cell);
            } else {
                let pad = widths[i].saturating_sub(cell.width());
                out.push_str(&format!("{cell}{:pad$}  ", ""));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

pub(crate) fn models_table(models: &[Model]) -> String {
    let now = clock::now_ms();
    let rows: Vec<Vec<String>> = models
        .iter()
        .map(|m| {
            vec![
                m.id.to_string(),
                m.name.clone(),
                m.source.as_str().to_owned(),
                m.repo.clone(),
                clock::ago(m.created_at, now),
            ]
        })
        .collect();
    table(&["ID", "NAME", "SOURCE", "REPO", "CREATED"], &rows)
}

pub(crate) fn services_table(services: &[Service]) -> String {
    let now = clock::now_ms();
    let rows: Vec<Vec<String>> = services
        .iter()
        .map(|s| {
            vec![
                s.id.to_string(),
                s.name.clone(),
                s.engine_type.to_string(),
                s.port.to_string(),
                s.bind.to_string(),
                gpus_text(s),
                memory_text(s),
                s.status.as_str().to_owned(),
                restarts_text(s, now),
                s.endpoint.clone(),
                clock::ago(s.created_at, now),
            ]
        })
        .collect();
    table(
        &[
            "ID", "NAME", "ENGINE", "PORT", "BIND", "GPUS", "MEMORY", "STATUS", "RESTARTS",
            "ENDPOINT", "CREATED",
        ],
        &rows,
    )
}

/// What `service prune` removed, or a sentence saying nothing was.
pub(crate) fn pruned_table(pruned: &[crate::ops::Pruned]) -> String {
    if pruned.is_empty() {
        return "no orphaned container of this data dir".to_owned();
    }
    let rows: Vec<Vec<String>> = pruned
        .iter()
        .map(|p| {
            vec![
                p.container_id.short().to_owned(),
                p.name.clone(),
                p.service.clone().unwrap_or_else(|| "-".to_owned()),
                p.state.clone(),
            ]
        })
        .collect();
    format!(
        "removed {} orphaned container(s)\n{}",
        pruned.len(),
        table(&["CONTAINER", "NAME", "SERVICE", "STATE"], &rows)
    )
}

/// The engine caches that exist, or a sentence saying none does yet.
pub(crate) fn caches_table(caches: &[crate::lifecycle::cache::CacheInfo]) -> String {
    if caches.is_empty() {
        return "no engine cache yet: an engine's is created by its first start".to_owned();
    }
    let rows: Vec<Vec<String>> = caches
        .iter()
        .map(|c| {
            vec![
                c.engine.to_string(),
                c.volume.clone(),
                c.target.clone(),
                c.mountpoint.clone(),
            ]
        })
        .collect();
    table(&["ENGINE", "VOLUME", "IN CONTAINER", "ON HOST"], &rows)
}

pub(crate) fn model_detail(m: &Model) -> String {
    let now = clock::now_ms();
    let mut pairs = vec![
        ("id", m.id.to_string()),
        ("name", m.name.clone()),
        ("source", m.source.as_str().to_owned()),
        ("repo", m.repo.clone()),
        ("type", m.model_type.clone()),
    ];
    if let Some(path) = &m.path {
        pairs.push(("path", path.clone()));
    }
    pairs.push((
        "created",
        format!(
            "{} ({})",
            clock::ago(m.created_at, now),
            clock::rfc3339(m.created_at)
        ),
    ));
    pairs.push(("created by", who(m.created_by.as_deref())));
    detail(&pairs)
}

/// A user as the detail views show one; `-` for nobody recorded.
fn who(name: Option<&str>) -> String {
    name.unwrap_or("-").to_owned()
}

pub(crate) fn service_detail(s: &Service) -> String {
    service_detail_with(s, &[])
}

/// The detail view with `settings` (name, value with its source) after the resources.
pub(crate) fn service_detail_with(s: &Service, settings: &[(String, String)]) -> String {
    let now = clock::now_ms();
    let mut pairs = vec![
        ("id", s.id.to_string()),
        ("name", s.name.clone()),
        ("model", s.model_id.to_string()),
        ("engine", s.engine_type.to_string()),
        ("port", s.port.to_string()),
        ("bind", s.bind.to_string()),
        ("gpus", gpus_text(s)),
        ("memory", memory_text(s)),
    ];
    pairs.extend(settings.iter().map(|(k, v)| (k.as_str(), v.clone())));
    pairs.extend([
        ("endpoint", s.endpoint.clone()),
        ("status", s.status.as_str().to_owned()),
    ]);
    // Supervision in play only: with policy `no` the view is as it always was.
    if s.restart != RestartPolicy::No {
        pairs.push(("desired", s.desired.as_str().to_owned()));
        pairs.push(("restart", restart_text(s)));
    }
    if let Some(err) = &s.last_error {
        pairs.push(("last error", err.clone()));
    }
    pairs.push((
        "created",
        format!(
            "{} ({})",
            clock::ago(s.created_at, now),
            clock::rfc3339(s.created_at)
        ),
    ));
    pairs.push(("updated", clock::ago(s.updated_at, now)));
    pairs.push(("created by", who(s.created_by.as_deref())));
    pairs.push(("started by", who(s.started_by.as_deref())));
    let mut out = detail(&pairs);
    if !s.attempts.is_empty() {
        out.push_str("attempts:\n");
        for a in &s.attempts {
            out.push_str(&format!("  {}\n", a.describe(s.attempts.len())));
        }
    }
    out
}

/// The `RESTARTS` cell: restarts in a row, and while in `backoff` when the next is due, as
/// `kubectl get pods` adds when the last one was.
fn restarts_text(s: &Service, now: i64) -> String {
    match (s.status, s.next_restart_at) {
        (Status::Backoff, Some(at)) => format!("{} (next {})", s.restarts, clock::until(at, now)),
        _ => s.restarts.to_string(),
    }
}

/// The policy, and while the supervisor is at work, its restarts in a row and the next one.
fn restart_text(s: &Service) -> String {
    let mut text = s.restart.text();
    if s.restarts > 0 {
        text.push_str(&format!(" ({} restarts in a row)", s.restarts));
    }
    if let (Status::Backoff, Some(at)) = (s.status, s.next_restart_at) {
        text.push_str(&format!(", next at {}", clock::rfc3339(at)));
    }
    text
}

/// The service's GPUs as `--gpus` takes them; `default` when the engine's setting decides.
fn gpus_text(s: &Service) -> String {
    s.gpus
        .as_ref()
        .map_or_else(|| "default".to_owned(), ToString::to_string)
}

/// The service's memory limit as `--memory` takes it; `default` when the engine's limit holds.
fn memory_text(s: &Service) -> String {
    s.memory_bytes
        .map_or_else(|| "default".to_owned(), crate::domain::size_text)
}

pub(crate) fn detail(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    pairs
        .iter()
        .map(|(k, v)| format!("{:<width$} {}\n", format!("{k}:"), terminal::cell(v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Attempt, EngineType, HostPort, ModelId, Phase, ServiceId, Status};

    #[test]
    fn engine_log_lines_reach_the_terminal_escaped() {
        let attempt = Attempt {
            number: 1,
            phase: Phase::Health,
            elapsed_ms: 5,
            reason: "the engine exited during start-up".to_owned(),
            code: None,
            log_tail: vec!["\x1b[2J\x1b]0;pwned\x07boom\r".to_owned()],
        };
        let svc = Service {
            id: ServiceId::generate(),
            name: "s".to_owned(),
            model_id: ModelId::generate(),
            engine_type: EngineType::Vllm,
            port: HostPort::from(8000),
            bind: std::net::Ipv4Addr::LOCALHOST.into(),
            endpoint: "http://127.0.0.1:8000".to_owned(),
            gpus: None,
            memory_bytes: None,
            settings: Default::default(),
            desired: crate::domain::Desired::Stopped,
            restart: crate::domain::RestartPolicy::No,
            restarts: 0,
            next_restart_at: None,
            status: Status::Failed,
            last_error: Some("cannot start: \x1b[31mred".to_owned()),
            attempts: vec![attempt.clone()],
            container_id: None,
            owner: None,
            created_by: None,
            started_by: None,
            created_at: 0,
            updated_at: 0,
        };
        // As `cli` prints them: the detail view on stdout, the error on stderr.
        let shown = terminal::block(&service_detail(&svc)).into_owned();
        let error = Error::new(crate::error::Kind::StartFailed, "cannot start")
            .with_attempts(vec![attempt]);
        let printed = terminal::block(&error.render()).into_owned();
        for text in [shown, printed] {
            assert!(!text.contains('\x1b') && !text.contains('\r'), "{text:?}");
            assert!(
                text.contains("\\u{1b}[2J\\u{1b}]0;pwned\\u{7}boom\\r"),
                "{text}"
            );
        }
    }

    #[test]
    fn the_restarts_cell_says_when_the_next_restart_is_due_in_backoff() {
        let mut svc = Service {
            id: ServiceId::generate(),
            name: "s".to_owned(),
            model_id: ModelId::generate(),
            engine_type: EngineType::Vllm,
            port: HostPort::from(8000),
            bind: std::net::Ipv4Addr::LOCALHOST.into(),
            endpoint: "http://127.0.0.1:8000".to_owned(),
            gpus: None,
            memory_bytes: None,
            desired: crate::domain::Desired::Running,
            restart: crate::domain::RestartPolicy::Always,
            restarts: 3,
            next_restart_at: Some(9_000),
            status: Status::Backoff,
            last_error: None,
            attempts: vec![],
            container_id: None,
            owner: None,
            created_by: None,
            started_by: None,
            created_at: 0,
            updated_at: 0,
            settings: Default::default(),
        };
        assert_eq!(restarts_text(&svc, 1_000), "3 (next in 8s)");
        assert_eq!(restarts_text(&svc, 9_500), "3 (next due now)");
        svc.status = Status::Starting;
        assert_eq!(restarts_text(&svc, 1_000), "3");
        let table = services_table(&[svc]);
        let header = table.lines().next().unwrap();
        assert!(header.contains("STATUS    RESTARTS  ENDPOINT"), "{table}");
    }

    #[test]
    fn tables_align_columns() {
        let out = table(
            &["ID", "NAME"],
            &[
                vec!["svc-1".into(), "a".into()],
                vec!["svc-22".into(), "bb".into()],
            ],
        );
        assert_eq!(out, "ID      NAME\nsvc-1   a\nsvc-22  bb\n");
    }

    #[test]
    fn wide_characters_take_two_columns() {
        let out = table(
            &["NAME", "PORT"],
            &[
                vec!["通义千问".into(), "8000".into()],
                vec!["qwen".into(), "8001".into()],
            ],
        );
        assert_eq!(out, "NAME      PORT\n通义千问  8000\nqwen      8001\n");
    }

    #[test]
    fn empty_lists_are_json_with_total() {
        let items: Vec<u8> = vec![];
        assert_eq!(json_list(&items), "{\n  \"items\": [],\n  \"total\": 0\n}");
    }
}
