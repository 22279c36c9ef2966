//! The daemon's HTTP API: the CLI's operations under `/api/v2`, JSON in and out.
//!
//! Handlers only translate HTTP to calls of `ops` and back; no lifecycle logic lives
//! here. Errors use the CLI's JSON error shape (`{"error": {...}}`) and stable codes.

mod auth;
mod body;
mod browsers;
mod error;
mod health;
mod models;
mod paging;
mod routes;
mod services;
mod state;
mod transport;

pub use routes::{BODY_LIMIT, router};
pub use state::ApiState;
pub(crate) use transport::Transport;
