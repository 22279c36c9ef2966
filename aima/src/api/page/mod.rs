//! The status page: `GET /` lists every service, `GET /services/{id}` shows one with its start
//! attempts and recent changes. Server-rendered, read-only HTML with one same-origin script that
//! keeps it live; no framework, nothing from the network.
//!
//! It follows the API's token rules ([`session`]): a token-protected daemon asks for the token
//! on a login form and keeps a session ([`sessions`], in the daemon's memory) in a strict,
//! HTTP-only cookie. Nothing here changes a service: the page reads records as stored and
//! never refreshes them against Docker.

// `pub(super)` so the OpenAPI document (`super::openapi`) reaches the handlers' descriptions.
pub(super) mod assets;
mod html;
mod layout;
mod render;
pub(super) mod session;
mod sessions;
pub(super) mod views;

pub(crate) use assets::{script, style};
pub(crate) use session::{login, logout, require_session};
pub(crate) use sessions::Sessions;
pub(crate) use views::{overview, service};

/// Page paths a browser may ask for with an `Origin` header of this same site (a form's POST
/// carries one); see [`super::browsers`]. The routes themselves are in the API's one route
/// table ([`super::routes`]).
pub(crate) fn is_page_path(path: &str) -> bool {
    path == "/"
        || path == "/login"
        || path == "/logout"
        || path.starts_with("/page/")
        || path.starts_with("/services/")
}
