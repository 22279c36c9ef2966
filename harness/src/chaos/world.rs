//! What every lane and the observer of a chaos run share: the aima environment, the daemon, the
//! service slots (their ids, operations in flight, faults on them), the history and the
//! violations found so far.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};

use crate::exec::{CommandRecord, Invocation};
use crate::fixtures::daemon::AimaDaemon;
use crate::fixtures::http::HttpRequest;

use super::docker_proxy::DockerProxy;
use super::fault::FaultKind;
use super::history::History;

/// What the run knows about one service slot.
#[derive(Debug, Clone, Default)]
pub(crate) struct Slot {
    /// The slot's service, once created (and until deleted).
    pub id: Option<String>,
    /// The restart policy the harness asked for when it created the slot's service.
    pub policy: Option<String>,
    /// Operations and faults acting on the slot right now.
    pub in_flight: usize,
    /// Operations invoked on the slot so far (a sequence number).
    pub invoked: u64,
    /// A port blocker holds the slot's port.
    pub blocked: bool,
    /// The engine faults of every start invoked on the slot since its last clean stop or its
    /// create (`None`: the plain simulator): which of those starts won is not known, so the
    /// rules assume any of them may run.
    pub engines: std::collections::BTreeSet<Option<FaultKind>>,
    /// The port blocker holding the slot's port now, if any.
    pub held: Option<Held>,
    /// When the harness last SIGKILLed a starter of the slot, and no start was invoked since.
    pub killed_start_ms: Option<u64>,
    /// When a stop of the harness last succeeded with nothing else acting on the slot, and no
    /// operation that may start the service was invoked since.
    pub stopped_ms: Option<u64>,
}

/// A port blocker of the harness holding a slot's port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Held {
    /// Which kind of blocker.
    pub fault: FaultKind,
    /// The step that started it (one hold is one episode).
    pub step: usize,
    /// How aima's port_in_use error must name it: `pid N`, or the container's name.
    pub holder: String,
}

/// The shared state of a run.
pub(crate) struct World {
    pub history: History,
    pub run_id: String,
    pub run_dir: PathBuf,
    pub data_dir: PathBuf,
    pub instance: String,
    pub aima: PathBuf,
    /// The environment of every aima command (and, plus the token, of the daemon).
    pub base_env: Vec<(String, String)>,
    /// Engine images by engine fault (`None`: the plain simulator).
    pub images: BTreeMap<Option<FaultKind>, String>,
    pub listen: SocketAddr,
    pub token: String,
    /// Each slot's host port.
    pub ports: Vec<u16>,
    pub model: Mutex<String>,
    pub slots: Mutex<Vec<Slot>>,
    pub daemon: Mutex<Option<AimaDaemon>>,
    daemons_started: AtomicUsize,
    commands: AtomicUsize,
    pub violations: Mutex<Vec<Value>>,
    /// The lanes are done: the observer stops.
    pub done: AtomicBool,
    pub quiet: bool,
    /// The Docker proxy the run's aima processes reach Docker through, when its faults are on.
    pub proxy: Option<DockerProxy>,
    /// Faults of the plan this run does not inject, each with the reason (the summary lists
    /// them as SKIP).
    pub skipped: Mutex<Vec<(String, String)>>,
    /// The data dir is on the run's own small tmpfs (the disk-full fault can fill it).
    pub small_disk: bool,
    /// The disk-full fault holds the data dir full right now.
    pub disk_full: AtomicBool,
}

/// Deadline of one aima command.
pub(crate) const COMMAND_DEADLINE: Duration = Duration::from_secs(60);

impl World {
    #[expect(
        clippy::too_many_arguments,
        reason = "plain constructor of the run's parts"
    )]
    pub(crate) fn new(
        history: History,
        run_id: String,
        run_dir: PathBuf,
        data_dir: PathBuf,
        instance: String,
        aima: PathBuf,
        base_env: Vec<(String, String)>,
        images: BTreeMap<Option<FaultKind>, String>,
        listen: SocketAddr,
        token: String,
        ports: Vec<u16>,
        quiet: bool,
    ) -> Self {
        let slots = vec![Slot::default(); ports.len()];
        Self {
            history,
            run_id,
            run_dir,
            data_dir,
            instance,
            aima,
            base_env,
            images,
            listen,
            token,
            ports,
            model: Mutex::new(String::new()),
            slots: Mutex::new(slots),
            daemon: Mutex::new(None),
            daemons_started: AtomicUsize::new(0),
            commands: AtomicUsize::new(0),
            violations: Mutex::new(Vec::new()),
            done: AtomicBool::new(false),
            quiet,
            proxy: None,
            skipped: Mutex::new(Vec::new()),
            small_disk: false,
            disk_full: AtomicBool::new(false),
        }
    }

    pub(crate) fn slots(&self) -> MutexGuard<'_, Vec<Slot>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn daemon(&self) -> MutexGuard<'_, Option<AimaDaemon>> {
        self.daemon.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A console line stamped with the run's time (unless quiet).
    pub(crate) fn say(&self, text: &str) {
        if !self.quiet {
            let secs = self.history.now_ms() as f64 / 1000.0;
            eprintln!("[{secs:7.2}s] {text}");
        }
    }

    /// The environment of the daemon: the run's plus its API token and fast reconcile passes.
    fn daemon_env(&self) -> Vec<(String, String)> {
        let mut env = self.base_env.clone();
        env.push(("AIMA_API_TOKEN".into(), self.token.clone()));
        env.push(("AIMA_RECONCILE_SECS".into(), "1".into()));
        env.push(("AIMA_REAP_GRACE_SECS".into(), REAP_GRACE_SECS.to_string()));
        env
    }

    /// Starts a daemon (when none runs) and records it.
    pub(crate) fn start_daemon(&self) -> anyhow::Result<()> {
        let mut daemon = self.daemon();
        if daemon.is_some() {
            return Ok(());
        }
        let n = self.daemons_started.fetch_add(1, Ordering::SeqCst) + 1;
        let name = format!("daemon-{n}");
        let started = AimaDaemon::start(
            &self.aima,
            &self.daemon_env(),
            self.listen,
            &self.run_dir.join("logs"),
            &name,
        );
        match started {
            Ok(d) => {
                self.history.record(
                    "daemon",
                    json!({"event": "healthy", "pid": d.pid, "ready_ms": d.ready_ms, "log": format!("logs/{name}.stderr")}),
                );
                *daemon = Some(d);
                Ok(())
            }
            Err(err) => {
                self.history.record(
                    "daemon",
                    json!({"event": "did not start", "error": format!("{err:#}")}),
                );
                Err(err)
            }
        }
    }

    /// Runs one aima command with the run's environment plus `overrides`.
    pub(crate) fn aima(
        &self,
        step: &str,
        args: &[String],
        overrides: &[(String, String)],
    ) -> CommandRecord {
        let index = self.commands.fetch_add(1, Ordering::SeqCst) + 1;
        let invocation = Invocation {
            label: "aima".into(),
            program: self.aima.clone(),
            args: args.to_vec(),
            base_env: self.base_env.clone(),
            overrides: overrides.to_vec(),
            deadline: COMMAND_DEADLINE,
        };
        invocation.run(index, step, std::time::Instant::now(), &self.run_dir)
    }

    /// A fresh log index and the two log paths (relative to the run dir) for a process the
    /// caller starts itself.
    pub(crate) fn log_paths(&self, step: &str) -> (String, String) {
        let index = self.commands.fetch_add(1, Ordering::SeqCst) + 1;
        let base = format!("logs/{index:04}-{step}");
        (format!("{base}.stdout"), format!("{base}.stderr"))
    }

    /// A request to the daemon's API with the run's token.
    pub(crate) fn api(&self, method: &str, path: &str) -> HttpRequest {
        HttpRequest::new(method, path)
            .bearer(&self.token)
            .timeout(COMMAND_DEADLINE)
    }

    /// The image for a start on `engine`.
    pub(crate) fn image(&self, engine: Option<FaultKind>) -> String {
        self.images
            .get(&engine)
            .or_else(|| self.images.get(&None))
            .cloned()
            .unwrap_or_default()
    }

    /// Records that `fault` is not injected in this run, and why (once per fault).
    pub(crate) fn skip(&self, fault: FaultKind, why: &str) {
        let mut skipped = self.skipped.lock().unwrap_or_else(|p| p.into_inner());
        if !skipped.iter().any(|(name, _)| name == fault.name()) {
            self.say(&format!("SKIP {fault}: {why}"));
            skipped.push((fault.name().to_owned(), why.to_owned()));
        }
    }

    /// Why `fault` is not injected in this run, if it is not.
    pub(crate) fn skipped_why(&self, fault: FaultKind) -> Option<String> {
        let skipped = self.skipped.lock().unwrap_or_else(|p| p.into_inner());
        skipped
            .iter()
            .find(|(name, _)| name == fault.name())
            .map(|(_, why)| why.clone())
    }

    /// Records a violation: what rule, about what, the detail, and the history around it.
    pub(crate) fn violation(&self, rule: &str, slot: Option<usize>, subject: &str, detail: String) {
        let context = self.history.around(slot, 8_000);
        let event = self.history.record(
            "violation",
            json!({"rule": rule, "slot": slot, "subject": subject, "detail": detail, "context": context}),
        );
        self.say(&format!("VIOLATION {rule} {subject}: {detail}"));
        self.violations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event);
    }
}

/// The daemon's reaper grace in a chaos run (`AIMA_REAP_GRACE_SECS`).
pub(crate) const REAP_GRACE_SECS: u64 = 5;
