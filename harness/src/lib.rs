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
//! Lower layers never import higher ones; from the bottom up:
//!
//! - `interrupt` — Ctrl-C and SIGTERM: the undo actions of everything live, run on a signal.
//! - `exec` — starting programs: binaries located, each process in its own group (`group`) with
//!   verified stops and a hook for whoever watches the groups, the process table (`procfs`),
//!   the run id every process carries (`RUN_ENV`), commands recorded as evidence (`command`).
//! - `fixtures` — faults and probes: the port blocker, the broken `DOCKER_HOST`, the aima
//!   daemon, Docker's view (census, planted containers), the HTTP client, the port probe, the
//!   simulator image.
//! - `reaper` — the dead-man's switch that outlives a killed harness and sweeps its run, and the
//!   run markers by which the next run sweeps one whose reaper died too.
//! - `timeline`, `verdict` — what happened, and the judgement of each criterion.
//! - `svg` — hand-drawn SVG for every picture: the frame, the palette, scales, escaping.
//! - `report` — the `report.json` document and its renderings: Markdown, JUnit, the SVG
//!   timeline, series, and the catalog report of `scenario all`.
//! - `scenario` — the registry of scenarios, the manifest, the per-run context and the runner
//!   (which assembles the report), shared aima operations and judging helpers; `sNN` holds
//!   scenario NN's steps, observations, criteria and judge.
//! - `catalog` — `scenario all`: the required manifest, every scenario, the combined report.
//! - `bench` — `bench [--quick]`: aima against raw Docker in one run, figures and plots.
//! - `chaos` — `chaos`: concurrent operations and random faults against one daemon, the
//!   contract checked continuously, a replayable history.
//! - `cli` — the command line: `scenario N|all`, `list`, `bench`, `chaos`, and the hidden helper processes
//!   (`fixture block-port`, `reaper`).

pub(crate) mod bench;
pub(crate) mod catalog;
pub(crate) mod chaos;
pub mod cli;
pub(crate) mod exec;
pub(crate) mod fixtures;
pub(crate) mod interrupt;
pub(crate) mod reaper;
pub(crate) mod report;
pub(crate) mod scenario;
pub(crate) mod svg;
pub(crate) mod timeline;
pub(crate) mod verdict;

pub use exec::{BinaryPaths, locate_binaries, workspace_binaries};
pub use fixtures::port_check::{PortCheck, check_port, free_port};
pub use scenario::SELF_TEST_PANIC_VAR;
