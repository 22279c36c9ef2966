//! The API over the daemon's unix socket.

use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use super::http::exchange;

/// The same exchange over a unix socket (`Host: localhost`, as curl --unix-socket sends).
pub fn http_unix(
    socket: &Path,
    method: &str,
    path: &str,
    body: Option<&str>,
    secs: u64,
) -> std::io::Result<(u16, String)> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(secs)))?;
    exchange(&mut stream, method, path, body, None)
}
