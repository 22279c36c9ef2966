//! The page's handlers: read the records (never refreshing them against Docker, so looking
//! changes nothing) and render them.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::layout::{self, Chrome, Html};
use super::render::{self, Change, View};
use crate::api::ApiState;
use crate::domain::{Model, ModelId, Service};
use crate::error::{Error, Kind, Result};
use crate::ops;
use crate::clock::rfc3339;
use crate::store::{EventKind, ServiceEvent};

/// What a view needs from the store, read in one blocking task.
struct Records {
    services: Vec<Service>,
    models: HashMap<ModelId, Model>,
}

fn records(store: &crate::store::Store, services: Vec<Service>) -> Result<Records> {
    let models = ops::list_models(store)?
        .into_iter()
        .map(|m| (m.id.clone(), m))
        .collect();
    Ok(Records { services, models })
}

/// `GET /`: every service.
#[utoipa::path(get, path = "/", operation_id = "statusPage", tag = "page",
    security(("bearer" = []), ("session" = [])),
    summary = "The status page: every service with status, endpoint, engine, model and last error. Read-only HTML; without the token or session, the login form (401).",
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 401, description = "The login form", content_type = "text/html", body = String),
        (status = 500, description = "The store cannot be read", content_type = "text/html", body = String),
    ))]
pub(crate) async fn overview(State(state): State<ApiState>) -> Response {
    let read = state
        .with_store(|store| {
            let services = ops::list_services_recorded(store)?;
            records(store, services)
        })
        .await;
    match read {
        Ok(r) => {
            let view = view(&state, &r.models);
            let main = render::overview(&view, &r.services);
            layout::page(StatusCode::OK, "Services", &main, live(&state))
        }
        Err(e) => trouble(e),
    }
}

/// `GET /services/{id}`: one service, its attempts and its recent changes.
#[utoipa::path(get, path = "/services/{id}", operation_id = "servicePage", tag = "page",
    security(("bearer" = []), ("session" = [])),
    summary = "One service's page: its attempts and recent changes.",
    params(("id" = String, Path, description = "Service id, name or unique id prefix")),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 401, description = "The login form", content_type = "text/html", body = String),
        (status = 404, description = "No such service", content_type = "text/html", body = String),
        (status = 500, description = "The store cannot be read", content_type = "text/html", body = String),
    ))]
pub(crate) async fn service(State(state): State<ApiState>, Path(id): Path<String>) -> Response {
    let read = state
        .with_store(move |store| {
            let (svc, events) = ops::get_service_recorded(store, &id, RECENT_CHANGES)?;
            Ok((records(store, vec![svc])?, events))
        })
        .await;
    match read {
        Ok((r, events)) => {
            let svc = &r.services[0];
            let view = view(&state, &r.models);
            let changes: Vec<Change> = events.into_iter().map(change).collect();
            let main = render::service(&view, svc, &changes);
            layout::page(StatusCode::OK, &svc.name, &main, live(&state))
        }
        Err(e) => trouble(e),
    }
}

/// A view of records: refreshed by the script; signing out is offered when there is a token.
fn live(state: &ApiState) -> Chrome {
    Chrome {
        live: true,
        sign_out: state.token.is_some(),
    }
}

fn view<'a>(state: &'a ApiState, models: &'a HashMap<ModelId, Model>) -> View<'a> {
    View {
        models,
        config: &state.deps.config,
        now: crate::clock::now_ms(),
    }
}

/// How many of a service's changes its page lists.
const RECENT_CHANGES: usize = 20;

/// A change-log entry as the page lists it; a failure comes with its error.
fn change(event: ServiceEvent) -> Change {
    let restart = event.restart.unwrap_or(0);
    let (step, detail) = match event.kind {
        EventKind::Status => (
            None,
            (event.to == "failed").then_some(event.last_error).flatten(),
        ),
        EventKind::Backoff => {
            let due = event.next_restart_at.map(rfc3339).unwrap_or_default();
            (Some(format!("restart {restart} due {due}")), event.reason)
        }
        EventKind::Restarting => (Some(format!("restart {restart} begun")), None),
        EventKind::GaveUp => (
            Some(format!("gave up after {restart} restarts")),
            event.reason,
        ),
    };
    Change {
        at: event.at,
        from: event.from,
        to: event.to,
        step,
        detail,
    }
}

/// An error as a page, with the status the API would answer.
fn trouble(e: Error) -> Response {
    let status = crate::api::error::status_of(e.code);
    let title = if e.code == Kind::NotFound {
        "Not found"
    } else {
        "Cannot show this"
    };
    let mut body = format!(
        "<h1>{}</h1><p class=\"error\">{}</p>",
        super::html::text(title),
        super::html::text(&e.message)
    );
    if let Some(help) = &e.help {
        body.push_str(&format!("<p>{}</p>", super::html::text(help)));
    }
    body.push_str("<p><a href=\"/\">All services</a></p>");
    layout::page(status, title, &Html(body), Chrome::STATIC)
}
