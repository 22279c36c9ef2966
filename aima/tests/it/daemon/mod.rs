//! `aima start`: the API through its router (no socket, fake runtime), over HTTP, and with
//! real Docker.

mod docker;
mod http;
mod instance;
mod limits;
mod listen;
mod log_secrets;
mod login_flood;
mod observability;
mod openapi;
mod router;
mod supervision;
mod supervision_events;
