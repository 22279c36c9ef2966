//! User-facing errors: what failed, the attempts behind it, a hint, a stable code and an exit code.
//!
//! Expected failures (bad input, a taken port, Docker away) are `Error`s with a [`Kind`] that maps
//! to a documented exit code. Anything else is a bug and is reported as `internal`.

use serde::Serialize;

use crate::service::Attempt;

/// The class of a failure; decides the exit code and the stable JSON `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Internal,
    Usage,
    NotFound,
    Conflict,
    PortInUse,
    DockerUnavailable,
    StartFailed,
    Timeout,
    Storage,
    Interrupted,
}

impl Kind {
    /// Exit codes are part of the CLI contract and documented in the README.
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
            Kind::Interrupted => 130,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Kind::Internal => "internal",
            Kind::Usage => "usage",
            Kind::NotFound => "not_found",
            Kind::Conflict => "conflict",
            Kind::PortInUse => "port_in_use",
            Kind::DockerUnavailable => "docker_unavailable",
            Kind::StartFailed => "start_failed",
            Kind::Timeout => "timeout",
            Kind::Storage => "storage",
            Kind::Interrupted => "interrupted",
        }
    }
}

/// A failure as a person reads it: one line of what failed, causes, attempts and a hint.
#[derive(Debug, Clone, Serialize)]
pub struct Error {
    pub code: Kind,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: Kind, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            causes: Vec::new(),
            attempts: Vec::new(),
            help: None,
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

    pub fn storage(message: impl Into<String>) -> Self {
        Error::new(Kind::Storage, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(Kind::Internal, message)
            .with_help("this is a bug in aima; please report it with the command you ran")
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn caused_by(mut self, cause: impl ToString) -> Self {
        self.causes.push(cause.to_string());
        self
    }

    pub fn with_attempts(mut self, attempts: Vec<Attempt>) -> Self {
        self.attempts = attempts;
        self
    }

    /// The text shown on stderr: `error:`, `caused by:` lines, the attempts, then `help:`.
    pub fn render(&self) -> String {
        let mut out = format!("error: {}\n", self.message);
        for cause in &self.causes {
            out.push_str(&format!("  caused by: {cause}\n"));
        }
        if !self.attempts.is_empty() {
            out.push_str(&format!("  {} start attempt(s):\n", self.attempts.len()));
            let total = self.attempts.len();
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

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::storage("the state database failed")
            .caused_by(e)
            .with_help("check that AIMA_DATA_DIR is writable and not on a full disk")
    }
}
