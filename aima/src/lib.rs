//! aima: run AI inference engines as Docker containers on a shared server.
//!
//! The library does the work; `main.rs` only calls [`cli::main`]. The CLI runs every command
//! in-process against the state store, and `aima start` serves the same operations over HTTP,
//! with a reconciler, on the same code.
//!
//! # Layout
//!
//! Each layer uses only the layers below it.
//!
//! - `cli`: the front end on the command line: arguments, rendering, exit codes.
//! - `api`: the front end over HTTP: routes, request bodies, auth, JSON errors, and the
//!   read-only status page for people (`api::page`).
//! - `daemon`: `aima start`: serves the API, runs the reconciler, follows Docker's event
//!   stream, shuts down gracefully.
//! - `ops`: the single entry both front ends call, for models and services alike.
//! - `lifecycle`: start (preflight, attempts, retries), stop, supervision, and refreshing
//!   recorded states.
//! - `metrics`: the daemon's Prometheus metrics: counters kept in memory, the text format.
//! - `store`: adapter: the SQLite state store, its migrations and conditional updates.
//! - `runtime`: adapter: the container runtime trait, its Docker and Docker Swarm
//!   implementations, and a fake.
//! - `host`: adapter: probes of the machine: port holders, engine health, process liveness,
//!   GPUs (`nvidia-smi`).
//! - `config`: the environment, read once, and `config.toml`, validated into one value
//!   (engines, API, models, and `[runtime]`: plain Docker or a Swarm).
//! - `instance`: the data dir's identity on a shared Docker daemon (`instance-id`).
//! - `disk`: free space of a path, and the one "disk full" error (a refused check or a write
//!   that ran out of room).
//! - `error`: the user-facing error, its kinds, exit codes, HTTP statuses and renderer.
//! - `domain`: the records: models, services, attempts, statuses, engine types and ids, and
//!   who acts on them.
//! - `clock`: wall-clock time as stored and as shown.

/// A module the crate keeps to itself, except for aima's own integration tests: with the
/// `test-support` feature (only they enable it) it is `pub`, so the tests reach inside without
/// the product exporting it, and the dead-code lint keeps working on the product build.
macro_rules! internal {
    ($($name:ident),* $(,)?) => {$(
        #[cfg(feature = "test-support")]
        pub mod $name;
        #[cfg(not(feature = "test-support"))]
        pub(crate) mod $name;
    )*};
}

pub mod cli;
mod clock;
mod daemon;
mod metrics;
mod ops;
internal!(
    api, config, disk, domain, error, host, instance, lifecycle, runtime, store
);
