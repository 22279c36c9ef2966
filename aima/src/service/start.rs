//! `service start`: claim the service, preflight, then bounded attempts with backoff.
//!
//! Every way out — success, failure, timeout, signal — leaves the row in a true state and no
//! container of a failed start behind.

use std::future::Future;
use std::time::{Duration, Instant};

use super::failure::{Failure, exit_summary, is_fatal_engine_log};
use super::preflight::{preflight, remove_leftovers};
use super::{Attempt, Deps, Phase, labels};
use crate::engine::EngineSpec;
use crate::error::{Error, Kind, Result};
use crate::ids::ServiceId;
use crate::records::{Service, Status};
use crate::runtime::{ContainerSpec, Runtime, SharedRuntime};
use crate::store::{Change, Store};

const POLL: Duration = Duration::from_millis(250);
const LOG_LINES: usize = 20;

pub struct StartOptions<'a> {
    /// Wait until the engine answers its health endpoint.
    pub wait: bool,
    /// Deadline for the whole start, attempts and health wait included.
    pub timeout: Duration,
    /// Progress lines for a person watching (None: silent).
    pub progress: Option<&'a (dyn Fn(&str) + Send + Sync)>,
}

/// Starts `id`; `interrupt` resolves (with the signal's name) to abandon the start.
pub async fn start(
    deps: &Deps,
    store: &mut Store,
    id: &ServiceId,
    opts: StartOptions<'_>,
    interrupt: impl Future<Output = &'static str>,
) -> Result<Service> {
    let svc = super::refresh(deps, store, id).await?;
    let me = deps.host.current_owner();
    let claim = Change {
        to: Status::Starting,
        last_error: None,
        attempts: &[],
        container_id: None,
        owner: Some(me),
    };
    let Some(svc) = store.change_service(id, &Status::STARTABLE, claim)? else {
        return Err(busy(&svc));
    };
    let spec = deps.config.engine(svc.engine_type).clone();
    let model = store.get_model(&svc.model_id)?;
    let began = Instant::now();
    let mut run = Run {
        deps,
        svc: &svc,
        spec: &spec,
        model_path: model.path.clone(),
        model_ref: model.path.unwrap_or(model.repo),
        began,
        attempts: Vec::new(),
        opts: &opts,
        runtime: None,
    };

    let outcome = tokio::select! {
        outcome = run.attempts() => outcome,
        signal = interrupt => Err(Failure::fatal(Kind::Interrupted, Phase::Interrupted, format!("start interrupted by {signal}"))
            .help(format!("run `aima service start {id}` again when ready"))),
    };
    if let Err(failure) = &outcome
        && failure.phase == Phase::Interrupted
    {
        // The attempt in progress was dropped unrecorded: account for it.
        run.record(failure);
    }
    let attempts = std::mem::take(&mut run.attempts);
    let runtime = run.runtime.clone();
    match outcome {
        Ok(started) => match hand_over(store, &svc, &started, &attempts)? {
            Some(service) => Ok(service),
            None => {
                // A `service stop` came in while we were starting: its container must not stay.
                if let Some(rt) = runtime {
                    let _ = rt.stop_and_remove(&started.container_id, true).await;
                }
                Err(Error::conflict(format!(
                    "service {id} was stopped while it was starting"
                )))
            }
        },
        Err(failure) => Err(fail(deps, store, &svc, runtime, failure, attempts, began).await),
    }
}

fn busy(svc: &Service) -> Error {
    let id = &svc.id;
    match svc.status {
        Status::Starting => Error::conflict(format!("service {id} is already starting")).with_help(
            format!("wait for it, or stop it first: aima service stop {id}"),
        ),
        Status::Running => Error::conflict(format!(
            "service {id} is already running on port {}",
            svc.port
        ))
        .with_help(format!(
            "to restart it: aima service stop {id} && aima service start {id}"
        )),
        other => Error::conflict(format!(
            "service {id} is {} and cannot be started now",
            other.as_str()
        ))
        .with_help("try again in a moment"),
    }
}

/// The container that came up, and whether it already answered its health check.
struct Started {
    container_id: String,
    healthy: bool,
}

struct Run<'a> {
    deps: &'a Deps,
    svc: &'a Service,
    spec: &'a EngineSpec,
    /// What the engine is told to load: the local path when there is one, else the repo id.
    model_ref: String,
    /// A local model directory, mounted read-only into the container.
    model_path: Option<String>,
    began: Instant,
    attempts: Vec<Attempt>,
    opts: &'a StartOptions<'a>,
    runtime: Option<SharedRuntime>,
}

impl Run<'_> {
    fn record(&mut self, failure: &Failure) {
        self.attempts.push(Attempt {
            number: self.attempts.len() as u32 + 1,
            phase: failure.phase,
            elapsed_ms: self.began.elapsed().as_millis() as u64,
            reason: failure.reason.clone(),
            log_tail: failure.log_tail.clone(),
        });
    }

    fn say(&self, line: &str) {
        if let Some(progress) = self.opts.progress {
            progress(line);
        }
    }

    async fn attempts(&mut self) -> Result<Started, Failure> {
        let result = self.attempts_unrecorded().await;
        if let Err(failure) = &result {
            self.record(failure);
        }
        result
    }

    /// Records every failure but the last, which the caller records on the way out.
    async fn attempts_unrecorded(&mut self) -> Result<Started, Failure> {
        self.say(&format!("connecting to Docker for service {}", self.svc.id));
        let rt = self.deps.docker().await.map_err(|e| {
            let mut f = Failure::fatal(Kind::DockerUnavailable, Phase::Connect, e.message);
            f.help = e.help;
            f
        })?;
        self.runtime = Some(rt.clone());
        self.say(&format!(
            "checking port {} and image {}",
            self.svc.port, self.spec.image
        ));
        preflight(self.deps, rt.as_ref(), self.svc, self.spec).await?;
        let deadline = self.began + self.opts.timeout;
        let max = self.spec.start_attempts.max(1);
        for n in 1..=max {
            self.say(&format!(
                "attempt {n}/{max}: starting {} container",
                self.spec.engine
            ));
            match self.one_attempt(rt.as_ref(), n, deadline).await {
                Ok(started) => return Ok(started),
                Err(failure)
                    if failure.retry
                        && n < max
                        && Instant::now() + self.spec.backoff(n) < deadline =>
                {
                    self.say(&format!("attempt {n} failed: {}; retrying", failure.reason));
                    self.record(&failure);
                    tokio::time::sleep(self.spec.backoff(n)).await;
                }
                Err(failure) => return Err(failure),
            }
        }
        unreachable!("the last attempt always returns")
    }

    async fn one_attempt(
        &self,
        rt: &dyn Runtime,
        n: u32,
        deadline: Instant,
    ) -> Result<Started, Failure> {
        let spec = self.container_spec(n);
        let id = rt
            .create(&spec)
            .await
            .map_err(|e| Failure::from_runtime(e, Phase::Create))?;
        let result = self.bring_up(rt, &id, deadline).await;
        if result.is_err() {
            // Best effort: a failure to remove is caught again by cleanup and the next preflight.
            let _ = rt.stop_and_remove(&id, true).await;
        }
        result
    }

    async fn bring_up(
        &self,
        rt: &dyn Runtime,
        id: &str,
        deadline: Instant,
    ) -> Result<Started, Failure> {
        if let Err(e) = rt.start(id, self.svc.port).await {
            let mut failure = Failure::from_runtime(e, Phase::Start);
            if failure.kind == Kind::PortInUse {
                // Lost a race after preflight: name the holder as preflight would have.
                let holder = self
                    .deps
                    .host
                    .port_blocked(self.svc.port)
                    .map_or_else(|| "another program".to_owned(), |holder| holder.to_string());
                failure.reason = format!("port {} is in use by {holder}", self.svc.port);
                failure.help = Some(
                    "free the port, or create this service on another port with --port".to_owned(),
                );
            }
            return Err(failure);
        }
        if !self.opts.wait {
            return Ok(Started {
                container_id: id.to_owned(),
                healthy: false,
            });
        }
        self.say(&format!(
            "waiting for {} to answer {}",
            self.spec.engine, self.spec.health_path
        ));
        loop {
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
                .health_status(self.svc.port, &self.spec.health_path)
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
            tokio::time::sleep(POLL).await;
        }
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

    fn container_spec(&self, n: u32) -> ContainerSpec {
        let svc = self.svc;
        ContainerSpec {
            name: format!("aima-{}-{}-a{n}", svc.id, self.deps.config.instance),
            image: self.spec.image.clone(),
            args: self.spec.container_args(&self.model_ref),
            env: self.spec.container_env(),
            labels: labels::labels_for(&svc.id, svc.engine_type, &self.deps.config.instance),
            host_port: svc.port,
            container_port: self.spec.container_port,
            gpu: self.spec.gpu,
            mount: self.model_path.clone(),
        }
    }
}

/// Records the outcome: `running` when healthy, else a detached `starting` with no owner.
fn hand_over(
    store: &mut Store,
    svc: &Service,
    started: &Started,
    attempts: &[Attempt],
) -> Result<Option<Service>> {
    let to = if started.healthy {
        Status::Running
    } else {
        Status::Starting
    };
    let change = Change {
        to,
        last_error: None,
        attempts,
        container_id: Some(&started.container_id),
        owner: None,
    };
    store.change_service(&svc.id, &[Status::Starting], change)
}

/// Removes whatever this start created, records the failure, and builds the error to show.
async fn fail(
    deps: &Deps,
    store: &mut Store,
    svc: &Service,
    runtime: Option<SharedRuntime>,
    failure: Failure,
    attempts: Vec<Attempt>,
    began: Instant,
) -> Error {
    if let Some(rt) = runtime {
        let _ = remove_leftovers(deps, rt.as_ref(), svc).await;
    }
    let message = format!("cannot start service {}: {}", svc.id, failure.reason);
    let change = Change {
        to: Status::Failed,
        last_error: Some(&message),
        attempts: &attempts,
        container_id: None,
        owner: None,
    };
    match store.change_service(&svc.id, &[Status::Starting], change) {
        Ok(Some(_)) => {}
        // A `service stop` took the service over: its outcome, not this failure, is the truth.
        Ok(None) => {
            return Error::conflict(format!(
                "service {} was stopped while it was starting",
                svc.id
            ))
            .with_attempts(attempts);
        }
        Err(e) => return e,
    }
    tracing::debug!(service = %svc.id, elapsed_ms = began.elapsed().as_millis() as u64, "start failed");
    let mut error = Error::new(failure.kind, message).with_attempts(attempts);
    if let Some(cause) = failure.cause {
        error = error.caused_by(cause);
    }
    match failure.help {
        Some(help) => error.with_help(help),
        None => error,
    }
}
