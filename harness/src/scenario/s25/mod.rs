//! Scenario 25, supervision: engines killed, crash-looping, hung, their port taken, the daemon
//! killed; the daemon restarts them per policy, one container at a time, and an operator's stop
//! wins.

mod changelog;
mod criteria;
mod faults;
mod judge;
mod judge_loop;
mod probe;
mod setup;
mod steps;
mod watch;

pub use criteria::CRITERIA;

use crate::scenario::context::RunContext;
use crate::verdict::CriterionResult;

/// Runs the steps and judges every criterion.
pub fn run(ctx: &mut RunContext) -> Vec<CriterionResult> {
    judge::judge(&steps::run_steps(ctx))
}
