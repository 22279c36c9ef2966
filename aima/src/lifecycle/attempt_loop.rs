//! The attempts of one start: connect, preflight, then up to the engine's attempt limit of
//! create → start → (with `--wait`) health, removing each failed attempt's container and
//! pausing with backoff between retryable failures.

use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use super::failure::{EngineCause, Failure, engine_words, exit_summary, fatal_cause};
use super::model_ref::{Resolved, resolve};
use super::preflight::{Cleared, Target, describe, preflight};
use super::progress::{Progress, StartEvent};
use super::pull;
use super::{Deps, labels};
use crate::domain::{Attempt, ContainerId, EngineSpec, HostPort, Model, ModelRef, Phase, PullPolicy, Service, size_text};
use crate::error::{Classified, Error, Kind};
use crate::runtime::{
    ContainerLimits, ContainerSpec, ContainerState, GpuRequest, Runtime, RuntimeError,
    RuntimeResult, SharedRuntime,
};

/// How often the health wait looks: often at first (a small engine answers within a few
/// hundred milliseconds, and a start is done only when it is seen to), then calmly.
const POLL_EARLY: Duration = Duration::from_millis(50);
const POLL: Duration = Duration::from_millis(250);
/// How long the health wait polls at [`POLL_EARLY`].
const EARLY: Duration = Duration::from_secs(2);
/// How often a person watching is shown the engine's newest log line while it loads.
const LOG_EVERY: Duration = Duration::from_secs(1);
const LOG_LINES: usize = 30;

/// What to do about an engine out of memory at its container limit `limit`.
fn oom_help(limit: &str) -> String {
    format!(
        "the engine needs more than {limit}: raise the limit (create the service with a larger --memory, or set the engine's memory in config.toml), or serve a smaller model; retrying will not help"
    )
}

/// How a start is to run, as its caller asks.
pub(crate) struct StartOptions<'a> {
    /// Wait until the engine answers its health endpoint.
    pub wait: bool,
    /// Deadline for the whole start, attempts and health wait included.
    pub timeout: Duration,
    /// Progress for a person watching (None: silent).
    pub progress: Option<Progress<'a>>,
    /// When to pull the engine image; `None`: the engine's configured policy.
    pub pull: Option<PullPolicy>,
    /// The Swarm node to run on (`--node`); `None`: wherever the constraints allow.
    pub node: Option<String>,
}

/// The container that came up, and whether it already answered its health check.
pub(super) struct Started {
    pub container_id: ContainerId,
    pub healthy: bool,
}

/// One start's attempts: what they need, and what they recorded.
pub(super) struct Run<'a> {
    pub(super) deps: &'a Deps,
    pub(super) svc: &'a Service,
    pub(super) spec: &'a EngineSpec,
    /// The service's model, resolved for its engine after preflight.
    pub(super) model: Model,
    /// The data dir's services when this start claimed its own: the holders of GPUs.
    pub(super) others: Vec<Service>,
    pub(super) began: Instant,
    pub(super) attempts: Vec<Attempt>,
    pub(super) opts: &'a StartOptions<'a>,
    pub(super) runtime: Option<SharedRuntime>,
    /// The create request of the attempt in progress, run as its own task so that it survives
    /// this future being dropped (an interrupt): see [`Run::settle_create`].
    pub(super) creating: Option<JoinHandle<RuntimeResult<ContainerId>>>,
    /// Every container this start created, removed or not: what it removes if it loses its
    /// claim.
    pub(super) created: Vec<ContainerId>,
}

impl Run<'_> {
    pub(super) fn record(&mut self, failure: &Failure) {
        self.attempts.push(Attempt {
            number: self.attempts.len() as u32 + 1,
            phase: failure.phase,
            elapsed_ms: self.began.elapsed().as_millis() as u64,
            reason: failure.reason(),
            code: Some(failure.code().to_owned()),
            log_tail: failure.log_tail.clone(),
        });
    }

    /// Waits for a create request left in flight by an interrupt (bounded by the runtime's own
    /// call limit), so that the clean-up after it sees the container if Docker made one.
    pub(super) async fn settle_create(&mut self) {
        if let Some(creating) = self.creating.take()
            && let Ok(Ok(id)) = creating.await
        {
            self.created.push(id);
        }
    }

    pub(super) fn step(&self, phase: Phase, text: &str) {
        if let Some(progress) = self.opts.progress {
            progress(StartEvent::Step { phase, text });
        }
    }

    pub(super) async fn attempts(&mut self) -> Result<Started, Failure> {
        let result = self.attempts_unrecorded().await;
        if let Err(failure) = &result {
            self.record(failure);
        }
        result
    }

    /// Records every failure but the last, which the caller records on the way out.
    async fn attempts_unrecorded(&mut self) -> Result<Started, Failure> {
        self.step(
            Phase::Connect,
            &format!("connecting to Docker for service {}", self.svc.id),
        );
        // The host's side of the port check needs no Docker: it runs while Docker is reached
        // and its containers listed (naming a holder from /proc is the slowest part).
        let host = self.deps.host.clone();
        let addr = super::published_address(&self.deps.config, self.svc);
        let host_check = tokio::task::spawn_blocking(move || host.port_blocked(addr));
        let rt = self
            .deps
            .docker()
            .await
            .map_err(|e| Failure::of(e, Phase::Connect))?;
        self.runtime = Some(rt.clone());
        self.step(
            Phase::Preflight,
            &describe(self.svc.port, &self.spec.default_gpus(), &self.spec.image),
        );
        let placement = self.placement();
        // This machine's port holders matter only where the engine may run (a Swarm may place
        // it on another node).
        let here = rt
            .here(&placement)
            .await
            .map_err(|e| Failure::from_runtime(e, Phase::Preflight))?;
        let host_check = here.possible.then_some(host_check);
        let target = Target {
            node: self.opts.node.as_deref(),
            this_node: here.node.as_deref(),
        };
        let Cleared { gpus, notes } = preflight(
            self.deps,
            rt.as_ref(),
            self.svc,
            self.spec,
            &self.others,
            host_check,
            target,
        )
        .await?;
        for note in &notes {
            self.step(Phase::Preflight, note);
        }
        self.docker_room(rt.as_ref(), "Docker's disk is too full", Phase::Preflight)
            .await?;
        // Again at every start, before the pull, so a model that cannot be served fails in
        // seconds: the files may have changed (or become a symlink elsewhere) since the service
        // was created. Each attempt resolves it once more, just before its container exists.
        let resolved = self
            .resolve_model()
            .map_err(|e| Failure::of(e, Phase::Preflight))?;
        if let Some(note) = &resolved.note {
            self.step(Phase::Preflight, note);
        }

        let limits = self.container_limits(rt.as_ref()).await?;
        let deadline = self.began + self.opts.timeout;
        self.ensure_image(rt.as_ref(), deadline).await?;
        let max = self.spec.start_attempts.max(1);
        for n in 1..=max {
            self.step(
                Phase::Create,
                &format!("attempt {n}/{max}: starting {} container", self.spec.engine),
            );
            match self
                .one_attempt(&rt, n, &limits, gpus.as_ref(), deadline)
                .await
            {
                Ok(started) => return Ok(started),
                Err(failure)
                    if failure.retry
                        && n < max
                        && Instant::now() + self.spec.backoff(n) < deadline =>
                {
                    self.step(
                        Phase::Create,
                        &format!("attempt {n} failed: {}; retrying", failure.reason()),
                    );
                    self.record(&failure);
                    tokio::time::sleep(self.spec.backoff(n)).await;
                }
                Err(failure) => return Err(failure),
            }
        }
        unreachable!("the last attempt always returns")
    }

    /// The engine's limits, its memory default resolved against the Docker host's memory.
    async fn container_limits(&self, rt: &dyn Runtime) -> Result<ContainerLimits, Failure> {
        let limits = &self.spec.limits;
        let memory_bytes = match limits.memory_bytes {
            Some(bytes) => bytes,
            None => limits.memory_on(
                rt.host_memory()
                    .await
                    .map_err(|e| Failure::from_runtime(e, Phase::Preflight))?,
            ),
        };
        Ok(ContainerLimits {
            memory_bytes,
            pids: limits.pids,
            log_max_bytes: limits.log_max_bytes,
            log_max_files: limits.log_max_files,
        })
    }

    async fn one_attempt(
        &mut self,
        rt: &SharedRuntime,
        n: u32,
        limits: &ContainerLimits,
        gpus: Option<&GpuRequest>,
        deadline: Instant,
    ) -> Result<Started, Failure> {
        // Resolved and pinned at container creation, after any pull and before every attempt:
        // what Docker is handed next is what was just checked.
        let resolved = &self
            .resolve_model()
            .map_err(|e| Failure::of(e, Phase::Create))?;
        let mut spec = self.container_spec(n, limits, resolved);
        spec.gpus = gpus.cloned();
        let creator = rt.clone();
        let creating = self
            .creating
            .insert(tokio::spawn(async move { creator.create(&spec).await }));
        let created = creating.await;
        self.creating = None;
        let id = match created {
            Ok(created) => created.map_err(|e| Failure::from_runtime(e, Phase::Create))?,
            Err(e) => {
                return Err(Failure::fatal(
                    Kind::StartFailed,
                    Phase::Create,
                    format!("creating the container failed inside aima: {e}"),
                ));
            }
        };
        self.created.push(id.clone());
        let rt = rt.as_ref();
        let result = self
            .bring_up(rt, &id, resolved, limits.memory_bytes, deadline)
            .await;
        if let Err(mut failure) = result {
            // The container is about to go: keep what the engine said, for `service logs`.
            if failure.log_tail.is_empty() {
                failure.log_tail = rt.logs_tail(&id, LOG_LINES).await.unwrap_or_default();
            }
            // Best effort: a failure to remove is caught again by cleanup and the next preflight.
            let _ = rt.stop_and_remove(&id, true).await;
            return Err(failure);
        }
        result
    }

    /// The service's model as its engine loads it, checked under the model roots (a local
    /// model's directory open and pinned); a model that no longer passes fails the start.
    fn resolve_model(&self) -> crate::error::Result<Resolved> {
        resolve(self.spec.engine, &self.model, &self.deps.config.model_roots).map_err(|mut e| {
            e.code = Kind::StartFailed;
            e
        })
    }

    /// Proves that the container just started mounted the pinned model directory (see
    /// [`crate::host::model_mount`]); a swap since the check fails the start, not retried.
    async fn verify_mount(
        &self,
        rt: &dyn Runtime,
        id: &ContainerId,
        resolved: &Resolved,
    ) -> Result<(), Failure> {
        let Some(pinned) = resolved.pinned.clone() else {
            return Ok(());
        };
        let state = rt
            .state(id)
            .await
            .map_err(|e| Failure::from_runtime(e, Phase::Start))?;
        let container = id.clone();
        let verdict =
            tokio::task::spawn_blocking(move || pinned.verify(container.as_str(), state.pid)).await;
        match verdict {
            Ok(Ok(evidence)) => {
                tracing::debug!(container = %id, ?evidence, "model mount verified");
                Ok(())
            }
            Ok(Err(e)) => Err(Failure::of(Error::from(e), Phase::Start).cause("model_swapped")),
            Err(e) => Err(Failure::fatal(
                Kind::StartFailed,
                Phase::Start,
                format!("verifying the model mount failed inside aima: {e}"),
            )),
        }
    }

    /// Where the engine may run: the configured constraints, and the node asked for.
    fn placement(&self) -> Vec<String> {
        let mut constraints = self.deps.config.runtime.constraints.clone();
        if let Some(node) = &self.opts.node {
            constraints.push(format!("node.hostname=={node}"));
        }
        constraints
    }

    async fn bring_up(
        &self,
        rt: &dyn Runtime,
        id: &ContainerId,
        resolved: &Resolved,
        memory: u64,
        deadline: Instant,
    ) -> Result<Started, Failure> {
        match rt.start(id, self.svc.port).await {
            Ok(()) => {}
            Err(e @ RuntimeError::PortConflict { node: None, .. }) => {
                return Err(self.lost_port_race(e));
            }
            Err(e @ RuntimeError::PortConflict { node: Some(_), .. }) => {
                return Err(taken_on_node(e, self.svc.port));
            }
            Err(e) => return Err(Failure::from_runtime(e, Phase::Start)),
        }
        self.verify_mount(rt, id, resolved).await?;
        // On a Swarm the engine answers on its node's address, not necessarily this host's.
        let placed = rt
            .placement(id)
            .await
            .map_err(|e| Failure::from_runtime(e, Phase::Start))?;
        let reach = placed.as_ref().map_or_else(
            || self.svc.local_address(),
            |p| std::net::SocketAddr::new(p.address, self.svc.port.get()),
        );
        if let Some(p) = &placed {
            self.step(
                Phase::Start,
                &format!("running on Swarm node {} ({})", p.node, reach),
            );
        }
        if !self.opts.wait {
            return Ok(Started {
                container_id: id.clone(),
                healthy: false,
            });
        }
        self.step(
            Phase::Health,
            &format!(
                "waiting for {} to answer {}",
                self.spec.engine, self.spec.health_path
            ),
        );
        let mut last_line = String::new();
        let waiting = Instant::now();
        let mut shown = waiting;
        loop {
            let state = rt
                .state(id)
                .await
                .map_err(|e| Failure::from_runtime(e, Phase::Health))?;
            if !state.running {
                return Err(self.exited(rt, id, resolved, &state, memory).await);
            }
            if self
                .deps
                .host
                .health_status(reach, &self.spec.health_path)
                .await
                == Some(200)
            {
                if let ModelRef::Pulled(model) = &resolved.model {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let say = |line: &str| self.step(Phase::Pull, line);
                    pull::ensure_model(reach, model, left, &say).await?;
                }
                return Ok(Started {
                    container_id: id.clone(),
                    healthy: true,
                });
            }
            if Instant::now() >= deadline {
                let secs = self.opts.timeout.as_secs();
                return Err(Failure::fatal(
                    Kind::Timeout,
                    Phase::Health,
                    format!("the engine was not healthy within {secs}s"),
                )
                .help(
                    "raise --timeout if the model needs longer to load, or check the engine's logs",
                ));
            }
            if shown.elapsed() >= LOG_EVERY {
                self.show_engine_log(rt, id, &mut last_line).await;
                shown = Instant::now();
            }
            let pause = if waiting.elapsed() < EARLY {
                POLL_EARLY
            } else {
                POLL
            };
            tokio::time::sleep(pause).await;
        }
    }

    /// Shows the engine's newest log line while it loads, when someone watches and it changed.
    async fn show_engine_log(&self, rt: &dyn Runtime, id: &ContainerId, last: &mut String) {
        let Some(progress) = self.opts.progress else {
            return;
        };
        if let Ok(lines) = rt.logs_tail(id, 1).await
            && let Some(line) = lines.last()
            && line != last
        {
            last.clone_from(line);
            progress(StartEvent::EngineLog(line));
        }
    }

    /// Docker could not publish the port after preflight found it free: name the holder as
    /// preflight would have, with Docker's own words as the cause.
    fn lost_port_race(&self, e: RuntimeError) -> Failure {
        let port = self.svc.port;
        let holder = self
            .deps
            .host
            .port_blocked(super::published_address(&self.deps.config, self.svc))
            .map_or_else(|| "another program".to_owned(), |holder| holder.to_string());
        let help = e.help().unwrap_or_default();
        let error = Error::new(
            Kind::PortInUse,
            format!("port {port} is in use by {holder}"),
        )
        .caused_by(e)
        .with_help(help);
        Failure::of(error, Phase::Start)
    }

    /// Why the engine stopped during start-up. Out of memory — the kernel's OOM killer
    /// (`OOMKilled`) or the engine's own words — names the container's limit and is not retried.
    async fn exited(
        &self,
        rt: &dyn Runtime,
        id: &ContainerId,
        resolved: &Resolved,
        state: &ContainerState,
        memory: u64,
    ) -> Failure {
        let log_tail = rt.logs_tail(id, LOG_LINES).await.unwrap_or_default();
        let code = state.exit_code;
        let code_text = code.map_or_else(|| "unknown".to_owned(), |c| c.to_string());
        let limit = size_text(memory);
        let oom = EngineCause::OutOfMemory;
        let mut failure = match (fatal_cause(&log_tail), state.oom_killed) {
            (_, true) => Failure::fatal(
                Kind::StartFailed,
                Phase::Health,
                format!(
                    "out of memory: the kernel's OOM killer stopped the engine at its memory limit of {limit} (exit code {code_text})"
                ),
            )
            .help(oom_help(&limit))
            .cause(oom.code()),
            (Some((EngineCause::OutOfMemory, line)), false) => Failure::fatal(
                Kind::StartFailed,
                Phase::Health,
                format!(
                    "out of memory (memory limit {limit}): the engine exited during start-up with code {code_text}: {line}"
                ),
            )
            .help(oom_help(&limit))
            .cause(oom.code()),
            (Some((cause, line)), false) => Failure::fatal(
                Kind::StartFailed,
                Phase::Health,
                format!(
                    "the engine exited during start-up with code {code_text}: {}; it was loading {}",
                    engine_words(line),
                    resolved.describe()
                ),
            )
            .help(cause.help())
            .cause(cause.code()),
            (None, false) => Failure::retryable(
                Phase::Health,
                format!(
                    "the engine exited during start-up {}",
                    exit_summary(code, &log_tail)
                ),
            )
            .help("see the engine's log lines above"),
        };
        failure.log_tail = log_tail;
        failure
    }

    fn container_spec(
        &self,
        n: u32,
        limits: &ContainerLimits,
        resolved: &Resolved,
    ) -> ContainerSpec {
        let svc = self.svc;
        ContainerSpec {
            name: format!("aima-{}-{}-a{n}", svc.id, self.deps.config.instance),
            image: self.spec.image.clone(),
            args: self.spec.container_args(&resolved.model),
            env: self.svc.settings.container_env(self.spec),
            labels: labels::labels_for(&svc.id, svc.engine_type, &self.deps.config.instance),
            host_ip: svc.bind,
            host_port: svc.port,
            container_port: self.spec.container_port,
            gpus: None,
            limits: limits.clone(),
            mount: resolved.mount.clone(),
            cache: Some(super::cache::volume_for(
                self.spec,
                &self.deps.config.instance,
            )),
            shm_bytes: self.spec.shm_bytes,
            placement: self.placement(),
            stop_secs: self.spec.stop_secs,
        }
    }
}

/// A Swarm could not publish the port on the node it chose: name the port and the node, with
/// the Swarm's words as the cause (the holder is on that node, out of this host's sight).
fn taken_on_node(e: RuntimeError, port: HostPort) -> Failure {
    let RuntimeError::PortConflict {
        node: Some(node), ..
    } = &e
    else {
        return Failure::from_runtime(e, Phase::Start);
    };
    let error = Error::new(
        Kind::PortInUse,
        format!("port {port} is in use on Swarm node {node}"),
    )
    .with_help(format!(
        "free port {port} on node {node} (`ss -ltnp 'sport = :{port}'` there), start on another node with --node, or create this service on another port with --port"
    ))
    .caused_by(e);
    Failure::of(error, Phase::Start)
}
