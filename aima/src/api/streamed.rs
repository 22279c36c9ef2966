//! Streamed answers (followed logs, a streamed chat): a chunked `text/plain` body of what the
//! engine sends, as it sends it, and how such a body says that it failed midway.
//!
//! A stream that fails after its 200 was sent ends with one last line: the ASCII record
//! separator (0x1E), the error as error answers carry it (`{"error": {code, message, causes,
//! help}}`) and a newline. The engine's output never carries 0x1E (the daemon drops it), so
//! that line cannot be forged by what an engine writes. A body that ends without it ended well.

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use crate::error::Error;

/// Starts the line that reports a failure.
pub(crate) const FAILURE_MARK: char = '\u{1e}';

/// Sends the pieces of one streamed answer; dropping every sender ends the body.
#[derive(Clone)]
pub(crate) struct Pieces(UnboundedSender<Bytes>);

impl Pieces {
    /// Engine output, without any record separator in it.
    pub(crate) fn send(&self, text: &str) {
        let clean = if text.contains(FAILURE_MARK) {
            text.replace(FAILURE_MARK, "")
        } else {
            text.to_owned()
        };
        let _ = self.0.send(Bytes::from(clean));
    }

    /// The failure line that ends the body.
    pub(crate) fn fail(&self, error: &Error) {
        let json = serde_json::json!({ "error": error });
        let _ = self.0.send(Bytes::from(format!("{FAILURE_MARK}{json}\n")));
    }

    /// Resolves once the client has gone (the body was dropped).
    pub(crate) async fn gone(&self) {
        self.0.closed().await;
    }
}

/// A sender for the pieces, and the receiving end to answer with through [`answer`].
pub(crate) fn channel() -> (Pieces, UnboundedReceiver<Bytes>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    (Pieces(tx), rx)
}

/// The 200 answer whose body is the pieces as they are sent.
pub(crate) fn answer(rx: UnboundedReceiver<Bytes>) -> Response {
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, Infallible>(chunk), rx))
    });
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        Body::from_stream(stream),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;

    #[tokio::test]
    async fn engine_text_cannot_forge_the_failure_line() {
        let (pieces, mut rx) = channel();
        pieces.send("a\u{1e}{\"error\":{}}\n");
        pieces.fail(&Error::new(Kind::Interrupted, "the daemon stopped"));
        drop(pieces);
        let mut body = String::new();
        while let Some(chunk) = rx.recv().await {
            body.push_str(std::str::from_utf8(&chunk).unwrap());
        }
        let (content, failure) = body.split_once(FAILURE_MARK).unwrap();
        assert_eq!(content, "a{\"error\":{}}\n");
        let json: serde_json::Value = serde_json::from_str(failure).unwrap();
        assert_eq!(json["error"]["code"], "interrupted", "{json}");
    }
}
