//! SIGTERM and Ctrl-C: the first asks for a graceful shutdown, a second one exits at once.

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
