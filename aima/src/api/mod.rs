//! The daemon's HTTP API: the CLI's operations under `/api/v2`, JSON in and out.
//!
//! Handlers only translate HTTP to calls of `ops` and back; no lifecycle logic lives
//! here. Errors use the CLI's JSON error shape (`{"error": {...}}`) and stable codes.
//!
//! Beside the operations: `/api/v2/events` (the services' change log as server-sent events,
//! tailed by `feed`), `/metrics` (Prometheus), `/api/v2/openapi.json` (generated from the handlers'
//! `#[utoipa::path]` attributes and the types' `ToSchema`), and an access log. One
//! route table builds the router and lists the routes the OpenAPI document is checked against.
//! The read-only status page for people (`GET /`, `page`) shares the listener and the token.

mod apply;
mod auth;
mod body;
mod browsers;
mod chat;
mod error;
mod event_log;
mod events;
mod feed;
mod health;
mod host_routes;
mod identity;
mod metrics;
mod models;
mod openapi;
mod page;
mod paging;
mod quota;
mod routes;
mod service_io;
mod service_update;
mod services;
mod start_steps;
mod state;
mod streamed;
mod tokens;
mod transport;

pub use openapi::openapi;
#[cfg(any(test, feature = "test-support"))]
pub use routes::routes;
pub use routes::{BODY_LIMIT, router};
pub use state::ApiState;
pub(crate) use identity::PeerCred;
pub(crate) use streamed::FAILURE_MARK;
pub(crate) use transport::Transport;
