//! Command-line interface: `harness scenario N`, `harness list`, and the hidden fixture
//! commands the harness runs as child processes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::fixtures::block_port::{BlockPortArgs, block_port};
use crate::report::summary_table;
use crate::scenario::{RunOptions, RunRefused, SCENARIOS, run_scenario};

/// Exit code when the run could not start (busy port, no Docker, unknown scenario).
pub const EXIT_REFUSED: u8 = 2;
/// Exit code when a criterion failed or was skipped.
pub const EXIT_NOT_ALL_PASS: u8 = 1;

#[derive(Debug, Parser)]
#[command(
    name = "harness",
    version,
    about = "Black-box scenario conformance harness for aima"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Commands,
}

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Run a scenario against an aima build and write reports.
    Scenario {
        /// Scenario number (see `harness list`).
        number: u32,
        /// aima binary or wrapper script (default: the workspace's debug build).
        #[arg(long)]
        aima_bin: Option<PathBuf>,
        /// aima-engine-sim binary (default: next to the workspace's aima).
        #[arg(long)]
        sim_bin: Option<PathBuf>,
        /// The service port the scenario contends for.
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// Where `<run id>/` report folders go.
        #[arg(long, default_value = "reports")]
        reports: PathBuf,
        /// Print no step lines, only the summary.
        #[arg(long)]
        quiet: bool,
    },
    /// List the scenarios and their criteria.
    List,
    /// Fixture processes the harness starts itself.
    #[command(hide = true)]
    Fixture {
        #[command(subcommand)]
        fixture: Fixture,
    },
}

#[derive(Debug, Subcommand)]
pub enum Fixture {
    /// Hold a TCP port like an unrelated program would.
    BlockPort(BlockPortArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Commands::List => {
            for scenario in SCENARIOS {
                println!(
                    "{}  {}  ({})",
                    scenario.number, scenario.title, scenario.document
                );
                for criterion in scenario.criteria {
                    println!("    {}  {}", criterion.id, criterion.title);
                }
            }
            ExitCode::SUCCESS
        }
        Commands::Fixture {
            fixture: Fixture::BlockPort(args),
        } => match block_port(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: {err:#}");
                ExitCode::from(EXIT_NOT_ALL_PASS)
            }
        },
        Commands::Scenario {
            number,
            aima_bin,
            sim_bin,
            port,
            reports,
            quiet,
        } => {
            let options = RunOptions {
                scenario: number,
                aima_bin,
                sim_bin,
                port,
                reports,
                quiet,
            };
            scenario(&options)
        }
    }
}

fn scenario(options: &RunOptions) -> ExitCode {
    match run_scenario(options) {
        Ok(outcome) => {
            println!("{}", summary_table(&outcome.report));
            println!(
                "reports: {}/report.md (also report.json, junit.xml)",
                outcome.run_dir.display()
            );
            if outcome.report.all_pass() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_NOT_ALL_PASS)
            }
        }
        Err(err) => {
            if let Some(refused) = err.downcast_ref::<RunRefused>() {
                eprintln!("error: cannot run scenario {}: {refused}", options.scenario);
                ExitCode::from(EXIT_REFUSED)
            } else {
                eprintln!("error: the harness itself failed (a bug): {err:#}");
                ExitCode::from(EXIT_REFUSED)
            }
        }
    }
}
