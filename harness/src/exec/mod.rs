//! Running the programs under test: locating binaries, process groups with verified stops, the
//! run id every process carries, and recording each invocation as evidence. The lowest layer:
//! it knows nothing of fixtures or the reaper (which hooks into the groups, see
//! [`group::watch_groups`]).

mod command;
pub(crate) mod group;
mod locate;
pub(crate) mod procfs;
mod run_env;

pub(crate) use command::{CommandRecord, Invocation, millis};
pub(crate) use locate::locate_binaries_with;
pub use locate::{BinaryPaths, locate_binaries, workspace_binaries};
pub(crate) use run_env::RUN_ENV;
