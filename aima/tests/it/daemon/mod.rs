//! `aima start`: the API through its router (no socket, fake runtime), over HTTP, and with
//! real Docker.

mod client;
mod client_files;
mod client_streams;
mod docker;
mod docker_away;
mod http;
mod instance;
mod limits;
mod listen;
mod liveness;
mod log_secrets;
mod login_flood;
mod observability;
mod openapi;
mod router;
mod router_steps;
mod sharing;
mod sharing_prune;
mod supervision;
mod supervision_events;
mod supervision_observed;
mod upgrade;
