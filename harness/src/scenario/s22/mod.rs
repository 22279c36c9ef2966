//! Scenario 22, graceful shutdown: SIGTERM drains and exits cleanly leaving engines running;
//! SIGKILL loses nothing committed; the database stays sound; restarts are clean.

mod criteria;
mod integrity;
mod judge;
mod steps;

pub use criteria::CRITERIA;

use crate::scenario::context::RunContext;
use crate::verdict::CriterionResult;

/// Runs the steps and judges every criterion.
pub fn run(ctx: &mut RunContext) -> Vec<CriterionResult> {
    judge::judge(&steps::run_steps(ctx))
}
