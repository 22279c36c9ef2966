//! SIGTERM and Ctrl-C: the first asks for a graceful shutdown, a second one exits at once.
//! SIGHUP (a closed terminal, a `kill -HUP` meant to reload) is logged and ignored: by default it
//! would end the daemon with no log line and leave `aima.sock` behind.

use tokio::signal::unix::{SignalKind, signal};

use crate::error::Kind;

/// Resolves on the first SIGTERM or SIGINT, and leaves a watcher behind that ends the process
/// on the next one, whatever shutdown is still waiting for.
pub async fn first_then_force_exit() {
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("cannot watch SIGTERM/SIGINT; stop the daemon with SIGKILL");
        return std::future::pending().await;
    };
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!("{name}: shutting down (send it again to exit at once)");
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::warn!("second {name}: exiting at once");
        std::process::exit(i32::from(Kind::Interrupted.exit_code()));
    });
}

/// From now on, SIGHUP is logged and ignored. Nothing the daemon holds can change live (its
/// settings are read at start), so the log line says to restart it to apply changes.
pub(crate) fn log_and_ignore_hangups() {
    let Ok(mut hangup) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot watch SIGHUP: a hangup will end the daemon without a log line");
        return;
    };
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            tracing::warn!(
                "SIGHUP: ignored (aima re-reads nothing live; restart the daemon to apply config changes)"
            );
        }
    });
}
