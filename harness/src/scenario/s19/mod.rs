//! Scenario 19, restart survival: the daemon is killed with SIGKILL mid-start and restarted;
//! records survive, running engines are adopted, the interrupted start is resolved.

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
