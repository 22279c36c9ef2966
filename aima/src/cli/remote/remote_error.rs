//! The daemon's answers as errors: its JSON error object back into an [`Error`] of the same
//! kind (so the exit code is the in-process one), and a daemon that cannot be reached.

use crate::domain::Attempt;
use crate::error::{Error, Kind};

use super::daemon_url::DaemonUrl;

/// `{"error": {code, message, causes, attempts, help}}`, as the API writes it.
#[derive(serde::Deserialize)]
struct Answer {
    error: Body,
}

#[derive(serde::Deserialize)]
struct Body {
    code: String,
    message: String,
    #[serde(default)]
    causes: Vec<String>,
    #[serde(default)]
    attempts: Vec<Attempt>,
    #[serde(default)]
    help: Option<String>,
}

/// One `caused by:` line the daemon sent, and the ones behind it.
#[derive(Debug)]
struct Cause {
    text: String,
    next: Option<Box<Cause>>,
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.next.as_deref().map(|c| c as _)
    }
}

/// The kind whose code the daemon sent. Its HTTP-only `unauthorized` (no token, or a wrong
/// one) reads as `forbidden`: the caller may not do this as who it is.
fn kind_of(code: &str) -> Option<Kind> {
    if code == "unauthorized" {
        return Some(Kind::Forbidden);
    }
    Kind::ALL.into_iter().find(|k| k.code() == code)
}

pub(super) fn from_answer(status: u16, bytes: &[u8], url: &DaemonUrl) -> Error {
    let Ok(Answer { error }) = serde_json::from_slice::<Answer>(bytes) else {
        let text = String::from_utf8_lossy(bytes);
        return Error::internal(format!(
            "the daemon at {url} answered {status} without an aima error: {}",
            text.chars().take(200).collect::<String>()
        ))
        .with_help("is --host the address of an aima daemon? (not a proxy or another service)");
    };
    let kind = kind_of(&error.code).unwrap_or(Kind::Internal);
    let mut out = Error::new(kind, error.message).with_attempts(error.attempts);
    let causes = error
        .causes
        .into_iter()
        .rev()
        .fold(None, |next, text| Some(Box::new(Cause { text, next })));
    if let Some(cause) = causes {
        out = out.caused_by(*cause);
    }
    out.help = match (error.code.as_str(), error.help) {
        ("unauthorized", _) => Some(match url {
            DaemonUrl::Tcp { .. } => "give the daemon's API token: AIMA_API_TOKEN=… or --token-file PATH (an admin makes one with `aima token create NAME`)".to_owned(),
            DaemonUrl::Unix(_) => "the socket should need no token: is this an aima daemon's socket?".to_owned(),
        }),
        (_, help) => help,
    };
    out
}

/// Nothing answers at `url`: exit 6, as when Docker is away (the thing that runs engines
/// cannot be reached; try again once it runs). A socket the caller may not open is 13.
pub(super) fn unreachable(url: &DaemonUrl, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        return Error::new(
            Kind::Forbidden,
            format!("you may not connect to the daemon's socket at {url}"),
        )
        .caused_by(e)
        .with_help("ask the server's admin to add you to the socket's group (`aima` by default), then log in again");
    }
    Error::new(
        Kind::DockerUnavailable,
        format!("cannot reach the aima daemon at {url}"),
    )
    .caused_by(e)
    .with_help("is the daemon running (`aima start`, or its system service)? check the address given to --host / AIMA_HOST")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daemons_error_comes_back_with_its_kind_causes_and_help() {
        let url = DaemonUrl::Unix("/x/aima.sock".into());
        let body = br#"{"error":{"code":"not_found","message":"service x not found","causes":["a","b"],"help":"run it"}}"#;
        let e = from_answer(404, body, &url);
        assert_eq!(e.code, Kind::NotFound);
        assert_eq!(e.causes(), vec!["a".to_owned(), "b".to_owned()]);
        assert_eq!(e.help.as_deref(), Some("run it"));
        let bad_token = from_answer(
            401,
            br#"{"error":{"code":"unauthorized","message":"wrong"}}"#,
            &url,
        );
        assert_eq!(bad_token.code.exit_code(), 13);
        assert_eq!(from_answer(502, b"<html>", &url).code, Kind::Internal);
    }
}
