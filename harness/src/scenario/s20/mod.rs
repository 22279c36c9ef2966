//! Scenario 20, port contention and resource exhaustion: criteria, steps, observations, judge.

mod criteria;
mod judge;
mod observations;
mod steps;

pub use criteria::CRITERIA;
pub use judge::judge;
pub use steps::run_steps;

use crate::scenario::context::RunContext;
use crate::verdict::CriterionResult;

/// Runs the steps against the run's daemon and judges every criterion.
pub fn run(ctx: &mut RunContext) -> Vec<CriterionResult> {
    judge(&run_steps(ctx))
}

#[cfg(test)]
mod judge_tests;
