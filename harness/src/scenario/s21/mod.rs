//! Scenario 21, timeout cascade: a start shorter than the engine's load time fails cleanly, a
//! retry works without cleanup, and the daemon keeps answering during a long start.

mod criteria;
mod judge;
mod steps;

pub use criteria::CRITERIA;

use crate::scenario::context::RunContext;
use crate::verdict::CriterionResult;

/// Runs the steps and judges every criterion.
pub fn run(ctx: &mut RunContext) -> Vec<CriterionResult> {
    judge::judge(&steps::run_steps(ctx))
}
