//! What every handler shares: the lifecycle's dependencies, the daemon's task bookkeeping, its
//! metrics and the change-log feed.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::lifecycle::Deps;
use crate::lifecycle::watch::EventWatch;
use crate::metrics::Metrics;
use crate::store::StorePool;

/// Sign-in forms read at once unless the daemon sets its own share of the connection cap.
const DEFAULT_SIGN_INS: usize = 16;

#[derive(Clone)]
pub struct ApiState {
    pub(crate) deps: Deps,
    /// Connections to the state store, kept open between requests.
    pub(crate) stores: StorePool,
    /// The bearer token every route but health requires; `None` leaves the API open.
    pub(crate) token: Option<String>,
    /// Starts run as tracked tasks, so a client hanging up does not abandon one half-way
    /// and shutdown can wait for them.
    pub(crate) tasks: TaskTracker,
    /// Cancelled when shutdown gives up waiting: starts still running are interrupted.
    pub(crate) abort: CancellationToken,
    /// Cancelled when shutdown begins: bodies still being sent are refused with 503, and
    /// event streams end so their connections can close.
    pub(crate) closing: CancellationToken,
    /// How long a request may take to send its body before it is answered 408.
    pub(crate) body_timeout: Duration,
    /// Slots for reading bodies from callers without credentials (the sign-in form over TCP),
    /// so they can hold no more than `sign_ins_total` connections at once.
    pub(crate) sign_ins: Arc<Semaphore>,
    pub(crate) sign_ins_total: usize,
    /// The status page's sessions, in this process's memory only.
    pub(crate) sessions: Arc<super::page::Sessions>,
    pub(crate) metrics: Arc<Metrics>,
    /// The newest change-log `seq` the feed has read; event streams wait on it.
    pub(crate) newest: Arc<watch::Sender<i64>>,
    /// Whether Docker's event stream keeps running services' records true, so reads may serve
    /// them from the store; never, unless the daemon follows the stream.
    pub(crate) events: Arc<EventWatch>,
    /// Callers' identities looked up lately (see [`super::identity`]).
    pub(crate) identities: Arc<super::identity::Identities>,
    /// The steps of the starts running now, for the event streams that ask for them.
    pub(crate) steps: super::start_steps::StartSteps,
}

impl ApiState {
    /// The lifecycle acting for the request's actor (set by the auth middleware), whose quota
    /// a start of their own service is held to.
    pub(crate) fn deps_for(&self, actor: &crate::domain::Actor) -> Deps {
        self.deps.clone().acting_for(actor.clone())
    }

    /// Runs `f` on a store of the pool, on the blocking pool: a slow disk, a big list or a
    /// write waiting for the lock never holds up an async worker, so other requests go on.
    pub(crate) async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut crate::store::Store) -> crate::error::Result<T> + Send + 'static,
    ) -> crate::error::Result<T> {
        self.stores.call(f).await
    }

    pub fn new(deps: Deps, token: Option<String>) -> Self {
        ApiState {
            stores: StorePool::new(&deps.config),
            deps,
            token: token.filter(|t| !t.is_empty()),
            tasks: TaskTracker::new(),
            abort: CancellationToken::new(),
            closing: CancellationToken::new(),
            body_timeout: Duration::from_secs(10),
            sign_ins: Arc::new(Semaphore::new(DEFAULT_SIGN_INS)),
            sign_ins_total: DEFAULT_SIGN_INS,
            sessions: Arc::default(),
            metrics: Arc::new(Metrics::default()),
            newest: Arc::new(watch::Sender::new(0)),
            events: Arc::default(),
            identities: Arc::default(),
            steps: Default::default(),
        }
    }

    /// Allows `total` sign-in forms to be read at once.
    pub(crate) fn limit_sign_ins(&mut self, total: usize) {
        self.sign_ins = Arc::new(Semaphore::new(total));
        self.sign_ins_total = total;
    }

    /// Tails the change log until `stop`, feeding the metrics and the event streams.
    pub(crate) fn feed(
        &self,
        stop: CancellationToken,
    ) -> impl Future<Output = ()> + Send + 'static {
        super::feed::run(
            self.stores.clone(),
            self.metrics.clone(),
            self.newest.clone(),
            stop,
        )
    }
}
