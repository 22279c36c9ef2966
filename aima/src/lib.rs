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
//! - `daemon`: `aima start`: serves the API, runs the reconciler, shuts down gracefully.
//! - `ops`: the single entry both front ends call, for models and services alike.
//! - `lifecycle`: start (preflight, attempts, retries), stop, and refreshing recorded states.
//! - `metrics`: the daemon's Prometheus metrics: counters kept in memory, the text format.
//! - `store`: adapter: the SQLite state store, its migrations and conditional updates.
//! - `runtime`: adapter: the container runtime trait, its Docker implementation and a fake.
//! - `host`: adapter: probes of the machine: port holders, engine health, process liveness.
//! - `config`: the environment, read once, and `config.toml`, validated into one value.
//! - `instance`: the data dir's identity on a shared Docker daemon (`instance-id`).
//! - `disk`: free space of a path, and the one "disk full" error (a refused check or a write
//!   that ran out of room).
//! - `error`: the user-facing error, its kinds, exit codes, HTTP statuses and renderer.
//! - `domain`: the records: models, services, attempts, statuses, engine types and ids.
//! - `clock`: wall-clock time as stored and as shown.

pub mod api;
pub mod cli;
mod clock;
pub mod config;
mod daemon;
pub mod disk;
pub mod domain;
pub mod error;
pub mod host;
pub mod instance;
pub mod lifecycle;
mod metrics;
mod ops;
pub mod runtime;
pub mod store;
