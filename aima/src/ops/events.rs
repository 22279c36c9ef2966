//! `aima events`: the services' change log read once, oldest first — what `/api/v2/events`
//! streams, as a list.

use crate::error::{Error, Kind, Result};
use crate::store::{ServiceEvent, Store};

/// Events are read in pages of this many.
const PAGE: usize = 500;

/// What `aima events` asks for.
#[derive(Debug, Clone, Default)]
pub struct EventsRequest {
    /// Only events after this `seq`.
    pub since: Option<i64>,
    /// Only events of this service: its id, name or id prefix while it exists; its exact id or
    /// name once it is deleted (the log keeps both).
    pub service: Option<String>,
}

/// The change log after `since`, of one service or all (the newest 10,000 changes are kept).
pub fn list_events(store: &Store, req: &EventsRequest) -> Result<Vec<ServiceEvent>> {
    let since = req.since.unwrap_or(0);
    if since < 0 {
        return Err(Error::usage(format!(
            "--since {since} is not an event id: ids start at 1"
        )));
    }
    // A service that no longer exists is looked for in the log by its id or name.
    let mut gone = false;
    let wanted = match &req.service {
        None => None,
        Some(given) => Some(match super::resolve::service(store, given) {
            Ok(id) => id.as_str().to_owned(),
            Err(e) if e.code == Kind::NotFound => {
                gone = true;
                given.clone()
            }
            Err(e) => return Err(e),
        }),
    };
    let mut events = Vec::new();
    let mut after = since;
    loop {
        let page = store.events_after(after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        events.extend(page.into_iter().filter(|e| match &wanted {
            None => true,
            Some(w) => e.service_id == *w || e.name == *w,
        }));
    }
    if let (Some(given), true) = (&wanted, gone && events.is_empty()) {
        return Err(Error::new(
            Kind::NotFound,
            format!(
                "no service {given}, and the change log has no events of one by that id or name"
            ),
        )
        .with_help(
            "`aima service list` shows the services; `aima events` shows every service's changes",
        ));
    }
    Ok(events)
}
