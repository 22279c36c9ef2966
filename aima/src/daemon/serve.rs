//! Serving the API on a bound listener until `shutdown`, with the reconciler beside it.
//!
//! Shutdown: stop accepting, let requests in flight finish within `drain`, then interrupt the
//! starts still running (they clean up after themselves) and give them a moment to answer.
//! Engine containers are left running: they belong to services, and a restarted daemon adopts
//! them.

use std::future::{Future, IntoFuture};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::Settings;
use super::reconcile::Reconciler;
use crate::api::{self, ApiState};
use crate::error::{Error, Result};

/// After interrupting, how long starts get to clean up and answer.
const AFTER_INTERRUPT: Duration = Duration::from_secs(10);

pub(crate) async fn serve(
    listener: TcpListener,
    state: ApiState,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let stop = CancellationToken::new();
    let reconciler = Reconciler::new(state.clone(), settings.reap_grace);
    let reconciling = tokio::spawn(reconciler.run(settings.reconcile_every, stop.clone()));
    let feeding = tokio::spawn(state.feed(stop.clone()));

    let (tasks, abort, closing) = (
        state.tasks.clone(),
        state.abort.clone(),
        state.closing.clone(),
    );
    let app = api::router(state);
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(stop.clone().cancelled_owned())
        .into_future();
    let mut server = std::pin::pin!(server);

    tokio::select! {
        result = &mut server => {
            stop.cancel();
            return result.map_err(|e| Error::internal("the HTTP server failed").caused_by(e));
        }
        () = shutdown => {}
    }
    closing.cancel();
    stop.cancel();
    tasks.close();
    let drained = async {
        let _ = (&mut server).await;
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
    let _ = feeding.await;
    tracing::info!("aima daemon stopped");
    Ok(())
}
