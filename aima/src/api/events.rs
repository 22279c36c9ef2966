//! `GET /api/v2/events`: server-sent events of service status changes, by any aima process on
//! this data dir (the daemon's own requests and CLI commands alike), and the supervisor's
//! steps (`kind`: `backoff`, `restarting`, `gave_up`), read from the change log.
//!
//! Each event carries its `seq` as the SSE id: a client that reconnects with `Last-Event-ID`
//! gets what it missed (of the newest 10,000 changes), then the live ones.

use std::collections::VecDeque;
use std::convert::Infallible;

use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::ApiState;
use super::error::ApiResult;
use super::feed::{events_after, read};
use crate::error::Error;
use crate::store::{ServiceEvent, StorePool};

/// Even without a wake-up from the feed, a stream looks at the log this often.
const RECHECK: Duration = Duration::from_secs(1);

/// The API's stream; the page's `/page/events` is the same handler under the page's sign-in
/// (described by [`page_events`]).
#[utoipa::path(get, path = "/api/v2/events", operation_id = "serviceEvents",
    summary = "Server-sent events of service status changes by any aima process on this data dir, and the supervisor's steps (kind backoff, restarting, gave_up): `event: service`, `id: <seq>`, `data: <ServiceEvent>`; reconnect with Last-Event-ID to resume.",
    params(("Last-Event-ID" = Option<i64>, Header, minimum = 0, description = "Resume after this event id")),
    responses(
        (status = 200, description = "An event stream that stays open", content_type = "text/event-stream", body = ServiceEvent),
        (status = 400, description = "Bad Last-Event-ID", body = super::error::ErrorBodyDoc),
    ))]
pub(crate) async fn events(
    State(state): State<ApiState>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let db = state.stores.clone();
    let after = match last_event_id(&headers)? {
        Some(seq) => seq,
        None => read(db.clone(), |store| store.last_event_seq()).await?,
    };
    let tail = Tail {
        db,
        after,
        pending: VecDeque::new(),
        newest: state.newest.subscribe(),
        closing: state.closing.clone(),
    };
    let stream = futures_util::stream::unfold(tail, Tail::next);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

fn last_event_id(headers: &HeaderMap) -> Result<Option<i64>, Error> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|seq| *seq >= 0)
        .map(Some)
        .ok_or_else(|| {
            Error::usage("Last-Event-ID must be the id of an event this stream sent")
                .with_help("reconnect without it to get only new events")
        })
}

struct Tail {
    db: StorePool,
    after: i64,
    pending: VecDeque<ServiceEvent>,
    newest: watch::Receiver<i64>,
    closing: CancellationToken,
}

impl Tail {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                self.after = event.seq;
                return Some((Ok(to_sse(&event)), self));
            }
            match events_after(self.db.clone(), self.after).await {
                Ok(events) if !events.is_empty() => {
                    self.pending.extend(events);
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("event stream cannot read the change log: {}", e.message),
            }
            tokio::select! {
                () = self.closing.cancelled() => return None,
                _ = self.newest.changed() => {}
                () = tokio::time::sleep(RECHECK) => {}
            }
        }
    }
}

fn to_sse(event: &ServiceEvent) -> Event {
    let data = serde_json::to_string(event).unwrap_or_else(|_| "{}".to_owned());
    Event::default()
        .event("service")
        .id(event.seq.to_string())
        .data(data)
}

/// `GET /page/events`: [`events`] for the status page, under its sign-in.
#[utoipa::path(get, path = "/page/events", operation_id = "pageEvents", tag = "page",
    security(("bearer" = []), ("session" = [])),
    summary = "The API's event stream under the page's sign-in (a browser's EventSource cannot send the bearer header).",
    params(("Last-Event-ID" = Option<i64>, Header, minimum = 0, description = "Resume after this event id")),
    responses(
        (status = 200, description = "An event stream that stays open", content_type = "text/event-stream", body = ServiceEvent),
        (status = 400, description = "Bad Last-Event-ID", body = super::error::ErrorBodyDoc),
    ))]
#[expect(
    dead_code,
    reason = "describes /page/events for the OpenAPI document; `events` serves it"
)]
pub(crate) fn page_events() {}
