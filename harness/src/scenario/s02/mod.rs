//! Scenario 2, zero to inference: a real llama.cpp server (the image `ci/llama-image.sh` builds)
//! serving a tiny GGUF registered from a local directory and as a file, asked through
//! `aima inference chat` and a standard OpenAI client; then an invalid GGUF that must fail once
//! with the engine's own reason.

mod contexts;
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
