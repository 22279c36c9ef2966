//! The dead-man's switch. At the start of a run the harness launches `harness reaper` (a
//! hidden subcommand) in its own process group, with a pipe as its stdin. The harness writes
//! one line per process group it starts or verifiably stops; every process it starts also
//! carries the run id in its environment ([`RUN_ENV`]). When the pipe closes — the harness
//! finished, or died in any way, SIGKILL included — the reaper stops every process of the run,
//! removes the containers labelled for the run, checks the run's ports, records what it had to
//! do and exits. The next run reports those records as warnings, with their run ids.

mod link;
mod record;
mod sweep;

pub(crate) use link::{Reaper, announce, retire};
pub(crate) use record::{ReapRecord, take_leftovers};
pub(crate) use sweep::{ReaperArgs, Target, run_reaper, sweep};

/// Environment variable naming the harness run in every process the harness starts.
pub(crate) const RUN_ENV: &str = "AIMA_HARNESS_RUN_ID";
