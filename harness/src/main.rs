//! `harness`: parse the command line and hand over to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    harness::cli::run(harness::cli::Cli::parse())
}
