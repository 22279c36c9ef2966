//! What every handler shares: the lifecycle's dependencies and the daemon's task bookkeeping.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::lifecycle::Deps;

#[derive(Clone)]
pub struct ApiState {
    pub(crate) deps: Deps,
    /// The bearer token every route but health requires; `None` leaves the API open.
    pub(crate) token: Option<String>,
    /// Starts run as tracked tasks, so a client hanging up does not abandon one half-way
    /// and shutdown can wait for them.
    pub(crate) tasks: TaskTracker,
    /// Cancelled when shutdown gives up waiting: starts still running are interrupted.
    pub(crate) abort: CancellationToken,
    /// Cancelled when shutdown begins: bodies still being sent are refused with 503.
    pub(crate) closing: CancellationToken,
    /// How long a request may take to send its body before it is answered 408.
    pub(crate) body_timeout: Duration,
}

impl ApiState {
    pub fn new(deps: Deps, token: Option<String>) -> Self {
        ApiState {
            deps,
            token: token.filter(|t| !t.is_empty()),
            tasks: TaskTracker::new(),
            abort: CancellationToken::new(),
            closing: CancellationToken::new(),
            body_timeout: Duration::from_secs(10),
        }
    }
}
