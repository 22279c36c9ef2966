//! `service start`: claim the service, preflight, then bounded attempts with backoff.
//!
//! Every way out — success, failure, timeout, signal — leaves the row in a true state and no
//! container of a failed start behind.

use std::future::Future;
use std::time::Instant;

use super::attempt_loop::{Run, StartOptions, Started};
use super::failure::Failure;
use super::preflight::remove_leftovers;
use super::{Deps, lease};
use crate::config::RuntimeKind;
use crate::domain::{
    Attempt, Desired, EngineSpec, Owner, Phase, RestartPolicy, Service, ServiceId, Status,
};
use crate::error::{Error, Kind, Result};
use crate::runtime::SharedRuntime;
use crate::store::{Change, StoreHandle};

/// Who asked for a start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Starter {
    /// A person (CLI or API): from any startable state; begins a new row of restarts, and a
    /// success records that the service is wanted running.
    Operator,
    /// The daemon's supervisor: only a service that still waits in `backoff` for it.
    Supervisor,
}

/// Starts `id` for an operator; `interrupt` resolves (with the signal's name) to abandon it.
pub(crate) async fn start(
    deps: &Deps,
    store: &StoreHandle,
    id: &ServiceId,
    opts: StartOptions<'_>,
    interrupt: impl Future<Output = &'static str>,
) -> Result<Service> {
    start_as(Starter::Operator, deps, store, id, opts, interrupt).await
}

/// Starts `id` on behalf of `by`: the same start, preflight and all, whoever asks.
pub(crate) async fn start_as(
    by: Starter,
    deps: &Deps,
    store: &StoreHandle,
    id: &ServiceId,
    opts: StartOptions<'_>,
    interrupt: impl Future<Output = &'static str>,
) -> Result<Service> {
    if let Some(node) = &opts.node {
        check_node(deps, node)?;
    }
    let svc = super::refresh(deps, store, id).await?;
    let me = lease::claim(deps);
    let claim = Change {
        to: Status::Starting,
        last_error: None,
        attempts: Vec::new(),
        container_id: None,
        owner: Some(me),
    };
    let claimed = match by {
        Starter::Operator => store.change_service(id, &Status::STARTABLE, claim).await?,
        Starter::Supervisor => {
            let id = id.clone();
            store.call(move |s| s.claim_restart(&id, claim)).await?
        }
    };
    let Some(svc) = claimed else {
        return Err(busy(&svc));
    };
    if by == Starter::Operator {
        let always = svc.restart == RestartPolicy::Always;
        let id = id.clone();
        store
            .call(move |s| {
                s.reset_restarts(&id)?;
                // With `always` the operator's wish holds even if this start fails: the
                // supervisor keeps trying it.
                if always {
                    s.set_desired(&id, Desired::Running, &[Status::Starting])?;
                }
                Ok(())
            })
            .await?;
    }
    let spec = service_spec(deps, &svc);
    let model = store.get_model(&svc.model_id).await?;
    let others = store.list_services().await?;
    let began = Instant::now();
    let mut run = Run {
        deps,
        svc: &svc,
        spec: &spec,
        model,
        others,
        began,
        attempts: Vec::new(),
        opts: &opts,
        runtime: None,
        creating: None,
        created: Vec::new(),
    };

    let outcome = tokio::select! {
        outcome = run.attempts() => outcome,
        signal = interrupt => Err(Failure::fatal(Kind::Interrupted, Phase::Interrupted, format!("start interrupted by {signal}"))
            .help(format!("run `aima service start {id}` again when ready"))),
        lease::Lost = lease::hold(store, id, Status::Starting, me, deps.config.lease) => {
            return Err(give_way(store, &mut run, me).await);
        }
    };
    if let Err(failure) = &outcome
        && failure.phase == Phase::Interrupted
    {
        // The attempt in progress was dropped unrecorded: account for it.
        run.record(failure);
    }
    // A create request the attempt had sent still completes in Docker: let it, so that what
    // follows knows every container this start made.
    run.settle_create().await;
    // The claim may have been lost since the last look: then nothing of this start is recorded.
    if !store.holds_claim(id, Status::Starting, me.claim).await? {
        return Err(give_way(store, &mut run, me).await);
    }
    let attempts = std::mem::take(&mut run.attempts);
    match outcome {
        Ok(started) => match hand_over(store, &svc, &started, &attempts, me).await? {
            Some(service) => Ok(service),
            None => {
                run.attempts = attempts;
                Err(give_way(store, &mut run, me).await)
            }
        },
        Err(failure) => {
            let runtime = run.runtime.clone();
            match fail(deps, store, &svc, runtime, failure, &attempts, me, began).await {
                Some(error) => Err(error),
                None => {
                    run.attempts = attempts;
                    Err(give_way(store, &mut run, me).await)
                }
            }
        }
    }
}

/// This start lost its claim: a `service stop` (or `delete`) took the service over, or a reader
/// took this start for hung. Removes every container it created — a stop waits for that, and
/// no further one is made — then tells the stop it may go on.
async fn give_way(store: &StoreHandle, run: &mut Run<'_>, me: Owner) -> Error {
    let id = &run.svc.id;
    run.settle_create().await;
    if let Some(rt) = run.runtime.clone() {
        for container in std::mem::take(&mut run.created) {
            // What cannot be removed now is the stop's to remove: it lists them after this.
            if let Err(e) = rt.stop_and_remove(&container, true).await {
                tracing::warn!(service = %id, %container, "cannot remove a container of a start that lost its claim: {e}");
            }
        }
    }
    if let Err(e) = store.yielded(id, me.claim).await {
        tracing::warn!(service = %id, "cannot tell the stop that this start gave way: {}", e.message);
    }
    let failure = Failure::fatal(
        Kind::Conflict,
        Phase::Interrupted,
        format!("service {id} was stopped while it was starting"),
    )
    .help(format!(
        "start it again when wanted: aima service start {id}"
    ));
    run.record(&failure);
    failure
        .error
        .with_attempts(std::mem::take(&mut run.attempts))
}

/// `--node` places engines on a Swarm: refused on plain Docker, and checked to be a name.
fn check_node(deps: &Deps, node: &str) -> Result<()> {
    if deps.config.runtime.kind != RuntimeKind::Swarm {
        return Err(Error::usage(format!(
            "--node {node} places the engine on a Swarm node, but this data dir runs engines on plain Docker"
        ))
        .with_help("set [runtime] kind = \"swarm\" in config.toml (or AIMA_RUNTIME=swarm), or leave out --node"));
    }
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    if node.is_empty() || !node.chars().all(valid) {
        return Err(Error::usage(format!(
            "{node:?} is not a node name: use the name `docker node ls` shows"
        )));
    }
    Ok(())
}

/// The engine's settings with the service's own choices on top: its GPUs, memory limit,
/// image, arguments and `/dev/shm` size (its environment is laid over at container create).
fn service_spec(deps: &Deps, svc: &Service) -> EngineSpec {
    let mut spec = deps.config.engine(svc.engine_type).clone();
    svc.settings.apply_to(&mut spec);
    spec.gpus = Some(super::gpus::of(svc, &deps.config));
    if let Some(bytes) = svc.memory_bytes {
        spec.limits.memory_bytes = Some(bytes);
    }
    spec
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
        .with_help(format!("to restart it: aima service restart {id}")),
        other => Error::conflict(format!(
            "service {id} is {} and cannot be started now",
            other.as_str()
        ))
        .with_help("try again in a moment"),
    }
}

/// Records the outcome: `running` when healthy, else a detached `starting` with no owner.
async fn hand_over(
    store: &StoreHandle,
    svc: &Service,
    started: &Started,
    attempts: &[Attempt],
    me: Owner,
) -> Result<Option<Service>> {
    let to = if started.healthy {
        Status::Running
    } else {
        Status::Starting
    };
    let change = Change {
        to,
        last_error: None,
        attempts: attempts.to_vec(),
        container_id: Some(started.container_id.clone()),
        owner: None,
    };
    let Some(handed) = store.change_claimed(&svc.id, me.claim, change).await? else {
        return Ok(None);
    };
    // Wanted running from now on, unless a stop came first (it records `stopped`).
    let id = svc.id.clone();
    let wanted = store
        .call(move |s| s.set_desired(&id, Desired::Running, &[to]))
        .await?;
    Ok(Some(if wanted {
        Service {
            desired: Desired::Running,
            ..handed
        }
    } else {
        handed
    }))
}

/// Removes whatever this start created, records the failure, and builds the error to show;
/// `None` when the claim was lost before the failure could be recorded.
#[expect(
    clippy::too_many_arguments,
    reason = "the whole of one start's outcome"
)]
async fn fail(
    deps: &Deps,
    store: &StoreHandle,
    svc: &Service,
    runtime: Option<SharedRuntime>,
    failure: Failure,
    attempts: &[Attempt],
    me: Owner,
    began: Instant,
) -> Option<Error> {
    // Before any container was created (connect, preflight) there is nothing of this start
    // to remove: preflight removed the leftovers of earlier ones.
    let created_something = !matches!(failure.phase, Phase::Connect | Phase::Preflight);
    if let Some(rt) = runtime.filter(|_| created_something) {
        let _ = remove_leftovers(deps, rt.as_ref(), svc).await;
    }
    let with_causes = failure.with_causes;
    let error = failure
        .error
        .within(format_args!("cannot start service {}", svc.id));
    // A Docker failure is recorded with Docker's words, as its attempt is.
    let recorded = if with_causes {
        error.one_line()
    } else {
        error.message.clone()
    };
    let change = Change {
        to: Status::Failed,
        last_error: Some(recorded),
        attempts: attempts.to_vec(),
        container_id: None,
        owner: None,
    };
    match store.change_claimed(&svc.id, me.claim, change).await {
        Ok(Some(_)) => {}
        Ok(None) => return None,
        Err(e) => return Some(e),
    }
    tracing::debug!(service = %svc.id, elapsed_ms = began.elapsed().as_millis() as u64, "start failed");
    Some(error.with_attempts(attempts.to_vec()))
}
