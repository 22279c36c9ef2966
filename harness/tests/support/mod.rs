//! Shared pieces of the scenario test target.

pub mod cases;
pub mod chaos;
pub mod leftovers;
