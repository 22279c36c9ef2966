//! A client of the daemon's server-sent events: it connects, checks the answer's head, then
//! reads events on a thread of its own and hands over each `data:` object as JSON.

use std::io::{BufRead, BufReader};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use super::http::raw;

pub struct EventStream {
    events: mpsc::Receiver<Value>,
    stream: TcpStream,
}

impl EventStream {
    /// `GET path` with the token; panics unless the daemon answers 200 with an event stream.
    pub fn open(port: u16, path: &str, token: Option<&str>) -> Self {
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        // Not a `Request`: the answer is read as it streams, never to EOF.
        let stream = raw(
            port,
            &format!(
                "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n{auth}\r\n"
            ),
        );
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("read the answer's head");
            if line.trim().is_empty() {
                break;
            }
            head.push_str(&line);
        }
        assert!(head.starts_with("HTTP/1.1 200"), "no event stream:\n{head}");
        assert!(
            head.contains("text/event-stream"),
            "not an event stream:\n{head}"
        );
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            // Chunk-size lines of the chunked encoding are skipped like any other non-field line.
            for line in reader.lines() {
                let Ok(line) = line else { break };
                if let Some(data) = line.trim_end().strip_prefix("data: ")
                    && let Ok(json) = serde_json::from_str(data)
                    && tx.send(json).is_err()
                {
                    break;
                }
            }
        });
        EventStream { events, stream }
    }

    /// The next event within `limit`, or `None`.
    pub fn next(&self, limit: Duration) -> Option<Value> {
        self.events.recv_timeout(limit).ok()
    }

    /// Whether the daemon closes the stream within `limit` (events still queued are skipped).
    pub fn ended_within(&self, limit: Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.events.recv_timeout(left) {
                Ok(_) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => return true,
                Err(mpsc::RecvTimeoutError::Timeout) => return false,
            }
        }
    }

    /// The next event of `service`, skipping others; panics after `limit`.
    pub fn next_of(&self, service: &str, limit: Duration) -> Value {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let event = self
                .next(left)
                .unwrap_or_else(|| panic!("no event of {service} within {limit:?}"));
            if event["service_id"] == service {
                return event;
            }
        }
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}
