//! The attempts of one start: connect, preflight, then up to the engine's attempt limit of
//! create → start → (with `--wait`) health, removing each failed attempt's container and
//! pausing with backoff between retryable failures.

use std::time::{Duration, Instant};

use super::failure::{Failure, exit_summary, is_fatal_engine_log};
use super::preflight::preflight;
use super::progress::StartEvent;
use super::start::StartOptions;
use super::{Deps, labels};
use crate::domain::{Attempt, EngineSpec, Phase, Service};
use crate::error::{Classified, Error, Kind};
use crate::runtime::{ContainerLimits, ContainerSpec, Runtime, RuntimeError, SharedRuntime};

const POLL: Duration = Duration::from_millis(250);
const LOG_LINES: usize = 20;

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
    /// What the engine is told to load: the mount target for a local model, else the repo id.
    pub(super) model_ref: String,
    /// A local model directory, mounted read-only into the container.
    pub(super) model_path: Option<String>,
    pub(super) began: Instant,
    pub(super) attempts: Vec<Attempt>,
    pub(super) opts: &'a StartOptions<'a>,
    pub(super) runtime: Option<SharedRuntime>,
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
        if let Some(dir) = &self.model_path {
            // The directory may have been replaced (by a symlink elsewhere) since registration.
            crate::host::model_dir::allowed_dir(dir, &self.deps.config.model_roots).map_err(
                |mut e| {
                    e.code = Kind::StartFailed;
                    Failure::of(e, Phase::Preflight)
                },
            )?;
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
            match self.one_attempt(rt.as_ref(), n, &limits, deadline).await {
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
        &self,
        rt: &dyn Runtime,
        n: u32,
        limits: &ContainerLimits,
        deadline: Instant,
    ) -> Result<Started, Failure> {
        let spec = self.container_spec(n, limits);
        let id = rt
            .create(&spec)
            .await
            .map_err(|e| Failure::from_runtime(e, Phase::Create))?;
        let result = self.bring_up(rt, &id, deadline).await;
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
                return Err(self.exited(rt, id, state.exit_code, state.oom_killed).await);
            }
            if self
                .deps
                .host
                .health_status(self.svc.local_address(), &self.spec.health_path)
                .await
                == Some(200)
            {
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

    async fn exited(&self, rt: &dyn Runtime, id: &str, code: Option<i64>, oom: bool) -> Failure {
        let log_tail = rt.logs_tail(id, LOG_LINES).await.unwrap_or_default();
        let reason = format!(
            "the engine exited during start-up {}",
            exit_summary(code, &log_tail)
        );
        let mut failure = if oom || is_fatal_engine_log(&log_tail) {
            Failure::fatal(Kind::StartFailed, Phase::Health, reason)
                .help("the engine ran out of memory: use a smaller model or free memory; retrying will not help")
        } else {
            Failure::retryable(Phase::Health, reason).help("see the engine's log lines above")
        };
        failure.log_tail = log_tail;
        failure
    }

    fn container_spec(&self, n: u32, limits: &ContainerLimits) -> ContainerSpec {
        let svc = self.svc;
        ContainerSpec {
            name: format!("aima-{}-{}-a{n}", svc.id, self.deps.config.instance),
            image: self.spec.image.clone(),
            args: self.spec.container_args(&self.model_ref),
            env: self.spec.container_env(),
            labels: labels::labels_for(&svc.id, svc.engine_type, &self.deps.config.instance),
            host_ip: svc.bind,
            host_port: svc.port,
            container_port: self.spec.container_port,
            gpu: self.spec.gpu,
            limits: limits.clone(),
            mount: self.model_path.clone(),
        }
    }
}
