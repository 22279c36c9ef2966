//! `aima events`: the change log as a table, or as a JSON list.

use super::args::Output;
use super::{render, terminal};
use crate::clock;
use crate::store::{EventKind, ServiceEvent};

pub(crate) fn render(events: &[ServiceEvent], output: Output) -> String {
    if output == Output::Json {
        return render::json_list(events);
    }
    if events.is_empty() {
        return "no events".to_owned();
    }
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                clock::rfc3339(e.at),
                e.service_id.clone(),
                e.name.clone(),
                change(e),
                terminal::cell(detail(e)).into_owned(),
            ]
        })
        .collect();
    render::table(&["SEQ", "AT", "SERVICE", "NAME", "CHANGE", "DETAIL"], &rows)
}

/// `created`, `running -> failed`, `backoff (restart 2)`.
fn change(e: &ServiceEvent) -> String {
    match e.kind {
        EventKind::Status => match &e.from {
            None => "created".to_owned(),
            Some(from) => format!("{from} -> {}", e.to),
        },
        kind => match e.restart {
            Some(n) => format!("{} (restart {n})", kind.as_str()),
            None => kind.as_str().to_owned(),
        },
    }
}

fn detail(e: &ServiceEvent) -> &str {
    e.reason
        .as_deref()
        .or(e.last_error.as_deref())
        .unwrap_or("")
}
