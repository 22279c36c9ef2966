//! A small HTTP/1 client for the daemon's API, over its unix socket or TCP: one connection per
//! request, a bounded connect, a bounded wait for the answer (each verb says how long it may
//! take), and the API's JSON errors turned back into the [`Error`] the in-process CLI would
//! have returned, so the exit code is the same.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};

use super::daemon_url::DaemonUrl;
use super::remote_error;
use crate::api::FAILURE_MARK;
use crate::error::{Error, Kind, Result};

/// How long the daemon has to accept a connection.
const CONNECT: Duration = Duration::from_secs(5);
/// How long a quick request (a read, a create) may take, answer body included.
pub(crate) const QUICK: Duration = Duration::from_secs(60);

/// What a request carries.
pub(crate) enum Payload {
    Nothing,
    Json(serde_json::Value),
    /// A document as it is (an apply file), with its media type.
    Text {
        media_type: &'static str,
        text: String,
    },
}

pub(crate) struct Client {
    url: DaemonUrl,
    /// Sent over TCP only: the socket knows its caller without one.
    token: Option<String>,
}

impl Client {
    pub(crate) fn new(url: DaemonUrl, token: Option<String>) -> Self {
        Client { url, token }
    }

    pub(crate) fn url(&self) -> &DaemonUrl {
        &self.url
    }

    /// Sends a request and reads its JSON answer into `T` within `wait`; an error answer
    /// becomes the daemon's error.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        wait: Duration,
    ) -> Result<T> {
        let payload = body.map_or(Payload::Nothing, Payload::Json);
        self.call_with(method, path, payload, wait).await
    }

    /// [`Self::call`] with any payload.
    pub(crate) async fn call_with<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        payload: Payload,
        wait: Duration,
    ) -> Result<T> {
        let bytes = self.answer(&method, path, payload, wait).await?;
        serde_json::from_slice(&bytes).map_err(|e| self.unreadable(&method, path, "JSON", e))
    }

    /// A `GET` whose answer is a text document (TOML), returned as it is.
    pub(crate) async fn text(&self, path: &str, wait: Duration) -> Result<String> {
        let bytes = self
            .answer(&Method::GET, path, Payload::Nothing, wait)
            .await?;
        String::from_utf8(bytes.to_vec())
            .map_err(|e| self.unreadable(&Method::GET, path, "UTF-8 text", e))
    }

    /// The whole body of a successful answer within `wait`; an error answer becomes the
    /// daemon's error.
    async fn answer(
        &self,
        method: &Method,
        path: &str,
        payload: Payload,
        wait: Duration,
    ) -> Result<Bytes> {
        let exchange = async {
            let response = self.send(method.clone(), path, payload).await?;
            let status = response.status().as_u16();
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|e| self.broken(e))?
                .to_bytes();
            if status >= 400 {
                return Err(remote_error::from_answer(status, &bytes, &self.url));
            }
            Ok(bytes)
        };
        tokio::time::timeout(wait, exchange)
            .await
            .map_err(|_| self.too_slow(method, path, wait))?
    }

    fn unreadable(
        &self,
        method: &Method,
        path: &str,
        what: &str,
        e: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error::internal(format!(
            "the daemon at {} answered {method} {path} with {what} this aima cannot read",
            self.url
        ))
        .caused_by(e)
        .with_help("the daemon may run another aima version: compare `aima --version` with GET /api/v2/info")
    }

    /// Sends a request whose answer streams (followed logs, a streamed chat): `on_chunk` gets
    /// each piece as it arrives, until the daemon ends the body. Only the answer's start is
    /// bounded by `wait`.
    pub(crate) async fn stream(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        wait: Duration,
        on_chunk: impl FnMut(&[u8]),
    ) -> Result<()> {
        let body = self.open(method, path, body, wait).await?;
        self.read(body, on_chunk).await
    }

    /// Sends a request and waits (`wait` at most) for the head of a streamed answer; an error
    /// answer becomes the daemon's error.
    pub(crate) async fn open(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        wait: Duration,
    ) -> Result<Incoming> {
        let response = tokio::time::timeout(
            wait,
            self.send(
                method.clone(),
                path,
                body.map_or(Payload::Nothing, Payload::Json),
            ),
        )
        .await
        .map_err(|_| self.too_slow(&method, path, wait))??;
        let status = response.status().as_u16();
        let body = response.into_body();
        if status >= 400 {
            let bytes = body.collect().await.map_err(|e| self.broken(e))?.to_bytes();
            return Err(remote_error::from_answer(status, &bytes, &self.url));
        }
        Ok(body)
    }

    /// Reads an opened stream to its end. A body that ends with the daemon's failure line (see
    /// the API's `streamed`) is that error, so the exit code is the failure's.
    pub(crate) async fn read(
        &self,
        mut body: Incoming,
        mut on_chunk: impl FnMut(&[u8]),
    ) -> Result<()> {
        let mut failure: Option<Vec<u8>> = None;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| self.broken(e))?;
            let Some(data) = frame.data_ref() else {
                continue;
            };
            match &mut failure {
                Some(line) => line.extend_from_slice(data),
                None => match data.iter().position(|b| *b == FAILURE_MARK as u8) {
                    Some(at) => {
                        on_chunk(&data[..at]);
                        failure = Some(data[at + 1..].to_vec());
                    }
                    None => on_chunk(data),
                },
            }
        }
        match failure {
            Some(line) => Err(remote_error::from_answer(200, &line, &self.url)),
            None => Ok(()),
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        payload: Payload,
    ) -> Result<Response<Incoming>> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, self.url.host_header());
        if let (DaemonUrl::Tcp { .. }, Some(token)) = (&self.url, &self.token) {
            request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let bytes = match payload {
            Payload::Nothing => Bytes::new(),
            Payload::Json(json) => {
                request = request.header(hyper::header::CONTENT_TYPE, "application/json");
                Bytes::from(json.to_string())
            }
            Payload::Text { media_type, text } => {
                request = request.header(hyper::header::CONTENT_TYPE, media_type);
                Bytes::from(text)
            }
        };
        let request = request
            .body(Full::new(bytes))
            .map_err(|e| Error::internal("cannot build a request to the daemon").caused_by(e))?;
        match &self.url {
            DaemonUrl::Unix(path) => {
                let stream = self.connect(UnixStream::connect(path)).await?;
                self.exchange(stream, request).await
            }
            DaemonUrl::Tcp { authority } => {
                let stream = self.connect(TcpStream::connect(authority.as_str())).await?;
                self.exchange(stream, request).await
            }
        }
    }

    async fn connect<S>(&self, connecting: impl Future<Output = std::io::Result<S>>) -> Result<S> {
        match tokio::time::timeout(CONNECT, connecting).await {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(e)) => Err(remote_error::unreachable(&self.url, e)),
            Err(_) => Err(remote_error::unreachable(
                &self.url,
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no connection within {}s", CONNECT.as_secs()),
                ),
            )),
        }
    }

    async fn exchange<S>(
        &self,
        stream: S,
        request: Request<Full<Bytes>>,
    ) -> Result<Response<Incoming>>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| self.broken(e))?;
        tokio::spawn(conn);
        sender
            .send_request(request)
            .await
            .map_err(|e| self.broken(e))
    }

    fn broken(&self, e: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::new(
            Kind::DockerUnavailable,
            format!("the connection to the daemon at {} broke", self.url),
        )
        .caused_by(e)
        .with_help("the daemon may have stopped or restarted: check it, then run the command again")
    }

    fn too_slow(&self, method: &Method, path: &str, wait: Duration) -> Error {
        Error::new(
            Kind::Timeout,
            format!(
                "the daemon at {} did not answer {method} {path} within {}s",
                self.url,
                wait.as_secs()
            ),
        )
        .with_help("the operation may still be running on the daemon: look with `aima service get ID` or `aima events`")
    }
}
