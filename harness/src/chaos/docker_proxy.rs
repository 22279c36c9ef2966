//! A unix-socket proxy the harness owns in front of the real Docker socket: the daemon and CLI
//! of a chaos run reach Docker through it (`DOCKER_HOST`), and the `docker-pause`,
//! `docker-slow` and `docker-cut` faults make it hold every byte, delay every chunk, or close
//! every connection (and refuse new ones) for a few seconds. The harness's own Docker calls go
//! to the real socket.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;

/// What the proxy does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProxyMode {
    /// Forwards everything at once.
    Pass = 0,
    /// Accepts and reads, but forwards nothing until it passes again.
    Pause = 1,
    /// Forwards each chunk after [`SLOW_CHUNK`].
    Slow = 2,
    /// Closes every open connection and every new one at once.
    Cut = 3,
}

/// The delay of each forwarded chunk while slow.
pub(crate) const SLOW_CHUNK: Duration = Duration::from_millis(400);
/// How often a pump looks at the mode while it waits.
const TICK: Duration = Duration::from_millis(100);

struct Shared {
    mode: AtomicU8,
    /// Bumped at each cut: connections of an older epoch close.
    epoch: AtomicU64,
    stop: AtomicBool,
    upstream: PathBuf,
    /// When traffic last passed again after a fault.
    healed: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Shared {
    fn mode(&self) -> ProxyMode {
        match self.mode.load(Ordering::SeqCst) {
            1 => ProxyMode::Pause,
            2 => ProxyMode::Slow,
            3 => ProxyMode::Cut,
            _ => ProxyMode::Pass,
        }
    }
}

/// The running proxy; dropping it stops accepting.
pub(crate) struct DockerProxy {
    pub path: PathBuf,
    shared: Arc<Shared>,
}

/// The real Docker socket: the one a `unix://` `DOCKER_HOST` names, else the default. `None`
/// when Docker is reached another way (tcp, ssh): the proxy faults are not injected then.
pub(crate) fn upstream_socket() -> Option<PathBuf> {
    match std::env::var("DOCKER_HOST") {
        Ok(host) if !host.is_empty() => host.strip_prefix("unix://").map(PathBuf::from),
        _ => Some(PathBuf::from("/var/run/docker.sock")),
    }
}

impl DockerProxy {
    /// Listens on `path` and forwards to `upstream`.
    pub(crate) fn start(path: &Path, upstream: &Path) -> anyhow::Result<Self> {
        let listener = UnixListener::bind(path)
            .with_context(|| format!("binding the Docker proxy at {}", path.display()))?;
        let shared = Arc::new(Shared {
            mode: AtomicU8::new(ProxyMode::Pass as u8),
            epoch: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            upstream: upstream.to_owned(),
            healed: std::sync::Mutex::new(None),
        });
        let accepting = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("docker-proxy".into())
            .spawn(move || accept_loop(&listener, &accepting))
            .context("starting the Docker proxy's thread")?;
        Ok(Self {
            path: path.to_owned(),
            shared,
        })
    }

    /// `DOCKER_HOST` for the run's aima processes.
    pub(crate) fn docker_host(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    pub(crate) fn set(&self, mode: ProxyMode) {
        if mode == ProxyMode::Cut {
            self.shared.epoch.fetch_add(1, Ordering::SeqCst);
        }
        let was = self.shared.mode.swap(mode as u8, Ordering::SeqCst);
        if mode == ProxyMode::Pass && was != ProxyMode::Pass as u8 {
            *self.shared.healed.lock().unwrap_or_else(|p| p.into_inner()) =
                Some(std::time::Instant::now());
        }
    }

    /// Whether Docker is away now or was within `window`.
    pub(crate) fn away_within(&self, window: Duration) -> bool {
        self.away()
            || self
                .shared
                .healed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_some_and(|t| t.elapsed() < window)
    }

    /// Whether Docker reads as away through the proxy now (anything but `Pass`).
    pub(crate) fn away(&self) -> bool {
        self.shared.mode() != ProxyMode::Pass
    }
}

impl Drop for DockerProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared
            .mode
            .store(ProxyMode::Pass as u8, Ordering::SeqCst);
        // Wakes the accept loop so it sees the stop.
        let _ = UnixStream::connect(&self.path);
        let _ = std::fs::remove_file(&self.path);
    }
}

fn accept_loop(listener: &UnixListener, shared: &Arc<Shared>) {
    for client in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        if shared.mode() == ProxyMode::Cut {
            drop(client);
            continue;
        }
        let shared = Arc::clone(shared);
        let _ = std::thread::Builder::new()
            .name("docker-proxy-conn".into())
            .spawn(move || connection(client, &shared));
    }
}

fn connection(client: UnixStream, shared: &Arc<Shared>) {
    let Ok(upstream) = UnixStream::connect(&shared.upstream) else {
        return;
    };
    let epoch = shared.epoch.load(Ordering::SeqCst);
    let (Ok(client2), Ok(upstream2)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let back = {
        let shared = Arc::clone(shared);
        std::thread::spawn(move || pump(upstream2, client2, &shared, epoch))
    };
    pump(client, upstream, shared, epoch);
    let _ = back.join();
}

/// Copies `from` to `to` as the mode allows until either side closes or a cut comes.
fn pump(mut from: UnixStream, mut to: UnixStream, shared: &Shared, epoch: u64) {
    let _ = from.set_read_timeout(Some(TICK));
    let mut buf = vec![0u8; 64 * 1024];
    let cut = |shared: &Shared| {
        shared.stop.load(Ordering::SeqCst) || shared.epoch.load(Ordering::SeqCst) != epoch
    };
    loop {
        if cut(shared) {
            break;
        }
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        // Hold the chunk while paused; delay it while slow.
        while shared.mode() == ProxyMode::Pause && !cut(shared) {
            std::thread::sleep(TICK);
        }
        if cut(shared) {
            break;
        }
        if shared.mode() == ProxyMode::Slow {
            std::thread::sleep(SLOW_CHUNK);
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(std::net::Shutdown::Both);
    let _ = to.shutdown(std::net::Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server on a unix socket, standing in for Docker.
    fn echo(path: &Path) {
        let listener = UnixListener::bind(path).unwrap();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut conn = conn;
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = conn.read(&mut buf) {
                        if n == 0 || conn.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
    }

    fn round_trip(path: &Path, wait: Duration) -> Result<Duration, String> {
        let began = std::time::Instant::now();
        let mut s = UnixStream::connect(path).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(wait)).unwrap();
        s.write_all(b"ping").map_err(|e| e.to_string())?;
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).map_err(|e| e.to_string())?;
        assert_eq!(&buf, b"ping");
        Ok(began.elapsed())
    }

    #[test]
    fn the_proxy_passes_pauses_slows_and_cuts() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.sock");
        echo(&real);
        let proxy = DockerProxy::start(&dir.path().join("proxy.sock"), &real).unwrap();
        let wait = Duration::from_secs(3);
        assert!(round_trip(&proxy.path, wait).is_ok());
        proxy.set(ProxyMode::Slow);
        let slow = round_trip(&proxy.path, wait).unwrap();
        assert!(slow >= SLOW_CHUNK * 2, "{slow:?}");
        proxy.set(ProxyMode::Pause);
        assert!(round_trip(&proxy.path, Duration::from_millis(500)).is_err());
        assert!(proxy.away());
        // A connection held by a pause goes on once it passes again.
        let mut held = UnixStream::connect(&proxy.path).unwrap();
        held.write_all(b"ping").unwrap();
        proxy.set(ProxyMode::Pass);
        held.set_read_timeout(Some(wait)).unwrap();
        let mut buf = [0u8; 4];
        held.read_exact(&mut buf).unwrap();
        // A cut closes what is open and refuses what comes.
        proxy.set(ProxyMode::Cut);
        std::thread::sleep(TICK * 3);
        assert!(matches!(held.read(&mut buf), Ok(0) | Err(_)));
        assert!(round_trip(&proxy.path, wait).is_err());
        proxy.set(ProxyMode::Pass);
        assert!(round_trip(&proxy.path, wait).is_ok());
    }
}
