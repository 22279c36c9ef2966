//! aima: run AI inference engines as Docker containers on a shared server.
//!
//! The library does the work; `main.rs` only parses and calls [`cli::run`]. The CLI runs every
//! command in-process against the state store, and `aima start` serves the same operations over
//! HTTP with a reconciler on the same code.

pub mod api;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod engine;
pub mod error;
pub mod health;
pub mod ids;
pub mod instance;
pub mod model_path;
pub mod ops;
pub mod ports;
pub mod records;
pub mod runtime;
pub mod service;
pub mod store;
