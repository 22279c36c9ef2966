//! The dead-man's switch. At the start of a run the harness launches `harness reaper` (a
//! hidden subcommand) in its own process group, with a pipe as its stdin. The harness writes
//! one line per process group it starts or verifiably stops; every process it starts also
//! carries the run id in its environment ([`RUN_ENV`]). When the pipe closes — the harness
//! finished, or died in any way, SIGKILL included — the reaper stops every process of the run,
//! removes the containers labelled for the run, checks the run's ports, records what it had to
//! do and exits. The next run reports those records as warnings, with their run ids. Each run
//! also leaves a marker (`marker`), so a run whose harness and reaper both died is swept by the
//! next one.
//!
//! Inside, lower to higher: `target` (what a run is) < `marker` < `record` < `sweep` < `link`.
//! The reaper sits above `fixtures` (it sweeps with the census and the port probe) and hooks
//! into `exec`'s process groups rather than being called by them.

mod link;
mod marker;
mod record;
mod sweep;
mod target;

pub(crate) use link::Reaper;
pub(crate) use marker::{RunMarker, instance_of, live_instances_except, private_dir};
pub(crate) use record::take_leftovers;
pub(crate) use sweep::{ReaperArgs, run_reaper, sweep_stale};
