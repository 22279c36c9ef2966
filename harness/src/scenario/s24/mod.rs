//! Scenario 24, GPU contention on a GPU host: a second service on a running service's GPU is
//! refused naming it, services on different GPUs both run, and each container carries exactly
//! its device request. Without a GPU every criterion is SKIP with the reason, never PASS.

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
