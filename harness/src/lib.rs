//! The aima scenario conformance harness: drives aima as a black box (its CLI, its HTTP API
//! and Docker's view), injects faults, judges each scenario criterion and writes reports.
//!
//! The library's public surface is what `main.rs` and the scenario tests use: the command line
//! ([`cli`]), where the aima binaries are ([`locate_binaries`]) and the port probe
//! ([`check_port`], [`free_port`]), and the variable that makes a scenario panic on purpose
//! ([`SELF_TEST_PANIC_VAR`]). Everything else is crate-private.
//!
//! # Layout
//!
//! - `bench` — `bench [--quick]`: aima against raw Docker in one run, figures and plots.
//! - `cli` — the command line: `scenario N|all`, `list`, `bench`, and the hidden helper processes
//!   (`fixture block-port`, `reaper`).
//! - `catalog` — `scenario all`: the required manifest, every scenario, the combined report.
//! - `scenario` — the registry of scenarios, the manifest, the per-run context and the runner,
//!   shared aima operations and judging helpers; `sNN` holds scenario NN's steps,
//!   observations, criteria and judge.
//! - `exec` — starting programs: binaries located, each process in its own group (`group`) with
//!   verified stops, the process table (`procfs`), commands recorded as evidence (`command`).
//! - `fixtures` — faults and probes: the port blocker, the broken `DOCKER_HOST`, the aima
//!   daemon, Docker's view (census, planted containers), the HTTP client, the port probe, run
//!   markers, Ctrl-C cleanup.
//! - `reaper` — the dead-man's switch that outlives a killed harness and sweeps its run.
//! - `timeline`, `verdict` — what happened, and the judgement of each criterion.
//! - `report` — `report.json` and its renderings: Markdown, JUnit, the SVG timeline, series,
//!   and the catalog report of `scenario all`.

pub(crate) mod bench;
pub(crate) mod catalog;
pub mod cli;
pub(crate) mod exec;
pub(crate) mod fixtures;
pub(crate) mod reaper;
pub(crate) mod report;
pub(crate) mod scenario;
pub(crate) mod timeline;
pub(crate) mod verdict;

pub use exec::{BinaryPaths, locate_binaries, workspace_binaries};
pub use fixtures::port_check::{PortCheck, check_port, free_port};
pub use scenario::SELF_TEST_PANIC_VAR;
