//! Running the programs under test: locating binaries, process groups with verified stops, and
//! recording each invocation as evidence.

mod command;
pub(crate) mod group;
mod locate;
pub(crate) mod procfs;

pub(crate) use command::{CommandRecord, Invocation, millis};
pub(crate) use locate::locate_binaries_with;
pub use locate::{BinaryPaths, locate_binaries, workspace_binaries};
