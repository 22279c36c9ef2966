//! Running the programs under test: locating binaries and recording each invocation as evidence.

mod command;
mod locate;

pub use command::{CommandRecord, Invocation, millis, save_logs, slug};
pub use locate::{BinaryPaths, locate_binaries, workspace_binaries};
