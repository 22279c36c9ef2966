//! Serving the API on bound listeners until `shutdown`, with the reconciler beside it.
//!
//! Shutdown: stop accepting, close connections that answer nothing (idle, or slow to send a
//! request), let requests in flight finish within `drain`, then interrupt the starts still
//! running (they clean up after themselves) and give them a moment to answer. Engine
//! containers are left running: they belong to services, and a restarted daemon adopts them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use tokio_util::sync::CancellationToken;

use super::Settings;
use super::connections::{Listener, Server};
use super::docker_events::Follower;
use super::liveness::Liveness;
use super::reconcile::Reconciler;
use crate::api::{self, ApiState};
use crate::error::Result;

/// After interrupting, how long starts get to clean up and answer.
const AFTER_INTERRUPT: Duration = Duration::from_secs(10);

pub(crate) async fn serve(
    listeners: Vec<Listener>,
    state: ApiState,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let stop = CancellationToken::new();
    let wake = Arc::new(Notify::new());
    let reconciler = Reconciler::new(
        state.deps.clone(),
        state.stores.clone(),
        settings.reap_grace,
        state.metrics.clone(),
    )
    .woken_by(wake.clone());
    let liveness = Liveness::new(
        state.deps.clone(),
        state.stores.clone(),
        reconciler.pass_now(),
    );
    let watching = tokio::spawn(liveness.run(stop.clone()));
    let reconciling = tokio::spawn(reconciler.run(settings.reconcile_every, stop.clone()));
    let follower = Follower::new(
        state.deps.clone(),
        state.stores.clone(),
        state.events.clone(),
        wake,
    );
    let following = tokio::spawn(follower.run(stop.clone()));
    let feeding = tokio::spawn(state.feed(stop.clone()));

    let (tasks, abort, closing) = (
        state.tasks.clone(),
        state.abort.clone(),
        state.closing.clone(),
    );
    let server = Server::new(api::router(state), &settings, closing.clone());
    let accepting: Vec<_> = listeners
        .into_iter()
        .map(|l| tokio::spawn(server.clone().accept_loop(l)))
        .collect();
    shutdown.await;
    closing.cancel();
    for accept in accepting {
        let _ = accept.await;
    }
    stop.cancel();
    tasks.close();
    let drained = async {
        server.connections_closed().await;
        tasks.wait().await;
    };
    let mut drained = std::pin::pin!(drained);
    if tokio::time::timeout(settings.drain, &mut drained)
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still running after {}s: interrupting them",
            settings.drain.as_secs()
        );
        abort.cancel();
        if tokio::time::timeout(AFTER_INTERRUPT, &mut drained)
            .await
            .is_err()
        {
            tracing::warn!("requests still running after the interrupt: exiting anyway");
        }
    }
    let _ = reconciling.await;
    let _ = watching.await;
    let _ = following.await;
    let _ = feeding.await;
    tracing::info!("aima daemon stopped");
    Ok(())
}
