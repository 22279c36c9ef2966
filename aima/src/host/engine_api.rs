//! Talking to an engine's own HTTP API on its published port: one POST of a JSON body, its
//! answer read whole or frame by frame (server-sent events, NDJSON progress).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::error::{Classified, Kind};

/// Why an engine's API could not be asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("nothing answers at {addr}: {reason}")]
    Unreachable { addr: SocketAddr, reason: String },
    #[error("the engine at {addr} did not answer within {secs}s")]
    Timeout { addr: SocketAddr, secs: u64 },
    #[error("the connection to the engine at {addr} broke: {reason}")]
    Broken { addr: SocketAddr, reason: String },
}

impl Classified for ApiError {
    fn kind(&self) -> Kind {
        Kind::Engine
    }

    fn help(&self) -> Option<String> {
        Some(match self {
            ApiError::Unreachable { .. } | ApiError::Broken { .. } => {
                "the engine is not answering: check `aima service get ID` and the container's logs".to_owned()
            }
            ApiError::Timeout { .. } => {
                "the engine is busy or the request is large: try again, or ask for fewer tokens (--max-tokens)".to_owned()
            }
        })
    }
}

/// POSTs `body` as JSON to `http://{addr}{path}`, with `bearer` as the API key when given, and
/// hands each piece of the answer's body to `on_data` as it arrives. Returns the HTTP status.
pub async fn post_json(
    addr: SocketAddr,
    path: &str,
    body: &serde_json::Value,
    bearer: Option<&str>,
    timeout: Duration,
    mut on_data: impl FnMut(&[u8]) + Send,
) -> Result<u16, ApiError> {
    let exchange = async {
        let broken = |e: &dyn std::fmt::Display| ApiError::Broken {
            addr,
            reason: e.to_string(),
        };
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| ApiError::Unreachable {
                addr,
                reason: e.to_string(),
            })?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| broken(&e))?;
        let driver = tokio::spawn(conn);
        let mut request = Request::post(path)
            .header("host", addr.to_string())
            .header("content-type", "application/json");
        if let Some(key) = bearer {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| broken(&e))?;
        let response = sender.send_request(request).await.map_err(|e| broken(&e))?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| broken(&e))?;
            if let Some(data) = frame.data_ref() {
                on_data(data);
            }
        }
        driver.abort();
        Ok(status)
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::Timeout {
            addr,
            secs: timeout.as_secs(),
        }),
    }
}

/// Splits a byte stream into lines as they complete; the rest waits for more bytes.
#[derive(Debug, Default)]
pub struct Lines {
    pending: Vec<u8>,
}

impl Lines {
    pub fn push(&mut self, data: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(data);
        let mut out = Vec::new();
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line).trim_end().to_owned();
            if !text.is_empty() {
                out.push(text);
            }
        }
        out
    }

    /// What is left after the stream ended (a last line without its newline).
    pub fn finish(self) -> Option<String> {
        let text = String::from_utf8_lossy(&self.pending).trim().to_owned();
        (!text.is_empty()).then_some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_across_pieces() {
        let mut lines = Lines::default();
        assert!(lines.push(b"data: {\"a\"").is_empty());
        assert_eq!(
            lines.push(b":1}\n\ndata: [DONE]\n"),
            ["data: {\"a\":1}", "data: [DONE]"]
        );
        assert!(lines.push(b"tail").is_empty());
        assert_eq!(lines.finish().as_deref(), Some("tail"));
    }

    #[tokio::test]
    async fn nothing_listening_is_unreachable() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let got = post_json(
            addr,
            "/x",
            &serde_json::json!({}),
            None,
            Duration::from_secs(2),
            |_| {},
        )
        .await;
        assert!(matches!(got, Err(ApiError::Unreachable { .. })), "{got:?}");
    }
}
