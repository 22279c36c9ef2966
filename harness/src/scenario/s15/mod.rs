//! Scenario 15, API authentication: open on loopback without a token, closed with one, refused
//! when exposed without one, and the token never written anywhere; the status page's sessions
//! end at sign-out, and unfinished sign-ins cannot crowd out anyone else.

mod criteria;
mod hostile;
mod judge;
mod steps;

pub use criteria::CRITERIA;

use crate::scenario::context::RunContext;
use crate::verdict::CriterionResult;

/// Runs the steps and judges every criterion.
pub fn run(ctx: &mut RunContext) -> Vec<CriterionResult> {
    judge::judge(&steps::run_steps(ctx))
}
