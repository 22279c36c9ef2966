//! Running one scenario end to end: refuse if the port is busy, isolate (own data dir, own
//! instance, simulator image), start the daemon, run the steps, clean up, judge and report.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use anyhow::Context;

use crate::exec::locate_binaries;
use crate::fixtures::census::DockerView;
use crate::fixtures::daemon::AimaDaemon;
use crate::fixtures::port_check::{check_port, free_port};
use crate::fixtures::run_marker::{RunMarker, sweep_stale};
use crate::fixtures::sim_image::simulator_image;
use crate::reaper::{RUN_ENV, Reaper, take_leftovers};
use crate::report::{self, Report};
use crate::timeline::EventKind;

use super::context::RunContext;
use super::s20;

/// What to run and where to write.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub scenario: u32,
    pub aima_bin: Option<PathBuf>,
    pub sim_bin: Option<PathBuf>,
    pub port: u16,
    pub reports: PathBuf,
    /// No step lines on stderr (tests).
    pub quiet: bool,
}

/// The run could not start: nothing was judged.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RunRefused(pub String);

/// A finished run.
#[derive(Debug)]
pub struct RunOutcome {
    pub run_dir: PathBuf,
    pub report: Report,
}

fn run_id(scenario: u32) -> String {
    let stamp = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let stamp: String = stamp.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("{stamp}-s{scenario}-{:x}", std::process::id())
}

/// Runs a scenario; `Err(RunRefused)` when preconditions (free port, Docker) are not met.
pub fn run_scenario(options: &RunOptions) -> anyhow::Result<RunOutcome> {
    let info = super::find(options.scenario).ok_or_else(|| {
        RunRefused(format!(
            "no scenario {}; see `harness list`",
            options.scenario
        ))
    })?;
    let port_state = check_port(options.port);
    if !port_state.is_free() {
        return Err(RunRefused(format!(
            "{}; the scenario needs it free before it starts (pick another with --port)",
            port_state.describe()
        ))
        .into());
    }
    let docker = DockerView::connect().map_err(|e| RunRefused(format!("{e:#}")))?;
    let bins = locate_binaries(options.aima_bin.as_deref(), options.sim_bin.as_deref())
        .map_err(|e| RunRefused(format!("{e:#}")))?;
    let started_at = SystemTime::now();
    let wall = Instant::now();
    let run_id = run_id(options.scenario);
    let run_dir = std::path::absolute(options.reports.join(&run_id))?;
    let data_dir = run_dir.join("data");
    std::fs::create_dir_all(&data_dir).context("creating the run's data dir")?;
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()?));
    let mut marker = RunMarker::new(&run_id, &data_dir, vec![options.port, listen.port()]);
    marker.write().context("writing the run marker")?;
    // Earlier runs first: what their reapers cleaned up, then runs nobody cleaned up.
    let mut leftovers: Vec<String> = take_leftovers().iter().map(|r| r.summary()).collect();
    leftovers.extend(sweep_stale().iter().map(|r| r.summary()));
    let reaper = Reaper::launch(&marker.target, &run_dir).context("starting the reaper")?;
    marker.set_reaper(reaper.pid)?;

    let image = simulator_image(&bins.sim, &[], &run_id, &run_dir)
        .map_err(|e| RunRefused(format!("{e:#}")))?;
    let base_env = vec![
        ("AIMA_DATA_DIR".to_owned(), data_dir.display().to_string()),
        ("AIMA_VLLM_IMAGE".to_owned(), image),
        ("AIMA_VLLM_GPU".to_owned(), "false".to_owned()),
        ("AIMA_VLLM_PORT".to_owned(), options.port.to_string()),
        ("AIMA_LOG".to_owned(), "info".to_owned()),
        (RUN_ENV.to_owned(), run_id.clone()),
    ];
    let mut ctx = RunContext::new(
        run_id,
        run_dir.clone(),
        data_dir,
        options.port,
        bins,
        base_env,
        docker,
        options.quiet,
    );
    ctx.say(&format!(
        "scenario {}: {} -> {}",
        info.number,
        info.title,
        run_dir.display()
    ));
    for line in leftovers {
        eprintln!("warning: leftovers of an earlier run: {line}");
        ctx.event(
            EventKind::Observation,
            format!("warning: leftovers of an earlier run: {line}"),
        );
        ctx.leftovers.push(line);
    }
    ctx.take_baseline()?;

    let observations =
        match AimaDaemon::start(&ctx.bins.aima, &ctx.base_env, listen, &run_dir.join("logs")) {
            Ok(mut daemon) => {
                ctx.event(
                    EventKind::Operation,
                    format!(
                        "aima start --listen {listen}: healthy after {}ms (pid {})",
                        daemon.ready_ms, daemon.pid
                    ),
                );
                let observations = s20::run_steps(&mut ctx);
                clean_up(&mut ctx);
                let stopped = daemon.stop();
                // "Stopped" only once verified: no process of its group left, its port closed.
                let (kind, verb) = if stopped.verified {
                    (EventKind::Operation, "stopped")
                } else {
                    (EventKind::Observation, "did NOT stop")
                };
                ctx.event(kind, format!("aima daemon {verb}: {}", stopped.describe()));
                observations
            }
            Err(err) => s20::Observations {
                missing: vec![format!("{err:#}")],
                ..s20::Observations::default()
            },
        };
    let orphans = ctx.census("at the end of the run")?;
    remove_own_containers(&mut ctx);

    let criteria = s20::judge(&observations);
    let report = report::build(&ctx, info, criteria, &orphans, started_at, wall.elapsed());
    report::write_all(&report, &run_dir)?;
    // The reaper's final check; it also removes the run marker.
    if let Some(problem) = reaper.finish() {
        eprintln!("warning: {problem}");
    }
    Ok(RunOutcome { run_dir, report })
}

/// The scenario's cleanup: stop every service of this run's data dir.
fn clean_up(ctx: &mut RunContext) {
    let quick = std::time::Duration::from_secs(30);
    let list = ctx.aima(
        "cleanup: list services",
        &["service", "list", "--output", "json"],
        &[],
        quick,
    );
    let ids: Vec<String> = serde_json::from_str::<serde_json::Value>(list.stdout.trim())
        .ok()
        .and_then(|v| v["items"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|item| item["id"].as_str().map(str::to_owned))
        .collect();
    for id in ids {
        ctx.aima(
            "cleanup: stop service",
            &["service", "stop", &id],
            &[],
            quick,
        );
    }
}

/// Removes containers carrying this run's `aima.instance` or run label — never anything else.
fn remove_own_containers(ctx: &mut RunContext) {
    let own = ctx.docker.owned_by_run(&ctx.instance, &ctx.run_id);
    for container in own {
        let result = ctx.docker.remove(&container.id);
        ctx.event(
            EventKind::Heal,
            format!(
                "removed own leftover container {}: {result:?}",
                container.name
            ),
        );
    }
}
