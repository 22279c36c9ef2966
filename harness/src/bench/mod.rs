//! `harness bench [--quick]`: aima measured against raw Docker in one run. Each figure alternates
//! aima and its baseline and reports both as min / median / p95 / max with their ratio; the run
//! writes `reports/<run id>/bench.md`, `bench.json`, `latency.svg` and `cycles.svg`. Nothing is
//! asserted: the figures are the product. Everything the run creates carries its labels and
//! data dirs and is removed at the end (or on Ctrl-C).
//!
//! - `lab` — the isolated aima (data dir, daemon, token) and the Docker CLI baseline.
//! - `fail_fast`, `lifecycle`, `load`, `cycles`, `supervision` — the figures.
//! - `timed`, `docker_api`, `stats` — measuring; `model`, `report`, `plots` — the outputs.

mod cycles;
mod docker_api;
mod fail_fast;
mod lab;
mod lifecycle;
mod load;
mod model;
mod plots;
mod report;
mod stats;
mod supervision;
mod timed;

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;

use crate::exec::locate_binaries_with;
use crate::fixtures::census::DockerView;
use crate::fixtures::port_check::free_port;
use crate::fixtures::sim_image::simulator_image;
use lab::Lab;
use model::BenchReport;

/// What `harness bench` was asked for.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub quick: bool,
    /// Runs per figure (default: 20, or 3 with `--quick`).
    pub runs: Option<usize>,
    /// Build and measure the release profile (the default) or the dev profile.
    pub release: bool,
    pub aima_bin: Option<PathBuf>,
    pub sim_bin: Option<PathBuf>,
    pub reports: PathBuf,
}

/// How much each figure measures.
struct Plan {
    runs: usize,
    start_runs: usize,
    concurrent_runs: usize,
    concurrent: usize,
    clients: usize,
    per_client: usize,
    cycles: usize,
    list_sizes: Vec<usize>,
    list_runs: usize,
    restart_runs: usize,
    idle_engines: usize,
    idle_window: Duration,
}

impl Plan {
    fn of(options: &BenchOptions) -> Self {
        if options.quick {
            let runs = options.runs.unwrap_or(3);
            Plan {
                runs,
                start_runs: runs.min(2),
                concurrent_runs: 1,
                concurrent: 20,
                clients: 50,
                per_client: 2,
                cycles: 20,
                list_sizes: vec![100, 1000],
                list_runs: runs.min(2),
                restart_runs: runs,
                idle_engines: 5,
                idle_window: Duration::from_secs(15),
            }
        } else {
            let runs = options.runs.unwrap_or(20);
            Plan {
                runs,
                start_runs: runs.min(10),
                concurrent_runs: 3,
                concurrent: 20,
                clients: 50,
                per_client: 20,
                cycles: 100,
                list_sizes: vec![1000, 10_000],
                list_runs: runs.min(5),
                restart_runs: runs.min(10),
                idle_engines: 50,
                idle_window: Duration::from_secs(60),
            }
        }
    }
}

/// Runs the bench and returns the report's directory.
pub fn run_bench(options: &BenchOptions) -> anyhow::Result<PathBuf> {
    let docker = DockerView::connect()?;
    let server = docker.server()?;
    let bins = locate_binaries_with(
        options.aima_bin.as_deref(),
        options.sim_bin.as_deref(),
        options.release,
    )?;
    let plan = Plan::of(options);
    let epoch = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)?
        .as_secs();
    let run_id = format!("bench-{epoch}-{}", free_port()?);
    let run_dir = std::path::absolute(options.reports.join(&run_id))?;
    std::fs::create_dir_all(&run_dir).context("creating the report directory")?;
    let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let wall = Instant::now();
    let load_before = load_average();
    println!("bench {run_id} -> {}", run_dir.display());

    let image = simulator_image(&bins.sim, &[], &run_id, &run_dir)?;
    let mut figures = Vec::new();
    let mut notes = Vec::new();
    let cycles = {
        let lab = Lab::new(&bins.aima, &run_id, &run_dir, &image, "data")?;
        say("port conflict");
        figures.extend(fail_fast::port_conflict(&lab, plan.runs)?);
        say("Docker unreachable");
        figures.extend(fail_fast::docker_unreachable(&lab, plan.runs)?);
        say("start and stop");
        figures.extend(lifecycle::start_stop(&lab, plan.start_runs)?);
        say("concurrent starts");
        figures.push(lifecycle::concurrent(
            &lab,
            plan.concurrent_runs,
            plan.concurrent,
        )?);
        say("concurrent API clients");
        let svc = lab.service(free_port()?)?;
        figures.push(load::concurrent_clients(
            &lab,
            &svc,
            plan.clients,
            plan.per_client,
            false,
        )?);
        say("concurrent API clients of a running service");
        figures.push(load::running_clients(
            &lab,
            &svc,
            plan.clients,
            plan.per_client,
        )?);
        say("start/fail cycles");
        cycles::start_fail_cycles(&lab, plan.cycles)?
    };
    {
        let lab = Lab::new(&bins.aima, &run_id, &run_dir, &image, "data-list")?;
        say("service list at size");
        figures.extend(load::list_latency(
            &lab,
            &plan.list_sizes,
            plan.list_runs,
            &mut notes,
        )?);
    }
    let idle = {
        let lab = Lab::new(&bins.aima, &run_id, &run_dir, &image, "data-supervision")?;
        say("restart after kill");
        figures.push(supervision::restart_after_kill(&lab, plan.restart_runs)?);
        say("idle cost of supervision");
        supervision::idle_cost(&lab, plan.idle_engines, plan.idle_window)?
    };
    notes.push(
        "the machine is shared with other builds and tests: compare ratios (measured side by side) rather than absolute figures across runs".to_owned(),
    );

    let plots = vec!["latency.svg".to_owned(), "cycles.svg".to_owned()];
    std::fs::write(run_dir.join("latency.svg"), plots::latency(&figures))?;
    std::fs::write(run_dir.join("cycles.svg"), plots::cycles(&cycles))?;
    let report = BenchReport {
        run_id,
        quick: options.quick,
        profile: if options.release { "release" } else { "dev" }.to_owned(),
        aima_bin: bins.aima.display().to_string(),
        aima_version: version_of(&bins.aima),
        image,
        docker: format!("{} (API {})", server.version, server.api_version),
        load: format!("{load_before} / {}", load_average()),
        started_at,
        wall_secs: wall.elapsed().as_secs_f64(),
        figures,
        cycles,
        idle,
        notes,
        plots,
    };
    std::fs::write(
        run_dir.join("bench.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    let markdown = report::markdown(&report);
    std::fs::write(run_dir.join("bench.md"), &markdown)?;
    println!("{}", report::table(&report.figures));
    println!(
        "reports: {}/bench.md (also bench.json, latency.svg, cycles.svg)",
        run_dir.display()
    );
    Ok(run_dir)
}

fn say(what: &str) {
    println!("== {what}");
}

/// The 1, 5 and 15 minute load averages.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// The first line `aima --version` prints (its version and commit), or why there is none.
fn version_of(aima: &std::path::Path) -> String {
    match std::process::Command::new(aima).arg("--version").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned(),
        Ok(out) => format!("unknown (`aima --version` exited {})", out.status),
        Err(e) => format!("unknown (`aima --version` failed: {e})"),
    }
}
