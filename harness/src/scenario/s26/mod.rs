//! Scenario 26, a shared server: two people and root use one daemon through its socket as
//! themselves; ownership refuses one's stop of the other's service, an admin may, a quota holds
//! a person before any container exists, the events name who did what, and a named token acts
//! as its person over TCP.

mod accounts;
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
