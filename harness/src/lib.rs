//! The aima scenario conformance harness: drives aima as a black box (its CLI, its HTTP API
//! and Docker's view), injects faults, judges each scenario criterion and writes reports.

pub mod catalog;
pub mod cli;
pub mod exec;
pub mod fixtures;
pub mod report;
pub mod scenario;
pub mod timeline;
pub mod verdict;
