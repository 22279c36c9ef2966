//! Scenario 20, port contention and resource exhaustion: criteria, steps, observations, judge.

mod aima_json;
mod criteria;
mod judge;
mod observations;
mod steps;

pub use criteria::CRITERIA;
pub use judge::judge;
pub use observations::Observations;
pub use steps::run_steps;

#[cfg(test)]
mod judge_tests;
