//! `service stop`: from any state, remove every container of the service, wait for its host port
//! to be released, and end in `stopped`. Running it twice is harmless.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{Deps, labels, lease};
use crate::domain::{Desired, Owner, Service, ServiceId, Status};
use crate::error::{Error, Result};
use crate::runtime::RuntimeError;
use crate::store::{Change, StoreHandle};

/// Docker's proxy may hold the port a moment after its container is gone.
const PORT_RELEASE_WAIT: Duration = Duration::from_secs(5);
/// How often a stop looks whether the start it displaced has given way.
const STARTER_LOOK: Duration = Duration::from_millis(20);

/// The longest grace period a stop may be given, as for `--time`.
pub const MAX_STOP_SECS: u32 = 86_400;

/// How a stop ends the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// SIGKILL at once (`--force`).
    Kill,
    /// SIGTERM, then SIGKILL after this many seconds; `None`: the engine's `stop_secs`.
    Graceful(Option<u32>),
}

impl StopMode {
    /// From the front ends' `force` and `time`; asking for both is a usage error.
    pub fn from_request(force: bool, time: Option<u32>) -> Result<Self> {
        if let Some(secs) = time.filter(|secs| *secs > MAX_STOP_SECS) {
            return Err(Error::usage(format!(
                "a grace period of {secs} s is too long: at most {MAX_STOP_SECS} s (a day)"
            )));
        }
        match (force, time) {
            (true, Some(_)) => Err(Error::usage(
                "a forced stop kills at once, so it takes no grace period",
            )
            .with_help("give either --force or --time SECS (`force` or `time` over the API)")),
            (true, None) => Ok(StopMode::Kill),
            (false, time) => Ok(StopMode::Graceful(time)),
        }
    }
}

pub(crate) struct Stopped {
    pub service: Service,
    /// False when something still held the port after the wait (reported, not an error).
    pub port_released: bool,
}

pub(crate) async fn stop(
    deps: &Deps,
    store: &StoreHandle,
    id: &ServiceId,
    mode: StopMode,
) -> Result<Stopped> {
    let svc = store.get_service(id).await?;
    let grace = match mode {
        StopMode::Kill => None,
        StopMode::Graceful(secs) => {
            Some(secs.unwrap_or(deps.config.engine(svc.engine_type).stop_secs))
        }
    };
    let rt = deps.docker().await?;
    let keep = |to| Change {
        to,
        last_error: svc.last_error.clone(),
        attempts: svc.attempts.clone(),
        container_id: svc.container_id.clone(),
        owner: None,
    };
    // Tell a start in progress (or the reconciler) that this service is on its way down; the
    // owner lets the next reader resolve a stop whose process died half-way.
    // The operator's wish first, so the supervisor never restarts what is being stopped.
    let wish = id.clone();
    store
        .call(move |s| s.set_desired(&wish, Desired::Stopped, &Status::ALL))
        .await?;
    let me = lease::claim(deps);
    let stopping = Change {
        owner: Some(me),
        ..keep(Status::Stopping)
    };
    // From `backoff` too: the restart that was due is cancelled.
    let (_, displaced) = store
        .take_over(
            id,
            &[Status::Starting, Status::Running, Status::Backoff],
            stopping,
        )
        .await?;
    if let Some(starter) = displaced {
        wait_for_starter(deps, store, id, starter).await;
    }
    let docker_error =
        |e: RuntimeError| Error::from(e).within(format_args!("cannot stop service {id}"));
    let remove_all = async {
        let own = labels::service_containers(rt.as_ref(), id, &deps.config)
            .await
            .map_err(docker_error)?;
        for c in &own {
            match grace {
                None => rt.stop_and_remove(&c.id, true).await,
                Some(secs) => rt.stop_within(&c.id, secs).await,
            }
            .map_err(docker_error)?;
        }
        // Confirm: Docker may list a container it is still creating only once it can remove it.
        let confirmed = super::sweep::remove_all(deps, rt.as_ref(), id)
            .await
            .map_err(docker_error)?;
        Ok::<_, Error>(own.len() + confirmed)
    };
    tokio::pin!(remove_all);
    let removed = tokio::select! {
        removed = &mut remove_all => removed?,
        // Whoever took the row over decides its status; the containers still go.
        lease::Lost = lease::hold(store, id, Status::Stopping, me, deps.config.lease) => remove_all.await?,
    };
    // A displaced starter may have removed its container itself a moment ago.
    let port_released = (removed == 0 && displaced.is_none())
        || wait_for_release(deps, super::published_address(&deps.config, &svc)).await;
    let stopped = Change {
        container_id: None,
        ..keep(Status::Stopped)
    };
    let service = match store.change_service(id, &Status::ALL, stopped).await? {
        Some(service) => service,
        None => store.get_service(id).await?,
    };
    Ok(Stopped {
        service,
        port_released,
    })
}

/// A start this stop displaced removes every container it created, then says so: waits for
/// that — or for the starter to be gone (dead, or its lease lapsed, which happens before this
/// stop's own lease lapses) — so that no container of that start appears after the stop.
async fn wait_for_starter(deps: &Deps, store: &StoreHandle, id: &ServiceId, starter: Owner) {
    loop {
        match store.is_yielding(id, starter.claim).await {
            Ok(false) => return,
            Ok(true) => {}
            Err(e) => {
                tracing::warn!(service = %id, "cannot tell whether the start gave way: {}", e.message);
                return;
            }
        }
        if let Some(why) = lease::gone(deps, starter) {
            tracing::info!(service = %id, "not waiting for the displaced start: {why}");
            return;
        }
        tokio::time::sleep(STARTER_LOOK).await;
    }
}

async fn wait_for_release(deps: &Deps, addr: SocketAddr) -> bool {
    let until = Instant::now() + PORT_RELEASE_WAIT;
    loop {
        if deps.host.port_blocked(addr).is_none() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
