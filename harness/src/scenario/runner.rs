//! Running one scenario end to end: refuse if the port is busy, isolate (own data dir, own
//! instance, simulator image), start the daemon, run the steps, clean up, judge and report.
//! A scenario that panics is caught here: cleanup still runs and the report says it crashed.

use std::net::{Ipv4Addr, SocketAddr};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use anyhow::Context;

use crate::exec::{RUN_ENV, locate_binaries};
use crate::fixtures::census::DockerView;
use crate::fixtures::port_check::{check_port, free_port};
use crate::fixtures::sim_image::simulator_image;
use crate::reaper::private_dir;
use crate::reaper::{Reaper, RunMarker, sweep_stale, take_leftovers};
use crate::report::{self, Report};
use crate::timeline::EventKind;

use super::aima_ops::{QUICK, service_ids, stop};
use super::assemble::build;
use super::context::RunContext;
use super::judging::all_skipped;
use super::{ScenarioInfo, find};

/// Names a scenario number whose run panics on purpose, to prove `scenario all` counts a
/// crashed scenario as a failure (the harness's own tests set it).
pub const SELF_TEST_PANIC_VAR: &str = "HARNESS_SELF_TEST_PANIC";

/// What to run and where to write.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub scenario: u32,
    pub aima_bin: Option<PathBuf>,
    pub sim_bin: Option<PathBuf>,
    /// The service port; `None` means the scenario's default (8000 for scenario 20) or a free one.
    pub port: Option<u16>,
    pub reports: PathBuf,
    /// No step lines on stderr (tests).
    pub quiet: bool,
    /// The runtime aima runs engines on (`AIMA_RUNTIME` of every aima command).
    pub runtime: AimaRuntime,
}

/// Which runtime the aima under test uses: plain Docker, or a Docker Swarm (which must be
/// active, with this Docker as a manager: `bash ci/swarm.sh run …` makes one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AimaRuntime {
    #[default]
    Docker,
    Swarm,
}

impl AimaRuntime {
    pub fn as_str(self) -> &'static str {
        match self {
            AimaRuntime::Docker => "docker",
            AimaRuntime::Swarm => "swarm",
        }
    }
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

fn refused(err: impl std::fmt::Display) -> RunRefused {
    RunRefused(err.to_string())
}

/// Runs a scenario; `Err(RunRefused)` when preconditions (free port, Docker) are not met.
pub fn run_scenario(options: &RunOptions) -> anyhow::Result<RunOutcome> {
    let info = find(options.scenario).ok_or_else(|| {
        RunRefused(format!(
            "no scenario {}; see `harness list`",
            options.scenario
        ))
    })?;
    if let (AimaRuntime::Swarm, Some(why)) = (options.runtime, info.not_on_swarm) {
        return Err(refused(format!(
            "scenario {} has no Swarm variant: {why}; run it with --runtime docker",
            info.number
        ))
        .into());
    }
    let port = match options.port.or(info.default_port) {
        Some(port) => port,
        None => free_port().context("choosing a free service port")?,
    };
    let port_state = check_port(port);
    if !port_state.is_free() {
        return Err(RunRefused(format!(
            "{}; the scenario needs it free before it starts (pick another with --port)",
            port_state.describe()
        ))
        .into());
    }
    let docker = DockerView::connect().map_err(|e| refused(format!("{e:#}")))?;
    if options.runtime == AimaRuntime::Swarm && !docker.is_swarm_manager() {
        return Err(refused(
            "--runtime swarm needs Docker in swarm mode as a manager; `bash ci/swarm.sh run cargo run -p harness -- scenario N --runtime swarm` turns a single-node swarm on for the run",
        )
        .into());
    }
    let bins = locate_binaries(options.aima_bin.as_deref(), options.sim_bin.as_deref())
        .map_err(|e| refused(format!("{e:#}")))?;
    let started_at = SystemTime::now();
    let wall = Instant::now();
    let run_id = run_id(options.scenario);
    let run_dir = std::path::absolute(options.reports.join(&run_id))?;
    let data_dir = run_dir.join("data");
    private_dir(&data_dir).context("creating the run's data dir")?;
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()?));
    let mut marker = RunMarker::new(&run_id, &data_dir, vec![port, listen.port()]);
    marker.write().context("writing the run marker")?;
    // Earlier runs first: what their reapers cleaned up, then runs nobody cleaned up.
    let mut leftovers: Vec<String> = take_leftovers().iter().map(|r| r.summary()).collect();
    leftovers.extend(sweep_stale().iter().map(|r| r.summary()));
    let reaper = Reaper::launch(&marker.target, &run_dir).context("starting the reaper")?;
    marker.set_reaper(reaper.pid)?;

    let image = simulator_image(&bins.sim, &[], &run_id, &run_dir)
        .map_err(|e| refused(format!("{e:#}")))?;
    let base_env = vec![
        ("AIMA_DATA_DIR".to_owned(), data_dir.display().to_string()),
        ("AIMA_VLLM_IMAGE".to_owned(), image),
        ("AIMA_VLLM_GPU".to_owned(), "false".to_owned()),
        ("AIMA_VLLM_PORT".to_owned(), port.to_string()),
        ("AIMA_LOG".to_owned(), "info".to_owned()),
        (RUN_ENV.to_owned(), run_id.clone()),
        (
            "AIMA_RUNTIME".to_owned(),
            options.runtime.as_str().to_owned(),
        ),
    ];
    let mut ctx = RunContext::new(
        run_id,
        run_dir.clone(),
        data_dir,
        port,
        bins,
        base_env,
        docker,
        listen,
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

    let outcome = catch_unwind(AssertUnwindSafe(|| run_steps(&mut ctx, info)));
    let (criteria, crashed) = match outcome {
        Ok(criteria) => (criteria, None),
        Err(panic) => {
            let message = panic_message(panic.as_ref());
            ctx.event(
                EventKind::Observation,
                format!("the scenario crashed (a harness bug): {message}"),
            );
            let reason = format!("the scenario crashed before judging: {message}");
            (all_skipped(info.criteria, &reason), Some(message))
        }
    };
    clean_up(&mut ctx);
    if ctx.daemon.is_some() {
        ctx.signal_daemon("TERM", std::time::Duration::from_secs(10));
    }
    let orphans = ctx.census("at the end of the run")?;
    remove_own_containers(&mut ctx);

    let mut report = build(&ctx, info, criteria, &orphans, started_at, wall.elapsed());
    report.crashed = crashed;
    if report.crashed.is_some() {
        report.outcome = "fail";
    }
    report::write_all(&report, &run_dir)?;
    // The reaper's final check; it also removes the run marker.
    if let Some(problem) = reaper.finish() {
        eprintln!("warning: {problem}");
    }
    Ok(RunOutcome { run_dir, report })
}

/// Starts the daemon when the scenario wants one, then runs its steps and judges them.
fn run_steps(ctx: &mut RunContext, info: &ScenarioInfo) -> Vec<crate::verdict::CriterionResult> {
    if std::env::var(SELF_TEST_PANIC_VAR).ok() == Some(info.number.to_string()) {
        panic!(
            "{SELF_TEST_PANIC_VAR}={} asked this run to panic",
            info.number
        );
    }
    if let Some(env) = info.daemon_env {
        if let Err(err) = ctx.start_daemon(env) {
            let reason = format!("the aima daemon did not start: {err:#}");
            return all_skipped(info.criteria, &reason);
        }
    }
    (info.run)(ctx)
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// The scenario's cleanup: stop every service of this run's data dir.
fn clean_up(ctx: &mut RunContext) {
    let list = ctx.aima(
        "cleanup: list services",
        &["service", "list", "--output", "json"],
        &[],
        QUICK,
    );
    for id in service_ids(&list.stdout) {
        stop(ctx, "cleanup: stop service", &id);
    }
}

/// Removes containers carrying this run's `aima.instance` or run label — never anything else.
fn remove_own_containers(ctx: &mut RunContext) {
    let own = ctx.docker.owned_by_run(&ctx.instance, &ctx.run_id);
    for container in own {
        let result = match ctx.docker.remove(&container.id) {
            Ok(()) => "removed".to_owned(),
            Err(err) => format!("not removed: {err:#}"),
        };
        ctx.event(
            EventKind::Heal,
            format!("own leftover container {}: {result}", container.name),
        );
    }
    // The data dir's engine cache volumes go with it (after its containers, which mount them).
    for line in ctx.docker.remove_instance_volumes(&ctx.instance) {
        ctx.event(EventKind::Heal, line);
    }
}
