//! Scenario 6, lifecycle stress: five start/stop cycles of one service, and a stop that must win
//! over a start in progress.

mod criteria;
mod judge;
mod race;
mod steps;

pub use criteria::CRITERIA;

use crate::scenario::context::RunContext;
use crate::verdict::CriterionResult;

/// Runs the cycles and judges every criterion.
pub fn run(ctx: &mut RunContext) -> Vec<CriterionResult> {
    judge::judge(&steps::run_steps(ctx))
}
