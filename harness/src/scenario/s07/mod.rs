//! Scenario 7, orphans and chaos: containers that look like aima's but belong to no service,
//! a start killed half-way, a container removed behind aima's back; aima cleans its own and
//! nothing else.

mod criteria;
mod judge;
mod plant;
mod steps;

pub use criteria::CRITERIA;

use crate::scenario::context::RunContext;
use crate::verdict::CriterionResult;

/// The daemon's reconcile period and reaper grace for this scenario: short, so the reaper acts
/// within the run.
pub const DAEMON_ENV: [(&str, &str); 2] =
    [("AIMA_RECONCILE_SECS", "1"), ("AIMA_REAP_GRACE_SECS", "3")];

/// Runs the steps and judges every criterion.
pub fn run(ctx: &mut RunContext) -> Vec<CriterionResult> {
    judge::judge(&steps::run_steps(ctx))
}
