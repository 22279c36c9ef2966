//! The HTTP server under limits, so slow, idle or numerous clients cannot hold the daemon:
//!
//! - a request's head must arrive within the header timeout, and a keep-alive connection may
//!   sit idle between requests no longer than that (hyper's header-read timer runs from the
//!   moment the connection waits for a head);
//! - a head may be at most [`MAX_HEADER_BYTES`], and a connection buffers at most
//!   [`MAX_BUFFER_BYTES`]; more is answered 431;
//! - at most `max_connections` are open at once on each listener, so a flood of TCP connections
//!   leaves the unix socket usable: one more is answered 503 and closed within a second;
//! - when shutdown begins, accepting stops, and every connection that is not answering a request
//!   is closed within [`CLOSE_GRACE`]; requests being answered are left to finish.
//!
//! Bodies are bounded by the body timeout, the size limit and shutdown in the API's extractors
//! (`api::body`), which also keep sign-in bodies to their own share of the cap.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use super::Settings;
use crate::api::{PeerCred, Transport};

/// The largest request head (request line and headers) accepted.
pub(crate) const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The most a connection buffers while reading; hyper's floor is 8 KiB.
pub(crate) const MAX_BUFFER_BYTES: usize = 32 * 1024;
/// After shutdown begins, how long a connection answering nothing may take to close by itself.
pub(crate) const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// How long answering a connection over the cap may take.
const REFUSE_WITHIN: Duration = Duration::from_secs(1);
/// Connections over the cap answered at once.
const REFUSING_AT_ONCE: usize = 32;
/// How long to pause accepting after an error such as "too many open files".
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A listener the daemon serves.
pub(crate) enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Listener {
    async fn accept(&self) -> std::io::Result<Stream> {
        match self {
            Listener::Tcp(l) => l.accept().await.map(|(s, _)| Stream::Tcp(s)),
            Listener::Unix(l) => l.accept().await.map(|(s, _)| Stream::Unix(s)),
        }
    }
}

/// Accept loops and connections; [`Server::closing`] ends them.
#[derive(Clone)]
pub(crate) struct Server {
    app: Router,
    header_timeout: Duration,
    /// Connection slots of the TCP listener and of the unix socket.
    tcp_permits: Arc<Semaphore>,
    unix_permits: Arc<Semaphore>,
    max_connections: usize,
    /// Connections refused for the cap so far; the log names the 1st, 2nd, 4th, 8th, ...
    refused: Arc<AtomicUsize>,
    /// Slots for answering refused connections.
    refusing: Arc<Semaphore>,
    closing: CancellationToken,
    connections: TaskTracker,
}

impl Server {
    pub(crate) fn new(app: Router, settings: &Settings, closing: CancellationToken) -> Self {
        Server {
            app,
            header_timeout: settings.header_timeout,
            tcp_permits: Arc::new(Semaphore::new(settings.max_connections)),
            unix_permits: Arc::new(Semaphore::new(settings.max_connections)),
            max_connections: settings.max_connections,
            refused: Arc::new(AtomicUsize::new(0)),
            refusing: Arc::new(Semaphore::new(REFUSING_AT_ONCE)),
            closing,
            connections: TaskTracker::new(),
        }
    }

    /// Accepts on `listener` until shutdown begins; the listener is closed when this returns.
    pub(crate) async fn accept_loop(self, listener: Listener) {
        loop {
            let accepted = tokio::select! {
                () = self.closing.cancelled() => return,
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok(stream) => self.admit(stream),
                Err(e) => {
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            }
        }
    }

    /// Resolves when every connection has closed; call once accepting has stopped.
    pub(crate) async fn connections_closed(&self) {
        self.connections.close();
        self.connections.wait().await;
    }

    fn admit(&self, stream: Stream) {
        let permits = match stream {
            Stream::Tcp(_) => &self.tcp_permits,
            Stream::Unix(_) => &self.unix_permits,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            let refused = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
            if refused.is_power_of_two() {
                tracing::warn!(
                    "refused {refused} connection(s) so far: {} are open already (AIMA_API_MAX_CONNECTIONS)",
                    self.max_connections
                );
            }
            if let Ok(slot) = self.refusing.clone().try_acquire_owned() {
                let max = self.max_connections;
                match stream {
                    Stream::Tcp(s) => drop(tokio::spawn(refuse(s, max, slot))),
                    Stream::Unix(s) => drop(tokio::spawn(refuse(s, max, slot))),
                }
            }
            return;
        };
        match stream {
            Stream::Tcp(s) => self.spawn(s, Transport::Tcp, None, permit),
            Stream::Unix(s) => {
                // Who is at the other end, as the kernel recorded it at connect: the requests
                // act as that user. A peer it cannot tell is refused (closed).
                let peer = match s.peer_cred() {
                    Ok(cred) => PeerCred {
                        uid: cred.uid(),
                        gid: cred.gid(),
                    },
                    Err(e) => {
                        tracing::warn!(
                            "closing a unix-socket connection whose peer is unknown: {e}"
                        );
                        return;
                    }
                };
                self.spawn(s, Transport::Unix, Some(peer), permit)
            }
        }
    }

    fn spawn<IO>(
        &self,
        io: IO,
        transport: Transport,
        peer: Option<PeerCred>,
        permit: OwnedSemaphorePermit,
    ) where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let this = self.clone();
        self.connections.spawn(async move {
            this.serve(io, transport, peer).await;
            drop(permit);
        });
    }

    async fn serve<IO>(self, io: IO, transport: Transport, peer: Option<PeerCred>)
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let answering = Arc::new(AtomicUsize::new(0));
        let counter = answering.clone();
        let app = self.app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(transport);
            if let Some(peer) = peer {
                req.extensions_mut().insert(peer);
            }
            let answer = Answering::enter(&counter);
            let call = app.clone().oneshot(req);
            async move {
                let response = call.await;
                drop(answer);
                response
            }
        });
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(self.header_timeout)
            .max_header_size(MAX_HEADER_BYTES)
            .max_buf_size(MAX_BUFFER_BYTES);
        let conn = http.serve_connection(TokioIo::new(io), service);
        let mut conn = std::pin::pin!(conn);
        tokio::select! {
            result = conn.as_mut() => return log_end(result),
            () = self.closing.cancelled() => {}
        }
        conn.as_mut().graceful_shutdown();
        let grace = tokio::time::sleep(CLOSE_GRACE);
        tokio::select! {
            result = conn.as_mut() => return log_end(result),
            () = grace => {}
        }
        // Still open: close it unless a request is being answered, which is left to finish.
        loop {
            if answering.load(Ordering::SeqCst) == 0 {
                tracing::debug!("closing a connection that answers nothing at shutdown");
                return;
            }
            tokio::select! {
                result = conn.as_mut() => return log_end(result),
                () = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    }
}

/// Counts a request of the connection as being answered while alive.
struct Answering(Arc<AtomicUsize>);

impl Answering {
    fn enter(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Answering(counter.clone())
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn log_end(result: hyper::Result<()>) {
    if let Err(e) = result {
        tracing::debug!("connection closed: {e}");
    }
}

/// Answers 503 and closes: the answer is written, the request read and discarded (closing with
/// it unread would reset the connection and lose the answer), all within [`REFUSE_WITHIN`].
/// At most [`REFUSING_AT_ONCE`] refusals run at a time; beyond that a connection is just closed.
async fn refuse<IO>(mut io: IO, max: usize, _slot: OwnedSemaphorePermit)
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let body = serde_json::json!({ "error": {
        "code": "unavailable",
        "message": format!("the daemon has {max} connections open already"),
        "help": "close idle connections, retry later, or raise AIMA_API_MAX_CONNECTIONS",
    }})
    .to_string();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let exchange = async {
        io.write_all(response.as_bytes()).await?;
        io.shutdown().await?;
        let mut sink = [0u8; 4096];
        while io.read(&mut sink).await? > 0 {}
        std::io::Result::Ok(())
    };
    let _ = tokio::time::timeout(REFUSE_WITHIN, exchange).await;
}
