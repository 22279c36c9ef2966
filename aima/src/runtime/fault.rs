//! Docker's own error behind a [`RuntimeError`](super::RuntimeError): kept whole, so logs and
//! `{:?}` show what the client library reported, and shown as the one line a person can act on.
//! Its API names no bollard type.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// The cause of a failed Docker call: Docker's message (an HTTP answer, a Swarm task's error),
/// or the innermost cause of a failed connection ("Connection refused (os error 111)").
///
/// It has no `source()` of its own: its text already is the innermost cause, so the original's
/// chain of wrappers would only repeat it in `caused by:` lines.
#[derive(Clone)]
pub struct DockerFault {
    text: String,
    /// The error as the client library reported it; `None` for a cause known only by its text.
    original: Option<Arc<dyn StdError + Send + Sync>>,
}

impl DockerFault {
    /// A cause known only by its text: a check made before any call, a Swarm task's error.
    pub fn new(text: impl Into<String>) -> Self {
        DockerFault {
            text: text.into(),
            original: None,
        }
    }

    /// `original`, shown as `text`.
    pub(super) fn of(text: impl Into<String>, original: impl StdError + Send + Sync + 'static) -> Self {
        DockerFault {
            text: text.into(),
            original: Some(Arc::new(original)),
        }
    }

    /// What a person reads; the one place Docker's words are matched (see `runtime::no_space`).
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for DockerFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for DockerFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.original {
            Some(original) => write!(f, "{original:?}"),
            None => write!(f, "{:?}", self.text),
        }
    }
}

impl StdError for DockerFault {}

/// Two faults are alike when they read alike: the original is a detail of the client library.
impl PartialEq for DockerFault {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl From<&str> for DockerFault {
    fn from(text: &str) -> Self {
        DockerFault::new(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::runtime::RuntimeError;

    #[test]
    fn docker_s_words_are_chained_once_not_repeated_in_the_message() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "inner");
        let unreachable = RuntimeError::Unavailable {
            address: "tcp://127.0.0.1:1".into(),
            cause: DockerFault::of("Connection refused (os error 111)", io),
        };
        let err = Error::from(unreachable);
        assert_eq!(err.message, "Docker is not reachable at tcp://127.0.0.1:1");
        assert_eq!(err.causes(), ["Connection refused (os error 111)"]);
        assert_eq!(
            err.one_line(),
            "Docker is not reachable at tcp://127.0.0.1:1: Connection refused (os error 111)"
        );
        let refused = Error::from(RuntimeError::api("create container", 500, "boom"));
        assert_eq!(refused.message, "Docker answered 500 to create container");
        assert_eq!(refused.causes(), ["boom"]);
    }
}
