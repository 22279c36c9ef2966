//! The attempts of one start: connect, preflight, then up to the engine's attempt limit of
//! create → start → (with `--wait`) health, removing each failed attempt's container and
//! pausing with backoff between retryable failures.

use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use super::failure::{EngineCause, Failure, engine_words, exit_summary, fatal_cause};
use super::model_ref::{Resolved, resolve};
use super::preflight::preflight;
use super::progress::StartEvent;
use super::pull;
use super::start::StartOptions;
use super::{Deps, labels};
use crate::domain::{Attempt, EngineSpec, Model, ModelRef, Phase, Service};
use crate::error::{Classified, Error, Kind};
use crate::runtime::{
    ContainerLimits, ContainerSpec, Runtime, RuntimeError, RuntimeResult, SharedRuntime,
};

const POLL: Duration = Duration::from_millis(250);
const LOG_LINES: usize = 30;

/// The container that came up, and whether it already answered its health check.
pub(super) struct Started {
    pub container_id: String,
    pub healthy: bool,
}

/// One start's attempts: what they need, and what they recorded.
pub(super) struct Run<'a> {
    pub(super) deps: &'a Deps,
    pub(super) svc: &'a Service,
    pub(super) spec: &'a EngineSpec,
    /// The service's model, resolved for its engine after preflight.
    pub(super) model: Model,
    pub(super) began: Instant,
    pub(super) attempts: Vec<Attempt>,
    pub(super) opts: &'a StartOptions<'a>,
    pub(super) runtime: Option<SharedRuntime>,
    /// The create request of the attempt in progress, run as its own task so that it survives
    /// this future being dropped (an interrupt): see [`Run::settle_create`].
    pub(super) creating: Option<JoinHandle<RuntimeResult<String>>>,
}

impl Run<'_> {
    pub(super) fn record(&mut self, failure: &Failure) {
        self.attempts.push(Attempt {
            number: self.attempts.len() as u32 + 1,
            phase: failure.phase,
            elapsed_ms: self.began.elapsed().as_millis() as u64,
            reason: failure.reason().to_owned(),
            code: Some(failure.code().to_owned()),
            log_tail: failure.log_tail.clone(),
        });
    }

    /// Waits for a create request left in flight by an interrupt (bounded by the runtime's own
    /// call limit), so that the clean-up after it sees the container if Docker made one.
    pub(super) async fn settle_create(&mut self) {
        if let Some(creating) = self.creating.take() {
            let _ = creating.await;
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
        let addr = self.svc.published_address();
        let host_check = tokio::task::spawn_blocking(move || host.port_blocked(addr));
        let rt = self
            .deps
            .docker()
            .await
            .map_err(|e| Failure::of(e, Phase::Connect))?;
        self.runtime = Some(rt.clone());
        self.step(
            Phase::Preflight,
            &format!(
                "checking port {} and image {}",
                self.svc.port, self.spec.image
            ),
        );
        preflight(self.deps, rt.as_ref(), self.svc, self.spec, host_check).await?;
        self.docker_room(rt.as_ref(), "Docker's disk is too full", Phase::Preflight)
            .await?;
        // Again at every start: the files may have changed (or become a symlink elsewhere)
        // since the service was created.
        let resolved = resolve(self.spec.engine, &self.model, &self.deps.config.model_roots)
            .map_err(|mut e| {
                e.code = Kind::StartFailed;
                Failure::of(e, Phase::Preflight)
            })?;
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
            match self.one_attempt(&rt, n, &limits, &resolved, deadline).await {
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
        resolved: &Resolved,
        deadline: Instant,
    ) -> Result<Started, Failure> {
        let spec = self.container_spec(n, limits, resolved);
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
        let rt = rt.as_ref();
        let result = self.bring_up(rt, &id, resolved, deadline).await;
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

    async fn bring_up(
        &self,
        rt: &dyn Runtime,
        id: &str,
        resolved: &Resolved,
        deadline: Instant,
    ) -> Result<Started, Failure> {
        match rt.start(id, self.svc.port).await {
            Ok(()) => {}
            Err(e @ RuntimeError::PortConflict { .. }) => return Err(self.lost_port_race(e)),
            Err(e) => return Err(Failure::from_runtime(e, Phase::Start)),
        }
        if !self.opts.wait {
            return Ok(Started {
                container_id: id.to_owned(),
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
        for poll in 0u64.. {
            let state = rt
                .state(id)
                .await
                .map_err(|e| Failure::from_runtime(e, Phase::Health))?;
            if !state.running {
                return Err(self
                    .exited(rt, id, resolved, state.exit_code, state.oom_killed)
                    .await);
            }
            if self
                .deps
                .host
                .health_status(self.svc.local_address(), &self.spec.health_path)
                .await
                == Some(200)
            {
                if let ModelRef::Pulled(model) = &resolved.model {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let say = |line: &str| self.step(Phase::Pull, line);
                    pull::ensure_model(self.svc.local_address(), model, left, &say).await?;
                }
                return Ok(Started {
                    container_id: id.to_owned(),
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
            if poll % 4 == 3 {
                self.show_engine_log(rt, id, &mut last_line).await;
            }
            tokio::time::sleep(POLL).await;
        }
        unreachable!("the health wait returns from inside its loop")
    }

    /// Shows the engine's newest log line while it loads, when someone watches and it changed.
    async fn show_engine_log(&self, rt: &dyn Runtime, id: &str, last: &mut String) {
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
            .port_blocked(self.svc.published_address())
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

    async fn exited(
        &self,
        rt: &dyn Runtime,
        id: &str,
        resolved: &Resolved,
        code: Option<i64>,
        oom: bool,
    ) -> Failure {
        let log_tail = rt.logs_tail(id, LOG_LINES).await.unwrap_or_default();
        let code_text = code.map_or_else(|| "unknown".to_owned(), |c| c.to_string());
        let cause = fatal_cause(&log_tail);
        let mut failure = match (cause, oom) {
            (Some((cause, line)), _) => Failure::fatal(
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
            (None, true) => Failure::fatal(
                Kind::StartFailed,
                Phase::Health,
                format!(
                    "the engine was killed for running out of memory {}",
                    exit_summary(code, &log_tail)
                ),
            )
            .help(EngineCause::OutOfMemory.help())
            .cause(EngineCause::OutOfMemory.code()),
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
            env: self.spec.container_env(),
            labels: labels::labels_for(&svc.id, svc.engine_type, &self.deps.config.instance),
            host_ip: svc.bind,
            host_port: svc.port,
            container_port: self.spec.container_port,
            gpu: self.spec.gpu,
            limits: limits.clone(),
            mount: resolved.mount.clone(),
            cache: Some(super::cache::volume_for(
                self.spec,
                &self.deps.config.instance,
            )),
            shm_bytes: self.spec.shm_bytes,
        }
    }
}
