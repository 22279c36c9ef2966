//! A minimal HTTP/1.1 client for the daemon's API and the engines' endpoints.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One exchange with `Connection: close`, so the answer is read to EOF instead of parsing lengths;
/// returns the status and the body. `secs` bounds the wait for the answer.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
    token: Option<&str>,
    secs: u64,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(secs)))?;
    exchange(&mut stream, method, path, body, token)
}

/// Writes one request with `Connection: close` and reads the answer to EOF.
pub fn exchange(
    stream: &mut (impl Read + Write),
    method: &str,
    path: &str,
    body: Option<&str>,
    token: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let body = body.unwrap_or("");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    // Docker's port proxy accepts before the engine listens, then closes: no status line.
    let malformed = || std::io::Error::new(std::io::ErrorKind::InvalidData, "no HTTP response");
    let (head, body) = response.split_once("\r\n\r\n").ok_or_else(malformed)?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(malformed)?;
    Ok((status, body.to_owned()))
}
