//! The CLI as a process on a data dir of its own: its contract, errors, output and concurrency.

mod concurrency;
mod contract;
mod errors;
mod output;
mod verbs;
