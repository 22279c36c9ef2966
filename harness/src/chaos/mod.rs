//! `harness chaos`: minutes of concurrent operations and random faults against one aima daemon,
//! its CLI and its API, with the contract checked all the time, a replayable history and a
//! summary. Same seed, same schedule.
//!
//! - `rng`, `schedule` — the seeded schedule of operations and faults, by lane.
//! - `fault` — the faults by name and those not injected.
//! - `world` — what the lanes and the observer share.
//! - `disk_full` — filling the data dir's tmpfs for a while.
//! - `ops`, `inject` — carrying out an operation or a fault; `blockers` — the port blockers
//!   and the fail-fast rule a start on a held port answers to.
//! - `rules`, `observer` — the invariants, and the observer that applies them continuously.
//! - `finish` — the checks at the end and the clean-up.
//! - `history`, `summary`, `timeline` — `history.jsonl`, `summary.md`, `summary.json` and
//!   `timeline.svg`.
//! - `shrink` — delta debugging of a failing schedule within a time budget.
//! - `run` — one run end to end.

mod blockers;
mod disk_full;
mod docker_proxy;
mod fault;
mod finish;
mod history;
mod inject;
mod observer;
mod ops;
mod rng;
mod rules;
mod run;
mod schedule;
mod shrink;
mod summary;
mod timeline;
mod world;

pub(crate) use fault::{FaultKind, parse_faults};
pub(crate) use run::{ChaosOptions, run_chaos};
