//! The scenario registry: which scenarios exist, their criteria, their documents, and running one.

pub mod context;
mod runner;
pub mod s20;
#[cfg(test)]
mod spec;

pub use runner::{RunOptions, RunRefused, run_scenario};

/// One success criterion: a stable id (`S20.C1`) and a one-line statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Criterion {
    pub id: &'static str,
    pub title: &'static str,
}

/// A scenario the harness can run.
#[derive(Debug, Clone, Copy)]
pub struct ScenarioInfo {
    pub number: u32,
    pub title: &'static str,
    /// The scenario's document, relative to the repository root.
    pub document: &'static str,
    pub criteria: &'static [Criterion],
}

/// Every scenario the harness implements.
pub const SCENARIOS: [ScenarioInfo; 1] = [ScenarioInfo {
    number: 20,
    title: "Port contention and resource exhaustion",
    document: "scenarios/20-port-contention.md",
    criteria: &s20::CRITERIA,
}];

/// Looks a scenario up by number.
pub fn find(number: u32) -> Option<&'static ScenarioInfo> {
    SCENARIOS.iter().find(|s| s.number == number)
}
