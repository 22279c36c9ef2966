//! The per-run context every scenario step goes through: the isolated aima environment, the
//! command log, the timeline, Docker's view and the console's one-line-per-step output.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::exec::group::Stopped;
use crate::exec::{BinaryPaths, CommandRecord, Invocation};
use crate::fixtures::census::{ContainerInfo, DockerView, INSTANCE_LABEL, RUN_LABEL, new_since};
use crate::fixtures::daemon::AimaDaemon;
use crate::fixtures::http::{HttpReply, HttpRequest};
use crate::reaper;
use crate::timeline::{EventKind, Timeline};

use super::judging::Observed;

/// A census result split into containers that count and those of other live harness runs.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Census {
    /// New `aima.engine` containers attributed to this run (or to nobody): these are orphans.
    pub counted: Vec<ContainerInfo>,
    /// New containers of another aima data dir, or of another live harness run.
    pub foreign: Vec<ContainerInfo>,
}

impl Census {
    /// Listing lines for evidence.
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.counted.iter().map(ContainerInfo::line).collect();
        if lines.is_empty() {
            lines.push("(no new aima.engine container)".into());
        }
        lines.extend(
            self.foreign
                .iter()
                .map(|c| format!("not counted, another aima instance's: {}", c.line())),
        );
        lines
    }
}

/// Everything a running scenario needs.
pub struct RunContext {
    pub run_id: String,
    pub run_dir: PathBuf,
    /// The run's own aima data dir (`AIMA_DATA_DIR`).
    pub data_dir: PathBuf,
    pub port: u16,
    pub bins: BinaryPaths,
    /// The isolated environment given to every aima command.
    pub base_env: Vec<(String, String)>,
    pub timeline: Timeline,
    pub commands: Vec<CommandRecord>,
    pub docker: DockerView,
    pub baseline: BTreeSet<String>,
    /// The `aima.instance` label of our data dir.
    pub instance: String,
    /// The run's `aima start`, when one is running.
    pub daemon: Option<AimaDaemon>,
    /// Where the daemon listens (the same address across restarts).
    pub listen: SocketAddr,
    /// The bearer token every daemon of the run gets (`AIMA_API_TOKEN`) unless a scenario
    /// overrides it; [`RunContext::api`] requests carry it.
    pub api_token: String,
    /// How many daemons this run has started (names their log files).
    daemons_started: usize,
    /// What earlier runs left behind (found at the start of this run), one line per run.
    pub leftovers: Vec<String>,
    quiet: bool,
}

impl RunContext {
    #[expect(
        clippy::too_many_arguments,
        reason = "plain constructor of the run's parts"
    )]
    pub fn new(
        run_id: String,
        run_dir: PathBuf,
        data_dir: PathBuf,
        port: u16,
        bins: BinaryPaths,
        base_env: Vec<(String, String)>,
        docker: DockerView,
        listen: SocketAddr,
        quiet: bool,
    ) -> Self {
        let instance = reaper::instance_of(&data_dir);
        let run_id_for_token = run_id.clone();
        Self {
            run_id,
            run_dir,
            data_dir,
            port,
            bins,
            base_env,
            timeline: Timeline::new(Instant::now()),
            commands: Vec::new(),
            docker,
            baseline: BTreeSet::new(),
            instance,
            daemon: None,
            api_token: fresh_token(&run_id_for_token),
            listen,
            daemons_started: 0,
            leftovers: Vec::new(),
            quiet,
        }
    }

    /// The simulator image with `env` baked in (e.g. `AIMA_SIM_LOAD_SECS=8`), built or reused.
    pub fn sim_image(&self, env: &[(&str, &str)]) -> anyhow::Result<String> {
        crate::fixtures::sim_image::simulator_image(
            &self.bins.sim,
            env,
            &self.run_id,
            &self.run_dir,
        )
    }

    /// Starts `aima start --listen <listen>` with the run's environment plus `extra`, waits
    /// until it is healthy and records it; its logs go to `logs/daemon[-N].{stdout,stderr}`.
    pub fn start_daemon(&mut self, extra: &[(&str, &str)]) -> anyhow::Result<u64> {
        // One entry per variable, the last one winning: the scenario's extras override the
        // run's token and environment.
        let mut env: Vec<(String, String)> = self.base_env.clone();
        env.retain(|(k, _)| k != "AIMA_API_TOKEN");
        env.push(("AIMA_API_TOKEN".to_owned(), self.api_token.clone()));
        for (key, value) in extra {
            env.retain(|(k, _)| k != key);
            env.push((key.to_string(), value.to_string()));
        }
        self.daemons_started += 1;
        let name = match self.daemons_started {
            1 => "daemon".to_owned(),
            n => format!("daemon-{n}"),
        };
        let shown: Vec<String> = extra.iter().map(|(k, _)| format!("{k}=…")).collect();
        let started = AimaDaemon::start(
            &self.bins.aima,
            &env,
            self.listen,
            &self.run_dir.join("logs"),
            &name,
        );
        let daemon = match started {
            Ok(daemon) => daemon,
            Err(err) => {
                self.event(
                    EventKind::Operation,
                    format!("aima start --listen {} failed: {err:#}", self.listen),
                );
                return Err(err);
            }
        };
        let ready_ms = daemon.ready_ms;
        self.event(
            EventKind::Operation,
            format!(
                "{}aima start --listen {}: healthy after {ready_ms}ms (pid {}, logs/{name}.stderr)",
                if shown.is_empty() {
                    String::new()
                } else {
                    format!("{} ", shown.join(" "))
                },
                self.listen,
                daemon.pid
            ),
        );
        self.daemon = Some(daemon);
        Ok(ready_ms)
    }

    /// Starts the run's daemon on the simulator engine: the image built (or reused) with
    /// `sim_env` is its vLLM image, said on the console with `about` when given. Returns the
    /// image.
    pub fn start_daemon_on_sim(
        &mut self,
        sim_env: &[(&str, &str)],
        about: Option<&str>,
    ) -> anyhow::Result<String> {
        let image = self.sim_image(sim_env)?;
        if let Some(about) = about {
            self.say(&format!("engine image {image} ({about})"));
        }
        self.start_daemon(&[("AIMA_VLLM_IMAGE", &image)])?;
        Ok(image)
    }

    /// Stops the daemon: `TERM` is the verified stop (SIGTERM to its process group, SIGKILL
    /// after its grace); `KILL` sends SIGKILL and waits up to `bound` for the group to be gone.
    /// `None` when no daemon runs.
    pub fn signal_daemon(&mut self, signal: &str, bound: Duration) -> Option<Stopped> {
        let mut daemon = self.daemon.take()?;
        let pid = daemon.pid;
        let stopped = if signal == "KILL" {
            self.event(
                EventKind::Fault,
                format!("SIGKILL to the aima daemon (pid {pid})"),
            );
            daemon.signal(rustix::process::Signal::KILL);
            daemon.wait_for_exit(bound)
        } else {
            self.event(
                EventKind::Operation,
                format!("SIGTERM to the aima daemon (pid {pid})"),
            );
            daemon.stop()
        };
        let verb = if stopped.verified {
            "stopped"
        } else {
            "did NOT stop"
        };
        self.event(
            EventKind::Observation,
            format!("aima daemon {verb}: {}", stopped.describe()),
        );
        Some(stopped)
    }

    /// Sends SIGTERM to the daemon's process group without waiting for it to end.
    pub fn terminate_daemon(&mut self) {
        if let Some(daemon) = &self.daemon {
            let pid = daemon.pid;
            daemon.signal(rustix::process::Signal::TERM);
            self.event(
                EventKind::Operation,
                format!("SIGTERM to the aima daemon (pid {pid})"),
            );
        }
    }

    /// Waits up to `bound` for the daemon to end by itself (stopping it after that).
    pub fn wait_daemon(&mut self, bound: Duration) -> Option<Stopped> {
        let mut daemon = self.daemon.take()?;
        let stopped = daemon.wait_for_exit(bound);
        self.event(
            EventKind::Observation,
            format!("aima daemon: {}", stopped.describe()),
        );
        Some(stopped)
    }

    /// A request to the daemon's API carrying the run's token.
    pub fn api(&self, method: &str, path: &str) -> HttpRequest {
        HttpRequest::new(method, path).bearer(&self.api_token)
    }

    /// Sends one HTTP request to the daemon and records it in the timeline.
    pub fn http(&mut self, step: &str, request: HttpRequest) -> anyhow::Result<HttpReply> {
        let shown = request.describe();
        match request.send(self.listen) {
            Ok(reply) => {
                let text = format!("{step}: {shown} -> {}", reply.summary());
                self.say(&text);
                self.timeline.record(EventKind::Operation, text);
                Ok(reply)
            }
            Err(err) => {
                self.event(EventKind::Operation, format!("{step}: {shown} -> {err}"));
                Err(anyhow::anyhow!("{shown}: {err}"))
            }
        }
    }

    /// Runs a scenario's `steps` on `obs` (its observations as they start). A step that fails
    /// ends them early: the context says why and records it in `obs`'s setup problems, where the
    /// judges find it (their criteria become SKIPs naming it).
    pub fn observe<O: Observed>(
        &mut self,
        mut obs: O,
        steps: impl FnOnce(&mut RunContext, &mut O) -> anyhow::Result<()>,
    ) -> O {
        if let Err(err) = steps(self, &mut obs) {
            self.say(&format!("setup problem: {err:#}"));
            obs.missing_mut().push(format!("{err:#}"));
        }
        obs
    }

    /// Prints a console line stamped with the run's elapsed time.
    pub fn say(&self, text: &str) {
        if !self.quiet {
            let secs = self.timeline.elapsed_ms() as f64 / 1000.0;
            eprintln!("[{secs:7.2}s] {text}");
        }
    }

    pub fn event(&mut self, kind: EventKind, text: impl Into<String>) {
        let text = text.into();
        let marker = match kind {
            EventKind::Fault => "FAULT ",
            EventKind::Heal => "HEAL  ",
            EventKind::Operation => "",
            EventKind::Observation => "SEEN  ",
        };
        self.say(&format!("{marker}{text}"));
        self.timeline.record(kind, text);
    }

    /// Runs aima with the run's environment plus `overrides`, logs it and returns the record.
    pub fn aima(
        &mut self,
        step: &str,
        args: &[&str],
        overrides: &[(&str, &str)],
        deadline: Duration,
    ) -> CommandRecord {
        let invocation = Invocation {
            label: "aima".into(),
            program: self.bins.aima.clone(),
            args: args.iter().map(|a| a.to_string()).collect(),
            base_env: self.base_env.clone(),
            overrides: overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            deadline,
        };
        self.run(step, &invocation)
    }

    /// Runs any command of a step (aima under another account, a helper tool), logs it and
    /// returns the record, numbered among the run's commands.
    pub fn run(&mut self, step: &str, invocation: &Invocation) -> CommandRecord {
        let record = invocation.run(
            self.commands.len() + 1,
            step,
            self.timeline.start(),
            &self.run_dir,
        );
        let text = format!(
            "#{} {} -> {}",
            record.index,
            record.display,
            record.outcome()
        );
        self.say(&format!("{step}: {text}"));
        self.timeline.record(EventKind::Operation, text);
        self.commands.push(record.clone());
        record
    }

    /// Takes the census and splits off containers that provably belong to someone else: those
    /// labelled with another aima data dir's instance (other runs or tests sharing this Docker
    /// daemon) or with another live harness run. The aima under test only knows our data dir, so
    /// whatever it leaves carries our instance label or none, and is counted.
    pub fn census(&mut self, why: &str) -> anyhow::Result<Census> {
        let now = self.docker.census()?;
        let others = reaper::live_instances_except(&self.run_id);
        let (foreign, counted): (Vec<_>, Vec<_>) =
            new_since(&self.baseline, &now).into_iter().partition(|c| {
                let other_instance = c.label(INSTANCE_LABEL).is_some_and(|i| i != self.instance);
                let other_run = c
                    .label(RUN_LABEL)
                    .is_some_and(|r| r != self.run_id && others.iter().any(|(id, _)| id == r));
                other_instance || other_run
            });
        let census = Census { counted, foreign };
        self.event(
            EventKind::Observation,
            format!(
                "census {why}: {} new aima.engine container(s){}",
                census.counted.len(),
                if census.foreign.is_empty() {
                    String::new()
                } else {
                    format!(", {} of other aima instances ignored", census.foreign.len())
                }
            ),
        );
        Ok(census)
    }

    /// Takes the baseline census before anything runs.
    pub fn take_baseline(&mut self) -> anyhow::Result<()> {
        self.baseline = self.docker.census()?.into_iter().map(|c| c.id).collect();
        let count = self.baseline.len();
        self.event(
            EventKind::Observation,
            format!("baseline: {count} aima.engine container(s) existed before the run"),
        );
        Ok(())
    }
}

/// A token no other run shares: a digest of the run id, the time and the process id.
fn fresh_token(run_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let digest = Sha256::digest(format!("{run_id}/{nanos}/{}", std::process::id()).as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}
