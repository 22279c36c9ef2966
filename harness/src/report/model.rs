//! The report document. Its JSON form is a stable schema documented in `reports/README.md`;
//! fields are only ever added, and `schema` changes when one changes meaning. The scenario
//! runner fills it in (`crate::scenario`); this crate's report modules only render it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::exec::CommandRecord;
use crate::timeline::Event;
use crate::verdict::CriterionResult;

use super::Environment;

/// Schema identifier written into every report.
pub const SCHEMA: &str = "aima-harness-report/1";

/// Verdict counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub skip: usize,
}

/// The scenario a report is about.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioRef {
    pub number: u32,
    pub title: String,
    pub document: String,
}

/// Everything a run produced.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub run_id: String,
    pub scenario: ScenarioRef,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub wall_time_ms: u64,
    /// `pass` only when every criterion passed (and the scenario did not crash).
    pub outcome: &'static str,
    /// Set when the scenario panicked: what it said. Its criteria are then skipped.
    pub crashed: Option<String>,
    pub counts: Counts,
    pub port: u16,
    pub environment: Environment,
    /// Headline figures gathered from the criteria (e.g. `S20.C1.fast_fail_ms`).
    pub figures: BTreeMap<String, u64>,
    pub criteria: Vec<CriterionResult>,
    /// New `aima.engine` containers still present at the end, before the harness removed its own.
    pub orphans_at_end: Vec<String>,
    pub commands: Vec<CommandRecord>,
    pub timeline: Vec<Event>,
    /// What earlier harness runs left behind and their reapers (or this run) cleaned up, one
    /// line per earlier run, with its run id: a warning, not a verdict.
    pub leftovers_of_earlier_runs: Vec<String>,
}

impl Report {
    pub fn all_pass(&self) -> bool {
        self.outcome == "pass"
    }

    pub fn command(&self, index: usize) -> Option<&CommandRecord> {
        self.commands.iter().find(|c| c.index == index)
    }
}
