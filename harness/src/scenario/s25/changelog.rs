//! The daemon's change log as scenario 25 reads it: `GET /api/v2/events` with
//! `Last-Event-ID: 0` replays every status change of the data dir (then stays open; the reader
//! stops after a short quiet spell). Each change has its time, so a judge can measure how long
//! a service waited in `backoff`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;

/// One status change of one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub service: String,
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub from: Option<String>,
    pub to: String,
    pub last_error: Option<String>,
}

impl Change {
    pub fn line(&self) -> String {
        format!(
            "{} {} -> {}{}",
            humantime::format_rfc3339_millis(
                std::time::UNIX_EPOCH + Duration::from_millis(self.at_ms.max(0) as u64)
            ),
            self.from.as_deref().unwrap_or("(new)"),
            self.to,
            self.last_error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        )
    }
}

/// Reads the replayed change log for up to `bound`; `Err` when the daemon did not answer.
pub fn read(listen: SocketAddr, token: &str, bound: Duration) -> Result<Vec<Change>, String> {
    let mut stream = TcpStream::connect_timeout(&listen, Duration::from_secs(5))
        .map_err(|e| format!("connecting to {listen}: {e}"))?;
    let request = format!(
        "GET /api/v2/events HTTP/1.1\r\nHost: {listen}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\nLast-Event-ID: 0\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("sending the request: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while started.elapsed() < bound {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            // A quiet spell after the replay: the backlog has been read.
            Err(_) if !raw.is_empty() => break,
            Err(_) => {}
        }
    }
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no HTTP answer within {}s", bound.as_secs()))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!(
            "answered {}",
            head.lines().next().unwrap_or_default()
        ));
    }
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk_partial(&raw[split + 4..])
    } else {
        raw[split + 4..].to_vec()
    };
    Ok(parse_events(&String::from_utf8_lossy(&body)))
}

/// The complete chunks of a chunked body that may have been cut off mid-chunk.
fn dechunk_partial(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&data[..line_end])
            .ok()
            .and_then(|t| usize::from_str_radix(t.split(';').next()?.trim(), 16).ok());
        let Some(size) = size.filter(|s| *s > 0) else {
            break;
        };
        data = &data[line_end + 2..];
        let Some(chunk) = data.get(..size) else {
            break;
        };
        out.extend_from_slice(chunk);
        data = data.get(size + 2..).unwrap_or_default();
    }
    out
}

/// The changes in an SSE text: every `data:` line that holds a service event.
fn parse_events(text: &str) -> Vec<Change> {
    text.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
        .filter_map(|event| {
            let at = humantime::parse_rfc3339_weak(event["at"].as_str()?).ok()?;
            let at_ms = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64;
            Some(Change {
                service: event["service_id"].as_str()?.to_owned(),
                at_ms,
                from: event["from"].as_str().map(str::to_owned),
                to: event["to"].as_str()?.to_owned(),
                last_error: event["last_error"].as_str().map(str::to_owned),
            })
        })
        .collect()
}

/// How long `service` waited in `backoff` each time, in ms, oldest first (a wait still open at
/// the end of the log is left out).
pub fn backoff_waits(changes: &[Change], service: &str) -> Vec<i64> {
    let mut waits = Vec::new();
    let mut entered = None;
    for change in changes.iter().filter(|c| c.service == service) {
        if change.to == "backoff" {
            entered = Some(change.at_ms);
        } else if let Some(since) = entered.take() {
            waits.push(change.at_ms - since);
        }
    }
    waits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_events_from_cut_chunks_and_measures_waits() {
        let event = |at: &str, from: &str, to: &str| {
            format!(
                "event: service\nid: 1\ndata: {{\"service_id\":\"svc-1\",\"at\":\"{at}\",\"from\":\"{from}\",\"to\":\"{to}\"}}\n\n"
            )
        };
        let events = [
            event("2025-01-01T00:00:00.000Z", "failed", "backoff"),
            event("2025-01-01T00:00:01.000Z", "backoff", "starting"),
            event("2025-01-01T00:00:03.000Z", "failed", "backoff"),
            event("2025-01-01T00:00:05.500Z", "backoff", "starting"),
            event("2025-01-01T00:00:07.000Z", "failed", "backoff"),
        ];
        let mut body = Vec::new();
        for e in &events {
            body.extend_from_slice(format!("{:x}\r\n{e}\r\n", e.len()).as_bytes());
        }
        body.extend_from_slice(b"40\r\nevent: service\ndata: {\"cut");
        let changes = parse_events(&String::from_utf8_lossy(&dechunk_partial(&body)));
        assert_eq!(changes.len(), 5);
        assert_eq!(changes[1].from.as_deref(), Some("backoff"));
        assert_eq!(backoff_waits(&changes, "svc-1"), [1000, 2500]);
        assert!(changes[0].line().contains("failed -> backoff"));
        assert!(backoff_waits(&changes, "svc-2").is_empty());
    }
}
