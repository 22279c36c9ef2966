//! Docker's own HTTP API over its unix socket, as the baseline for aima's API figures: one
//! `GET` per connection, the way aima's own API is measured.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The socket the harness's Docker listens on (`DOCKER_HOST=unix://…`, else the default).
pub(crate) fn socket() -> PathBuf {
    std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|host| host.strip_prefix("unix://").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/var/run/docker.sock"))
}

/// `GET path` on Docker's socket; returns the status and the time the whole answer took (ms).
pub(crate) fn get(socket: &std::path::Path, path: &str) -> std::io::Result<(u16, f64)> {
    let started = Instant::now();
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: docker\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let head = String::from_utf8_lossy(&answer[..answer.len().min(16)]);
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((status, started.elapsed().as_secs_f64() * 1000.0))
}
