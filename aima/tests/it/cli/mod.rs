//! The CLI as a process on a data dir of its own: backup and restore, its contract, conventions, errors,
//! output, `info`, concurrency and upgrades of older data dirs.

mod apply;
mod backup;
mod concurrency;
mod contract;
mod conventions;
mod disk_full;
mod errors;
mod hostile_data_dir;
mod info;
mod output;
mod supervision;
pub(crate) mod upgrade;
mod verbs;
