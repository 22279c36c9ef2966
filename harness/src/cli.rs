//! Command-line interface: `harness scenario N|all`, `harness list`, and the hidden fixture
//! commands the harness runs as child processes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::bench::{BenchOptions, run_bench};
use crate::fixtures::port_blocker::holder::{BlockPortArgs, hold_port};
use crate::reaper::{ReaperArgs, run_reaper};
use crate::report::{plain_summary, series, series_table};
use crate::scenario::{AimaRuntime, RunOptions, RunRefused, SCENARIOS, run_scenario};

pub use crate::verdict::{EXIT_NOT_ALL_PASS, EXIT_REFUSED};

#[derive(Debug, Parser)]
#[command(
    name = "harness",
    version,
    about = "Black-box scenario conformance harness for aima"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Commands,
}

/// What `harness scenario` runs: one scenario by number, or every scenario of the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    One(u32),
    All,
}

fn parse_target(text: &str) -> Result<Target, String> {
    if text == "all" {
        return Ok(Target::All);
    }
    text.parse()
        .map(Target::One)
        .map_err(|_| format!("{text:?} is neither a scenario number nor `all`"))
}

#[derive(Debug, Subcommand)]
enum Commands {
    /// Run a scenario (or `all` of the manifest) against an aima build and write reports.
    Scenario {
        /// Scenario number (see `harness list`), or `all`.
        #[arg(value_parser = parse_target)]
        target: Target,
        /// aima binary or wrapper script (default: the workspace's debug build, rebuilt first).
        #[arg(long)]
        aima_bin: Option<PathBuf>,
        /// aima-engine-sim binary (default: next to the workspace's aima).
        #[arg(long)]
        sim_bin: Option<PathBuf>,
        /// The service port (default: 8000 for scenario 20, a free port for the others).
        #[arg(long)]
        port: Option<u16>,
        /// Where report folders go.
        #[arg(long, default_value = "reports")]
        reports: PathBuf,
        /// Print no step lines, only the summary.
        #[arg(long)]
        quiet: bool,
        /// Run each scenario N times and report each figure's min / median / max.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
        repeat: u32,
        /// The manifest `all` must satisfy (default: scenarios/manifest.txt of the workspace).
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// The manifest tier `all` runs: `simulator` (Docker and the engine simulator only) or
        /// `real-engine` (needs the inputs `ci/real-engine.sh` prepares).
        #[arg(long, default_value = crate::scenario::manifest::DEFAULT_TIER)]
        tier: String,
        /// The runtime aima runs engines on: `docker`, or `swarm` (Docker must be a Swarm
        /// manager: `bash ci/swarm.sh run …` makes a single-node swarm for the run).
        #[arg(long, value_enum, default_value_t = AimaRuntime::Docker)]
        runtime: AimaRuntime,
    },
    /// List the scenarios and their criteria.
    List,
    /// Measure aima against raw Docker (alternating, in one run) and write bench.md,
    /// bench.json and SVG plots under reports/<run id>/.
    Bench {
        /// A smoke run: few repetitions and smaller sizes (what CI runs).
        #[arg(long)]
        quick: bool,
        /// Repetitions per figure (default 20, or 3 with --quick).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1000))]
        runs: Option<u32>,
        /// Measure the dev (debug) build instead of the release build.
        #[arg(long)]
        debug: bool,
        /// aima binary (default: the workspace's build of the chosen profile, rebuilt first).
        #[arg(long)]
        aima_bin: Option<PathBuf>,
        /// aima-engine-sim binary (default: next to the workspace's aima).
        #[arg(long)]
        sim_bin: Option<PathBuf>,
        /// Where report folders go.
        #[arg(long, default_value = "reports")]
        reports: PathBuf,
    },
    /// Concurrent operations (CLI and API) and random faults against one aima daemon for a
    /// while, every invariant checked continuously and at the end; writes history.jsonl,
    /// summary.md and summary.json under reports/<run id>/.
    Chaos {
        /// How long the schedule runs, in seconds.
        #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(5..=86_400))]
        seconds: u64,
        /// The schedule's seed (default: a random one, printed); the same seed gives the same
        /// schedule.
        #[arg(long)]
        seed: Option<u64>,
        /// How many services the run keeps (each on its own port).
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=32))]
        services: u64,
        /// How many workers carry out operations at once (a fault worker comes on top).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=16))]
        workers: u64,
        /// Faults to inject: comma-separated names, `all` or `none` (see docs/harness.md).
        #[arg(long, default_value = "all", value_parser = crate::chaos::parse_faults)]
        faults: std::vec::Vec<crate::chaos::FaultKind>,
        /// The runtime aima runs engines on: `docker`, or `swarm` (Docker must be a Swarm
        /// manager: `bash ci/swarm.sh run …` makes a single-node swarm for the run and leaves it
        /// again); the faults that make no sense on a Swarm are left out and listed as SKIP.
        #[arg(long, value_enum, default_value_t = AimaRuntime::Docker)]
        runtime: AimaRuntime,
        /// Replay the schedule recorded in a history.jsonl (seed, length, faults and runtime come
        /// from it).
        #[arg(long, value_name = "HISTORY", conflicts_with_all = ["seed", "seconds", "services", "workers", "faults", "runtime"])]
        replay: Option<PathBuf>,
        /// aima binary or wrapper script (default: the workspace's debug build, rebuilt first).
        #[arg(long)]
        aima_bin: Option<PathBuf>,
        /// aima-engine-sim binary (default: next to the workspace's aima).
        #[arg(long)]
        sim_bin: Option<PathBuf>,
        /// Where the run's report folder goes.
        #[arg(long, default_value = "reports")]
        reports: PathBuf,
        /// Print no line per operation, only the summary.
        #[arg(long)]
        quiet: bool,
        /// After a failing run, search this long for a smaller schedule that still fails
        /// (0: do not shrink).
        #[arg(long, default_value_t = 300)]
        shrink_secs: u64,
    },
    /// Fixture processes the harness starts itself.
    #[command(hide = true)]
    Fixture {
        #[command(subcommand)]
        fixture: Fixture,
    },
    /// The run's dead-man's switch (started by the harness): when its stdin closes, stop the
    /// run's processes, remove its labelled containers and record what that took.
    #[command(hide = true)]
    Reaper(ReaperArgs),
}

#[derive(Debug, Subcommand)]
enum Fixture {
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
        } => helper_exit(hold_port(&args)),
        Commands::Bench {
            quick,
            runs,
            debug,
            aima_bin,
            sim_bin,
            reports,
        } => {
            let options = BenchOptions {
                quick,
                runs: runs.map(|n| n as usize),
                release: !debug,
                aima_bin,
                sim_bin,
                reports,
            };
            match run_bench(&options) {
                Ok(_) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("error: the bench could not run: {err:#}");
                    ExitCode::from(EXIT_REFUSED)
                }
            }
        }
        Commands::Reaper(args) => helper_exit(run_reaper(&args)),
        Commands::Chaos {
            seconds,
            seed,
            services,
            workers,
            faults,
            replay,
            aima_bin,
            sim_bin,
            reports,
            quiet,
            shrink_secs,
            runtime,
        } => chaos(&crate::chaos::ChaosOptions {
            seconds,
            seed,
            services: services as usize,
            workers: workers as usize,
            faults,
            aima_bin,
            sim_bin,
            reports,
            replay,
            quiet,
            shrink: std::time::Duration::from_secs(shrink_secs),
            runtime,
        }),
        Commands::Scenario {
            target,
            aima_bin,
            sim_bin,
            port,
            reports,
            quiet,
            repeat,
            manifest,
            tier,
            runtime,
        } => {
            let options = RunOptions {
                scenario: 0,
                aima_bin,
                sim_bin,
                port,
                reports,
                quiet,
                runtime,
            };
            match target {
                Target::All => {
                    crate::catalog::run_all(&options, repeat, manifest.as_deref(), &tier)
                }
                Target::One(number) => {
                    let options = RunOptions {
                        scenario: number,
                        ..options
                    };
                    if repeat == 1 {
                        scenario(&options)
                    } else {
                        scenario_series(&options, repeat)
                    }
                }
            }
        }
    }
}

/// `harness chaos`: 0 when no invariant broke, 1 with violations, 2 when it could not run.
fn chaos(options: &crate::chaos::ChaosOptions) -> ExitCode {
    match crate::chaos::run_chaos(options) {
        Ok(summary) => {
            println!("{}", summary.plain());
            if summary.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_NOT_ALL_PASS)
            }
        }
        Err(err) => {
            if let Some(refused) = err.downcast_ref::<RunRefused>() {
                eprintln!("error: cannot run chaos: {refused}");
            } else {
                eprintln!("error: the harness itself failed (a bug): {err:#}");
            }
            ExitCode::from(EXIT_REFUSED)
        }
    }
}

/// Exit status of a helper process (blocker, reaper): 0, or 1 with the error on stderr.
fn helper_exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_NOT_ALL_PASS)
        }
    }
}

fn scenario(options: &RunOptions) -> ExitCode {
    match run_once(options) {
        Ok(report) if report.all_pass() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(EXIT_NOT_ALL_PASS),
        Err(code) => code,
    }
}

/// Runs the scenario `repeat` times (each a full, isolated run with its own reports), then
/// writes `series.json` and `series.md` with every figure's spread over the runs.
fn scenario_series(options: &RunOptions, repeat: u32) -> ExitCode {
    let mut reports = Vec::new();
    for n in 1..=repeat {
        println!("== run {n} of {repeat}");
        match run_once(options) {
            Ok(report) => reports.push(report),
            Err(code) => return code,
        }
    }
    let series = series(&reports);
    let table = series_table(&series);
    println!("{table}");
    let dir = options
        .reports
        .join(format!("series-{}", reports[0].run_id));
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join("series.md"), &table))
        .and_then(|()| {
            let json = serde_json::to_string_pretty(&series).map_err(std::io::Error::other)?;
            std::fs::write(dir.join("series.json"), json)
        });
    match written {
        Ok(()) => println!("series: {}/series.md (also series.json)", dir.display()),
        Err(e) => eprintln!(
            "warning: series summary not written to {}: {e}",
            dir.display()
        ),
    }
    if series.passed == reports.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_NOT_ALL_PASS)
    }
}

/// One run: prints its summary and where its reports are; `Err` carries the refusal's exit code.
fn run_once(options: &RunOptions) -> Result<crate::report::Report, ExitCode> {
    match run_scenario(options) {
        Ok(outcome) => {
            println!("{}", plain_summary(&outcome.report));
            println!(
                "reports: {}/report.md (also report.json, junit.xml)",
                outcome.run_dir.display()
            );
            Ok(outcome.report)
        }
        Err(err) => {
            if let Some(refused) = err.downcast_ref::<RunRefused>() {
                eprintln!("error: cannot run scenario {}: {refused}", options.scenario);
            } else {
                eprintln!("error: the harness itself failed (a bug): {err:#}");
            }
            Err(ExitCode::from(EXIT_REFUSED))
        }
    }
}
