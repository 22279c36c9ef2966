//! User-facing errors: what failed, why (a `source()` chain), the attempts behind it, a hint,
//! a stable code, and the exit code and HTTP status that code maps to.
//!
//! Each concern has its own `thiserror` enum with `#[source]` chains ([`ConfigError`],
//! [`StoreError`], [`RuntimeError`], [`EndpointError`], the daemon's `ListenError`) that says
//! which [`Kind`] each of its variants is and what a person can do about it ([`Classified`]).
//! Every one becomes an [`Error`] the same way, so a failure reads and exits alike wherever it
//! surfaces. [`Kind`] is the one place that maps a failure class to its exit code and HTTP
//! status, and [`Error::render`] the one renderer (`error:`, `caused by:` lines, attempts,
//! `help:`).
//!
//! [`ConfigError`]: crate::config::ConfigError
//! [`StoreError`]: crate::store::StoreError
//! [`RuntimeError`]: crate::runtime::RuntimeError
//! [`EndpointError`]: crate::runtime::EndpointError

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use serde::{Serialize, Serializer};

use crate::domain::{Attempt, BadId};

/// The class of a failure; decides the exit code, the HTTP status and the stable JSON `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Internal,
    Usage,
    NotFound,
    Conflict,
    PortInUse,
    /// A GPU the start needs is held by another service, or lacks the free memory it needs.
    GpuInUse,
    DockerUnavailable,
    StartFailed,
    Timeout,
    Storage,
    /// A disk aima or Docker must write to is full, or below its configured free-space minimum.
    DiskFull,
    /// A running engine refused or failed a request sent to its own API (e.g. a chat).
    Engine,
    /// The caller may not act on what another user owns (a model or service of theirs).
    Forbidden,
    /// The start would take the caller past a quota the operator set.
    QuotaExceeded,
    Interrupted,
}

impl Kind {
    /// Exit codes are part of the CLI contract and documented in docs/lifecycle.md (a test keeps
    /// that table and this match in step).
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Internal => 1,
            Kind::Usage => 2,
            Kind::NotFound => 3,
            Kind::Conflict => 4,
            Kind::PortInUse => 5,
            Kind::DockerUnavailable => 6,
            Kind::StartFailed => 7,
            Kind::Timeout => 8,
            Kind::Storage => 9,
            Kind::Engine => 10,
            Kind::DiskFull => 11,
            Kind::GpuInUse => 12,
            Kind::Forbidden => 13,
            Kind::QuotaExceeded => 14,
            Kind::Interrupted => 130,
        }
    }

    /// The HTTP status the API answers with; exhaustive, so a new kind must be given one.
    pub fn http_status(self) -> u16 {
        match self {
            Kind::Usage => 400,
            Kind::NotFound => 404,
            Kind::Conflict | Kind::PortInUse | Kind::GpuInUse => 409,
            Kind::DockerUnavailable | Kind::Interrupted => 503,
            Kind::StartFailed | Kind::Engine => 502,
            Kind::Timeout => 504,
            Kind::Storage | Kind::Internal => 500,
            // 507 Insufficient Storage (RFC 4918): the server cannot store what the request needs.
            Kind::DiskFull => 507,
            Kind::Forbidden | Kind::QuotaExceeded => 403,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Kind::Internal => "internal",
            Kind::Usage => "usage",
            Kind::NotFound => "not_found",
            Kind::Conflict => "conflict",
            Kind::PortInUse => "port_in_use",
            Kind::GpuInUse => "gpu_in_use",
            Kind::DockerUnavailable => "docker_unavailable",
            Kind::StartFailed => "start_failed",
            Kind::Timeout => "timeout",
            Kind::Storage => "storage",
            Kind::Engine => "engine",
            Kind::DiskFull => "disk_full",
            Kind::Forbidden => "forbidden",
            Kind::QuotaExceeded => "quota_exceeded",
            Kind::Interrupted => "interrupted",
        }
    }
}

/// A typed error of one concern that knows its [`Kind`] and what a person can do about it.
pub trait Classified: StdError + Send + Sync + 'static {
    fn kind(&self) -> Kind;
    fn help(&self) -> Option<String> {
        None
    }
}

/// A cause known only by its text (a message from a peer, a process's command line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Detail(pub String);

type Source = Arc<dyn StdError + Send + Sync>;

/// Where the causes of an [`Error`] come from.
#[derive(Debug, Clone)]
enum Chain {
    None,
    /// This error is the first `caused by:`.
    Cause(Source),
    /// A typed error whose text already heads the message: its sources are the causes.
    Behind(Source),
}

/// A failure as a person reads it: one line of what failed, its causes, attempts and a hint.
#[derive(Debug, Clone)]
pub struct Error {
    pub code: Kind,
    pub message: String,
    chain: Chain,
    pub attempts: Vec<Attempt>,
    pub help: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: Kind, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            chain: Chain::None,
            attempts: Vec::new(),
            help: None,
        }
    }

    /// A typed error of one concern: its text heads the error, its own sources follow as causes.
    pub(crate) fn from_classified(e: impl Classified) -> Self {
        Error {
            code: e.kind(),
            message: e.to_string(),
            help: e.help(),
            attempts: Vec::new(),
            chain: Chain::Behind(Arc::new(e)),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(Kind::Usage, message)
    }

    pub fn not_found(what: &str, id: &str) -> Self {
        Error::new(Kind::NotFound, format!("{what} {id} not found"))
            .with_help(format!("run `aima {what} list` to see the existing ids"))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Error::new(Kind::Conflict, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(Kind::Internal, message)
            .with_help("this is a bug in aima; please report it with the command you ran")
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets what caused this error; the cause's own `source()` chain follows it.
    pub fn caused_by(mut self, cause: impl StdError + Send + Sync + 'static) -> Self {
        self.chain = Chain::Cause(Arc::new(cause));
        self
    }

    pub fn with_attempts(mut self, attempts: Vec<Attempt>) -> Self {
        self.attempts = attempts;
        self
    }

    /// The same failure seen from the operation it broke: `"{what}: {message}"`, same kind,
    /// causes and hint.
    pub fn within(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// The `caused by:` texts, outermost first.
    pub fn causes(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = StdError::source(self);
        while let Some(cause) = cur {
            out.push(cause.to_string());
            cur = cause.source();
        }
        out
    }

    /// The message and its causes on one line (`what failed: why: why`), for a field that
    /// holds one string (`aima info`'s Docker error, the health document).
    pub fn one_line(&self) -> String {
        let mut line = self.message.clone();
        for cause in self.causes() {
            line.push_str(": ");
            line.push_str(&cause);
        }
        line
    }

    /// The text shown on stderr: `error:`, `caused by:` lines, the attempts, then `help:`.
    pub fn render(&self) -> String {
        let mut out = format!("error: {}\n", self.message);
        for cause in self.causes() {
            out.push_str(&format!("  caused by: {cause}\n"));
        }
        if !self.attempts.is_empty() {
            let total = self.attempts.len();
            out.push_str(&format!("  {total} start attempt(s):\n"));
            for a in &self.attempts {
                out.push_str(&format!("  {}\n", a.describe(total)));
            }
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("help: {help}\n"));
        }
        out
    }
}

/// The typed errors of each concern, each turned into an [`Error`] the one way.
impl<E: Classified> From<E> for Error {
    fn from(e: E) -> Self {
        Error::from_classified(e)
    }
}

/// A malformed id names no record: "not found", with what ids look like.
impl Classified for BadId {
    fn kind(&self) -> Kind {
        Kind::NotFound
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "{what} ids look like {prefix}1a2b3c4d; a {what}'s name or a unique id prefix works too; run `aima {what} list` to see them",
            what = self.what,
            prefix = self.prefix
        ))
    }
}

/// The JSON error object: `code`, `message`, then `causes`, `attempts` and `help` when present.
impl Serialize for Error {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shape<'a> {
            code: Kind,
            message: &'a str,
            #[serde(skip_serializing_if = "Vec::is_empty")]
            causes: Vec<String>,
            #[serde(skip_serializing_if = "<[Attempt]>::is_empty")]
            attempts: &'a [Attempt],
            #[serde(skip_serializing_if = "Option::is_none")]
            help: Option<&'a str>,
        }
        Shape {
            code: self.code,
            message: &self.message,
            causes: self.causes(),
            attempts: &self.attempts,
            help: self.help.as_deref(),
        }
        .serialize(s)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.chain {
            Chain::None => None,
            Chain::Cause(cause) => Some(cause.as_ref()),
            Chain::Behind(typed) => typed.source(),
        }
    }
}

impl Kind {
    /// Every kind: the API document's error codes and the man page's EXIT STATUS list them.
    pub const ALL: [Kind; 15] = [
        Kind::Internal,
        Kind::Usage,
        Kind::NotFound,
        Kind::Conflict,
        Kind::PortInUse,
        Kind::GpuInUse,
        Kind::DockerUnavailable,
        Kind::StartFailed,
        Kind::Timeout,
        Kind::Storage,
        Kind::Engine,
        Kind::DiskFull,
        Kind::Forbidden,
        Kind::QuotaExceeded,
        Kind::Interrupted,
    ];

    /// The kind whose exit code is `code` (each has its own), as an API answer reports it.
    pub fn of_exit_code(code: u8) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.exit_code() == code)
    }

    /// The kind's place in [`Kind::ALL`]; exhaustive, so a new kind does not compile until it
    /// is listed there too.
    #[cfg(test)]
    fn position(self) -> usize {
        match self {
            Kind::Internal => 0,
            Kind::Usage => 1,
            Kind::NotFound => 2,
            Kind::Conflict => 3,
            Kind::PortInUse => 4,
            Kind::GpuInUse => 5,
            Kind::DockerUnavailable => 6,
            Kind::StartFailed => 7,
            Kind::Timeout => 8,
            Kind::Storage => 9,
            Kind::Engine => 10,
            Kind::DiskFull => 11,
            Kind::Forbidden => 12,
            Kind::QuotaExceeded => 13,
            Kind::Interrupted => 14,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Inner {
        #[error("the disk is full")]
        Full,
    }

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("cannot write the state")]
        Write(#[source] Inner),
    }

    impl Classified for Outer {
        fn kind(&self) -> Kind {
            Kind::Storage
        }
        fn help(&self) -> Option<String> {
            Some("free some space".into())
        }
    }

    #[test]
    fn the_renderer_walks_the_chain() {
        let err = Error::from_classified(Outer::Write(Inner::Full)).within("cannot start");
        assert_eq!(
            err.render(),
            "error: cannot start: cannot write the state\n  caused by: the disk is full\nhelp: free some space\n"
        );
        assert_eq!(err.code.exit_code(), 9);
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["causes"], serde_json::json!(["the disk is full"]));
    }

    #[test]
    fn every_kind_is_listed_once_and_has_a_distinct_exit_code() {
        for (at, kind) in Kind::ALL.iter().enumerate() {
            assert_eq!(kind.position(), at, "{kind:?} is listed out of place");
        }
        let codes: std::collections::HashSet<u8> =
            Kind::ALL.iter().map(|k| k.exit_code()).collect();
        assert_eq!(codes.len(), Kind::ALL.len());
    }
}
