//! One chaos run end to end: isolate (own data dir, instance, ports, reaper), build the engine
//! images, start the daemon, let the lanes carry out the schedule while the observer checks,
//! then the final checks, the clean-up and the summary.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use serde_json::json;

use crate::exec::{RUN_ENV, locate_binaries};
use crate::fixtures::census::{DockerView, ENGINE_LABEL, INSTANCE_LABEL, RUN_LABEL};
use crate::fixtures::port_check::free_port;
use crate::fixtures::sim_image::simulator_image;
use crate::fixtures::tmpfs::Tmpfs;
use crate::reaper::{Reaper, RunMarker, instance_of, private_dir, sweep_stale};
use crate::scenario::AimaRuntime;
use crate::scenario::RunRefused;

use super::disk_full::TMPFS_SIZE;
use super::fault::FaultKind;
use super::finish::finish;
use super::history::{History, read_schedule};
use super::schedule::{Plan, Step, generate};
use super::summary::{Summary, write_summary};
use super::world::World;
use super::{inject, ops};

/// How long the observer goes on after the last step.
const SETTLE: Duration = Duration::from_secs(10);

/// What `harness chaos` was asked for.
#[derive(Debug, Clone)]
pub struct ChaosOptions {
    pub seconds: u64,
    pub seed: Option<u64>,
    pub services: usize,
    pub workers: usize,
    pub faults: Vec<FaultKind>,
    pub aima_bin: Option<PathBuf>,
    pub sim_bin: Option<PathBuf>,
    pub reports: PathBuf,
    pub replay: Option<PathBuf>,
    pub quiet: bool,
    /// Time budget for shrinking a failing schedule (zero: no shrinking).
    pub shrink: Duration,
    /// The runtime aima runs engines on (a replay takes it from the history).
    pub runtime: AimaRuntime,
}

/// The plan and schedule a run carries out: from the options, or read back from a history.
pub(crate) fn schedule_of(options: &ChaosOptions) -> anyhow::Result<(Plan, Vec<Step>)> {
    if let Some(path) = &options.replay {
        return read_schedule(path).map_err(|e| RunRefused(format!("{e:#}")).into());
    }
    let swarm = options.runtime == AimaRuntime::Swarm;
    let plan = Plan {
        seed: options.seed.unwrap_or_else(super::rng::fresh_seed),
        seconds: options.seconds,
        services: options.services,
        // On a Swarm, the faults that make no sense there are left out (and listed as SKIP).
        faults: options
            .faults
            .iter()
            .copied()
            .filter(|f| !swarm || f.not_on_swarm().is_none())
            .collect(),
        workers: options.workers,
        swarm,
    };
    let steps = generate(&plan);
    Ok((plan, steps))
}

fn refused(err: impl std::fmt::Display) -> anyhow::Error {
    RunRefused(err.to_string()).into()
}

/// Runs a chaos run; `Err(RunRefused)` when it cannot begin.
pub fn run_chaos(options: &ChaosOptions) -> anyhow::Result<Summary> {
    let (plan, steps) = schedule_of(options)?;
    let mut summary = run_schedule(options, &plan, &steps)?;
    if !summary.passed() && !options.shrink.is_zero() {
        eprintln!(
            "shrinking the schedule ({} s budget; --shrink-secs 0 turns it off)",
            options.shrink.as_secs()
        );
        summary.shrunk = super::shrink::shrink(options, &plan, &steps, &summary, options.shrink);
        write_summary(&summary, &summary.run_dir)?;
    }
    Ok(summary)
}

/// Runs `steps` of `plan` (a full schedule, a replayed one or a shrunk one).
pub(crate) fn run_schedule(
    options: &ChaosOptions,
    plan: &Plan,
    steps: &[Step],
) -> anyhow::Result<Summary> {
    let docker = DockerView::connect().map_err(|e| refused(format!("{e:#}")))?;
    if plan.swarm && !docker.is_swarm_manager() {
        return Err(refused(
            "--runtime swarm needs Docker in swarm mode as a manager; `bash ci/swarm.sh run cargo run -p harness -- chaos --runtime swarm …` turns a single-node swarm on for the run and leaves it again",
        ));
    }
    let bins = locate_binaries(options.aima_bin.as_deref(), options.sim_bin.as_deref())
        .map_err(|e| refused(format!("{e:#}")))?;
    let started_at = SystemTime::now();
    let stamp = humantime::format_rfc3339_seconds(started_at).to_string();
    let stamp: String = stamp.chars().filter(char::is_ascii_alphanumeric).collect();
    let run_id = format!("{stamp}-chaos-{}-{:x}", plan.seed, std::process::id());
    let run_dir = std::path::absolute(options.reports.join(&run_id))?;
    let data_dir = run_dir.join("data");
    private_dir(&data_dir).context("creating the run's data dir")?;
    // The data dir on its own small tmpfs, for the disk-full fault; unmounted when this
    // function returns, on Ctrl-C, or by the reaper.
    let tmpfs = plan
        .faults
        .contains(&FaultKind::DiskFull)
        .then(|| Tmpfs::mount(&data_dir, TMPFS_SIZE));
    let mut ports = Vec::new();
    while ports.len() < plan.services.max(1) {
        let port = free_port().context("choosing a free service port")?;
        if !ports.contains(&port) {
            ports.push(port);
        }
    }
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()?));
    let mut all_ports = ports.clone();
    all_ports.push(listen.port());
    let mut marker = RunMarker::new(&run_id, &data_dir, all_ports);
    if let Some(Ok(tmpfs)) = &tmpfs {
        marker.target.mounts.push(tmpfs.path.clone());
    }
    marker.write().context("writing the run marker")?;
    for stale in sweep_stale() {
        eprintln!("warning: leftovers of an earlier run: {}", stale.summary());
    }
    let reaper = Reaper::launch(&marker.target, &run_dir).context("starting the reaper")?;
    marker.set_reaper(reaper.pid)?;

    let mut images = BTreeMap::new();
    let mut engines: Vec<Option<FaultKind>> = vec![None];
    engines.extend(
        plan.faults
            .iter()
            .filter(|f| f.is_engine())
            .map(|f| Some(*f)),
    );
    for engine in engines {
        let env = engine.and_then(FaultKind::engine_env).unwrap_or(&[]);
        let image = simulator_image(&bins.sim, env, &run_id, &run_dir)
            .map_err(|e| refused(format!("{e:#}")))?;
        images.insert(engine, image);
    }
    let instance = instance_of(&data_dir);
    let proxy = start_proxy(&plan.faults, &run_dir)?;
    let mut base_env = vec![
        ("AIMA_DATA_DIR".to_owned(), data_dir.display().to_string()),
        ("AIMA_VLLM_IMAGE".to_owned(), images[&None].clone()),
        ("AIMA_VLLM_GPU".to_owned(), "false".to_owned()),
        ("AIMA_LOG".to_owned(), "info".to_owned()),
        (
            "AIMA_RUNTIME".to_owned(),
            if plan.swarm { "swarm" } else { "docker" }.to_owned(),
        ),
        (RUN_ENV.to_owned(), run_id.clone()),
    ];
    if let Some(proxy) = &proxy {
        base_env.push(("DOCKER_HOST".to_owned(), proxy.docker_host()));
    }
    let start = Instant::now();
    let history = History::create(&run_dir.join("history.jsonl"), start)?;
    history.record(
        "schedule",
        json!({"plan": plan, "steps": steps, "run_id": run_id, "replay_of": options.replay, "ports": ports, "instance": instance}),
    );
    let token = super::summary::fresh_token(&run_id);
    let mut world = World::new(
        history,
        run_id.clone(),
        run_dir.clone(),
        data_dir,
        instance,
        bins.aima.clone(),
        base_env,
        images,
        listen,
        token,
        ports,
        options.quiet,
    );
    let proxy_missing = proxy.is_none();
    world.proxy = proxy;
    world.small_disk = matches!(tmpfs, Some(Ok(_)));
    let world = world;
    if let Some(Err(why)) = &tmpfs {
        world.skip(FaultKind::DiskFull, why);
    }
    if plan.swarm {
        for fault in FaultKind::ALL {
            if let Some(why) = fault.not_on_swarm() {
                world.skip(fault, &format!("left out on --runtime swarm: {why}"));
            }
        }
    }
    for fault in plan.faults.iter().filter(|f| f.is_docker_proxy()) {
        if proxy_missing {
            world.skip(
                *fault,
                "DOCKER_HOST is not a unix socket, so no Docker proxy can stand in front of it",
            );
        }
    }
    world.say(&format!(
        "chaos: seed {}, {} s, {} services, {} steps, faults [{}] -> {}",
        plan.seed,
        plan.seconds,
        plan.services,
        steps.len(),
        plan.faults
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(","),
        run_dir.display()
    ));
    // A foreign container (another data dir's labels) that nothing of this run may touch.
    let bystander_labels = BTreeMap::from([
        (ENGINE_LABEL.to_owned(), "vllm".to_owned()),
        ("aima.managed".to_owned(), "true".to_owned()),
        (
            INSTANCE_LABEL.to_owned(),
            format!("bystander-{}", std::process::id()),
        ),
        ("aima.service".to_owned(), "svc-00000000".to_owned()),
        (RUN_LABEL.to_owned(), run_id.clone()),
    ]);
    let bystander = docker
        .create_labelled(&world.image(None), &bystander_labels)
        .unwrap_or_default();
    world
        .history
        .record("setup", json!({"bystander": bystander}));

    let setup = world.start_daemon().and_then(|()| create_model(&world));
    let tally: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());
    if let Err(err) = &setup {
        world.violation(
            "setup",
            None,
            "aima",
            format!("the run could not set up: {err:#}"),
        );
    } else {
        std::thread::scope(|scope| {
            let observer = scope.spawn(|| super::observer::observe(&world, &bystander));
            let lanes: Vec<_> = (0..=plan.workers.max(1))
                .map(|lane| {
                    let mine: Vec<&Step> = steps.iter().filter(|s| s.lane == lane).collect();
                    let (world, tally) = (&world, &tally);
                    scope.spawn(move || {
                        let mut blockers = Vec::new();
                        for step in mine {
                            let due = start + Duration::from_millis(step.at_ms);
                            std::thread::sleep(due.saturating_duration_since(Instant::now()));
                            let outcome = if step.action.fault().is_some_and(|f| !f.is_engine()) {
                                let (outcome, blocker) = inject::inject(world, step, scope);
                                blockers.extend(blocker);
                                outcome
                            } else {
                                ops::perform(world, step)
                            };
                            let key = format!("{} -> {outcome}", step.action.name());
                            *tally
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .entry(key)
                                .or_default() += 1;
                        }
                        for blocker in blockers {
                            let _ = blocker.join();
                        }
                    })
                })
                .collect();
            for lane in lanes {
                let _ = lane.join();
            }
            // The observer watches the aftermath a while longer, so the bounds of the last
            // steps' rules can elapse.
            world.say(&format!(
                "schedule done; observing {} s more",
                SETTLE.as_secs()
            ));
            std::thread::sleep(SETTLE);
            world.done.store(true, Ordering::SeqCst);
            let _ = observer.join();
        });
    }
    let ran_ms = world.history.now_ms();
    finish(&world, &docker, &bystander);
    if world.small_disk {
        keep_state(&world.data_dir, &run_dir.join("data-at-end"));
    }
    drop(tmpfs);
    world.history.flush();
    let tally = tally.into_inner().unwrap_or_else(|p| p.into_inner());
    let summary = Summary::new(&world, plan, steps, options, tally, ran_ms);
    write_summary(&summary, &run_dir)?;
    let heading = format!(
        "chaos seed {}: {}",
        plan.seed,
        summary.outcome.to_uppercase()
    );
    if let Err(err) = super::timeline::write_timeline(&run_dir, plan.services.max(1), &heading) {
        eprintln!("warning: timeline.svg not written: {err:#}");
    }
    if let Some(problem) = reaper.finish() {
        eprintln!("warning: {problem}");
    }
    Ok(summary)
}

/// Copies the data dir's files (the database and its WAL) into `dest` before its tmpfs goes,
/// so the report keeps them.
fn keep_state(data_dir: &std::path::Path, dest: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return;
    };
    if std::fs::create_dir_all(dest).is_err() {
        return;
    }
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::copy(entry.path(), dest.join(entry.file_name()));
        }
    }
}

fn create_model(world: &World) -> anyhow::Result<()> {
    let args: Vec<String> = [
        "model",
        "create",
        "--name",
        "chaos",
        "--source",
        "ollama",
        "--repo",
        "tinyllama",
        "-o",
        "json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let record = world.aima("setup", &args, &[]);
    let id = serde_json::from_str::<serde_json::Value>(record.stdout.trim())
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_owned));
    match id {
        Some(id) if record.succeeded() => {
            *world.model.lock().unwrap_or_else(|p| p.into_inner()) = id;
            Ok(())
        }
        _ => anyhow::bail!(
            "model create failed ({}): {}",
            record.outcome(),
            record.stderr.trim()
        ),
    }
}

/// The Docker proxy, when a proxy fault is on and Docker sits behind a unix socket (otherwise
/// those faults are skipped, each saying why).
fn start_proxy(
    faults: &[FaultKind],
    run_dir: &std::path::Path,
) -> anyhow::Result<Option<super::docker_proxy::DockerProxy>> {
    if !faults.iter().any(|f| f.is_docker_proxy()) {
        return Ok(None);
    }
    let Some(upstream) = super::docker_proxy::upstream_socket() else {
        eprintln!(
            "warning: DOCKER_HOST is not a unix socket: the docker-pause, docker-slow and docker-cut faults are skipped"
        );
        return Ok(None);
    };
    // Short: a unix socket path must stay under 108 bytes.
    let path = std::env::temp_dir().join(format!("aima-chaos-docker-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    super::docker_proxy::DockerProxy::start(&path, &upstream)
        .map(Some)
        .with_context(|| {
            format!(
                "starting the Docker proxy in front of {} (run dir {})",
                upstream.display(),
                run_dir.display()
            )
        })
}
