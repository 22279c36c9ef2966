//! The one HTTP/1.1 client of the integration tests, for the daemon's API and page and the
//! engines' endpoints: [`Request`] sends one request with `Connection: close` and reads the
//! [`Answer`] to EOF instead of parsing lengths; [`http`] is its short form for the API.
//!
//! Tests of how the daemon treats broken clients (a head cut short, a body that never ends, a
//! connection that says nothing) open a [`raw`] connection instead and read with
//! [`read_answer`].

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// One request: method, path, `Host`, headers in the order given, and a body (its
/// `Content-Length` is always sent, `0` for none).
#[derive(Debug, Clone)]
pub struct Request {
    method: String,
    path: String,
    host: String,
    headers: Vec<(String, String)>,
    body: String,
    timeout: Duration,
}

/// What the server answered: the status, the head (status line and headers) and the body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

impl Request {
    /// `method path` with `Host: localhost`, no other header, no body, and 10 s to connect and
    /// then to answer.
    pub fn new(method: &str, path: &str) -> Self {
        Request {
            method: method.to_owned(),
            path: path.to_owned(),
            host: "localhost".to_owned(),
            headers: Vec::new(),
            body: String::new(),
            timeout: Duration::from_secs(10),
        }
    }

    pub fn get(path: &str) -> Self {
        Self::new("GET", path)
    }

    /// The `Host` header's value.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn headers(self, headers: &[(&str, &str)]) -> Self {
        headers
            .iter()
            .fold(self, |request, (name, value)| request.header(name, value))
    }

    /// `Authorization: Bearer <token>` when there is a token.
    pub fn bearer(self, token: Option<&str>) -> Self {
        match token {
            Some(token) => self.header("Authorization", &format!("Bearer {token}")),
            None => self,
        }
    }

    pub fn body(mut self, body: &str) -> Self {
        self.body = body.to_owned();
        self
    }

    /// How long connecting, and then waiting for the answer, may each take.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends the request to `addr` (the first of its addresses that accepts).
    pub fn send(&self, addr: impl ToSocketAddrs) -> std::io::Result<Answer> {
        let mut last = None;
        for addr in addr.to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, self.timeout) {
                Ok(mut stream) => {
                    stream.set_read_timeout(Some(self.timeout))?;
                    return self.send_on(&mut stream);
                }
                Err(err) => last = Some(err),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no address to connect to")))
    }

    /// Sends the request on a connected stream (TCP or a unix socket) and reads the answer.
    pub fn send_on(&self, stream: &mut (impl Read + Write)) -> std::io::Result<Answer> {
        let mut wire = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.method, self.path, self.host
        );
        for (name, value) in &self.headers {
            wire.push_str(&format!("{name}: {value}\r\n"));
        }
        wire.push_str(&format!(
            "Content-Length: {}\r\n\r\n{}",
            self.body.len(),
            self.body
        ));
        stream.write_all(wire.as_bytes())?;
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
        Ok(Answer {
            status,
            head: head.to_owned(),
            body: body.to_owned(),
        })
    }
}

/// An API request: `body` as JSON (`Content-Type: application/json` is sent either way) and the
/// bearer `token` if given.
fn api(method: &str, path: &str, body: Option<&str>, token: Option<&str>, secs: u64) -> Request {
    Request::new(method, path)
        .bearer(token)
        .header("Content-Type", "application/json")
        .body(body.unwrap_or(""))
        .timeout(Duration::from_secs(secs))
}

/// One API exchange with the daemon on `127.0.0.1:port`; returns the status and the body.
/// `secs` bounds the wait for the answer.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
    token: Option<&str>,
    secs: u64,
) -> std::io::Result<(u16, String)> {
    let answer = api(method, path, body, token, secs).send(("127.0.0.1", port))?;
    Ok((answer.status, answer.body))
}

/// The same exchange on a connected stream (a unix socket), whose timeouts the caller set.
pub fn exchange(
    stream: &mut (impl Read + Write),
    method: &str,
    path: &str,
    body: Option<&str>,
    token: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let answer = api(method, path, body, token, 10).send_on(stream)?;
    Ok((answer.status, answer.body))
}

/// A connection to `127.0.0.1:port` on which `bytes` (a request cut short, a head too big, a
/// body that never ends, or nothing) were already sent, for the test to read from or hold.
/// A server that hangs up while they are sent is no error here: what it answered can still be
/// read.
pub fn raw(port: u16, bytes: &str) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the daemon");
    // One write: the daemon may answer and hang up between pieces.
    let _ = stream.write_all(bytes.as_bytes());
    stream
}

/// Everything the server sends on `stream` until it closes it or `limit` passes ("" if
/// nothing).
pub fn read_answer(stream: &mut TcpStream, limit: Duration) -> String {
    let mut answer = String::new();
    if stream.set_read_timeout(Some(limit)).is_ok() {
        let _ = stream.read_to_string(&mut answer);
    }
    answer
}
