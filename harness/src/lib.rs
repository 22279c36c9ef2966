//! The aima scenario conformance harness: drives aima as a black box (its CLI, its HTTP API
//! and Docker's view), injects faults, judges each scenario criterion and writes reports.
//!
//! The library's public surface is what `main.rs` and the scenario tests use: the command line
//! ([`cli`]), where the aima binaries are ([`locate_binaries`]) and the port probe
//! ([`check_port`], [`free_port`]), and the variable that makes a scenario panic on purpose
//! ([`SELF_TEST_PANIC_VAR`]). Everything else is crate-private.

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
