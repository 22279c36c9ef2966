//! `GET /api/v2/events/log`: the change log read once, as `aima events` lists it (the stream
//! at `/api/v2/events` stays open; this answers and ends).

use axum::Json;
use axum::extract::State;

use super::ApiState;
use super::body::StrictQuery;
use super::error::{ApiResult, ErrorBodyDoc};
use crate::ops::{self, EventsRequest};
use crate::store::ServiceEvent;

/// `?since=ID&service=ID`, as `aima events --since --service`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct LogQuery {
    /// Only events after this event id.
    #[serde(default)]
    #[param(minimum = 0)]
    since: Option<i64>,
    /// Only events of this service: id, name or id prefix (the exact id or name of a deleted one).
    #[serde(default)]
    service: Option<String>,
}

/// `{"items": [...], "total": N}`, as `aima events -o json`.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct EventList {
    pub(crate) items: Vec<ServiceEvent>,
    pub(crate) total: usize,
}

#[utoipa::path(get, path = "/api/v2/events/log", operation_id = "listEvents",
    summary = "The services' changes from the change log, oldest first, read once.",
    params(LogQuery),
    responses(
        (status = 200, description = "The events", body = EventList),
        (status = 400, description = "Bad query", body = ErrorBodyDoc),
        (status = 404, description = "No such service, and no events of one by that name", body = ErrorBodyDoc),
    ))]
pub(crate) async fn log(
    State(state): State<ApiState>,
    StrictQuery(q): StrictQuery<LogQuery>,
) -> ApiResult<Json<EventList>> {
    let req = EventsRequest {
        since: q.since,
        service: q.service,
    };
    let items = state
        .with_store(move |store| ops::list_events(store, &req))
        .await?;
    Ok(Json(EventList {
        total: items.len(),
        items,
    }))
}
