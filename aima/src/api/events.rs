//! `GET /api/v2/events`: server-sent events of service status changes, by any aima process on
//! this data dir (the daemon's own requests and CLI commands alike), and the supervisor's
//! steps (`kind`: `backoff`, `restarting`, `gave_up`), read from the change log.
//!
//! Each event carries its `seq` as the SSE id: a client that reconnects with `Last-Event-ID`
//! gets what it missed (of the newest 10,000 changes), then the live ones.
//!
//! Asked with `steps=true`, a stream also carries the steps of the starts the daemon runs as
//! they happen (`event: step`, no id: they are not kept); `service=ID` keeps one service's.

use std::collections::VecDeque;
use std::convert::Infallible;

use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use super::ApiState;
use super::body::StrictQuery;
use super::error::ApiResult;
use super::feed::{events_after, read};
use super::start_steps::StartStep;
use crate::domain::ServiceId;
use crate::error::Error;
use crate::ops;
use crate::store::{ServiceEvent, StorePool};

/// Even without a wake-up from the feed, a stream looks at the log this often.
const RECHECK: Duration = Duration::from_secs(1);

/// `?service=ID&steps=true` on the event streams.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct StreamQuery {
    /// Only this service's events (and steps): id, name or unique id prefix.
    #[serde(default)]
    service: Option<String>,
    /// Also the steps of the starts the daemon runs, as they happen: `event: step`, `data:
    /// {"service", "kind": "step", "phase", "text"}`, `{"service", "kind": "pulling",
    /// "tally"}`, and `{"service", "kind": "ended"}` once a start is over; not kept, so not
    /// resumed.
    #[serde(default)]
    steps: bool,
}

/// The API's stream; the page's `/page/events` is the same handler under the page's sign-in
/// (described by [`page_events`]).
#[utoipa::path(get, path = "/api/v2/events", operation_id = "serviceEvents",
    summary = "Server-sent events of service status changes by any aima process on this data dir, and the supervisor's steps (kind backoff, restarting, gave_up): `event: service`, `id: <seq>`, `data: <ServiceEvent>`; reconnect with Last-Event-ID to resume.",
    description = "With `steps=true`, also the steps of the starts and restarts the daemon runs, as `event: step` without an id (what `service start --host` shows as progress).",
    params(StreamQuery, ("Last-Event-ID" = Option<i64>, Header, minimum = 0, description = "Resume after this event id")),
    responses(
        (status = 200, description = "An event stream that stays open", content_type = "text/event-stream", body = ServiceEvent),
        (status = 400, description = "Bad Last-Event-ID or query", body = super::error::ErrorBodyDoc),
        (status = 404, description = "No such service", body = super::error::ErrorBodyDoc),
    ))]
pub(crate) async fn events(
    State(state): State<ApiState>,
    headers: HeaderMap,
    StrictQuery(q): StrictQuery<StreamQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    // Subscribed before anything else: a client that starts a service once this stream
    // answered misses none of its steps.
    let steps = q.steps.then(|| state.steps.subscribe());
    let service = match q.service {
        Some(given) => Some(ops::service_id(&state.stores.handle().await?, &given).await?),
        None => None,
    };
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
        service,
        steps,
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
    service: Option<ServiceId>,
    steps: Option<broadcast::Receiver<StartStep>>,
}

/// What a stream waiting for news woke up to.
enum Woken {
    Closing,
    Maybe,
    Step(Result<StartStep, broadcast::error::RecvError>),
}

impl Tail {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                self.after = event.seq;
                if self.wants(&event.service_id) {
                    return Some((Ok(to_sse(&event)), self));
                }
                continue;
            }
            match events_after(self.db.clone(), self.after).await {
                Ok(events) if !events.is_empty() => {
                    self.pending.extend(events);
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("event stream cannot read the change log: {}", e.message),
            }
            let step = async {
                match &mut self.steps {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            let woken = tokio::select! {
                () = self.closing.cancelled() => Woken::Closing,
                _ = self.newest.changed() => Woken::Maybe,
                () = tokio::time::sleep(RECHECK) => Woken::Maybe,
                step = step => Woken::Step(step),
            };
            match woken {
                Woken::Closing => return None,
                Woken::Maybe => {}
                Woken::Step(Ok(step)) if self.wants(step.service.as_str()) => {
                    return Some((Ok(step_sse(&step)), self));
                }
                Woken::Step(Err(broadcast::error::RecvError::Closed)) => self.steps = None,
                // Another service's step, or steps skipped by a stream that fell behind.
                Woken::Step(_) => {}
            }
        }
    }

    fn wants(&self, service: &str) -> bool {
        self.service.as_ref().is_none_or(|id| id.as_str() == service)
    }
}

fn step_sse(step: &StartStep) -> Event {
    let data = serde_json::to_string(step).unwrap_or_else(|_| "{}".to_owned());
    Event::default().event("step").data(data)
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
    params(StreamQuery, ("Last-Event-ID" = Option<i64>, Header, minimum = 0, description = "Resume after this event id")),
    responses(
        (status = 200, description = "An event stream that stays open", content_type = "text/event-stream", body = ServiceEvent),
        (status = 400, description = "Bad Last-Event-ID or query", body = super::error::ErrorBodyDoc),
        (status = 404, description = "No such service", body = super::error::ErrorBodyDoc),
    ))]
#[expect(
    dead_code,
    reason = "describes /page/events for the OpenAPI document; `events` serves it"
)]
pub(crate) fn page_events() {}
