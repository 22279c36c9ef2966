//! Scenario 23, memory and GPU exhaustion: an engine past its memory limit fails as "out of
//! memory" once and leaves nothing; a roomier limit reaches the container; a service that
//! needs GPUs the host lacks is refused before any container exists.

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
