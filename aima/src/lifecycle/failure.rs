//! Why one attempt failed, and whether another attempt could help: an [`Error`] as the user
//! will read it, plus the phase it happened in and the engine's last log lines.

use crate::domain::Phase;
use crate::error::{Error, Kind};
use crate::runtime::RuntimeError;

#[derive(Debug, Clone)]
pub(super) struct Failure {
    /// Its message is the attempt's reason; kind, causes and hint carry over to the start's error.
    pub error: Error,
    pub phase: Phase,
    pub retry: bool,
    pub log_tail: Vec<String>,
    /// A finer code than the error's kind (`image_missing` rather than `start_failed`).
    pub cause: Option<&'static str>,
}

impl Failure {
    pub fn fatal(kind: Kind, phase: Phase, reason: impl Into<String>) -> Self {
        Failure::of(Error::new(kind, reason), phase)
    }

    pub fn retryable(phase: Phase, reason: impl Into<String>) -> Self {
        Failure {
            retry: true,
            ..Failure::fatal(Kind::StartFailed, phase, reason)
        }
    }

    pub fn of(error: Error, phase: Phase) -> Self {
        Failure {
            error,
            phase,
            retry: false,
            log_tail: Vec::new(),
            cause: None,
        }
    }

    /// Names what went wrong more precisely than the error's kind does.
    pub fn cause(mut self, cause: &'static str) -> Self {
        self.cause = Some(cause);
        self
    }

    /// The attempt's stable code: the finer cause when there is one, else the error's kind.
    pub fn code(&self) -> &'static str {
        self.cause.unwrap_or(self.error.code.code())
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.error = self.error.with_help(help);
        self
    }

    pub fn reason(&self) -> &str {
        &self.error.message
    }

    /// Docker errors keep the one classification ([`RuntimeError`]'s kind and hint); a transient
    /// one may be retried.
    pub fn from_runtime(e: RuntimeError, phase: Phase) -> Self {
        let retry = e.is_transient();
        Failure {
            retry,
            ..Failure::of(Error::from(e), phase)
        }
    }
}

/// Engine output that no retry will fix: the model does not fit, or the engine says it is fatal.
pub(super) fn is_fatal_engine_log(lines: &[String]) -> bool {
    lines.iter().any(|l| {
        let l = l.to_ascii_lowercase();
        l.contains("out of memory") || l.contains("outofmemory") || l.contains("oom-kill")
    })
}

/// "with code 1: <the engine's most telling line>", for an engine that exited.
pub(super) fn exit_summary(code: Option<i64>, log_tail: &[String]) -> String {
    let code = code.map_or_else(|| "unknown".to_owned(), |c| c.to_string());
    let mentions_error = |l: &&String| {
        let l = l.to_ascii_lowercase();
        l.contains("error") || l.contains("fatal") || l.contains("panic")
    };
    match log_tail
        .iter()
        .rev()
        .find(mentions_error)
        .or(log_tail.last())
    {
        Some(line) => format!("with code {code}: {line}"),
        None => format!("with code {code}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_errors_are_classified_by_kind() {
        let unreachable = RuntimeError::Unavailable {
            address: "unix:///x".into(),
            reason: "gone".into(),
        };
        assert_eq!(
            Failure::from_runtime(unreachable, Phase::Connect)
                .error
                .code,
            Kind::DockerUnavailable
        );
        let busy = RuntimeError::PortConflict {
            port: 8000,
            detail: "bind: address already in use".into(),
        };
        let f = Failure::from_runtime(busy, Phase::Start);
        assert_eq!((f.error.code, f.retry), (Kind::PortInUse, false));
        let server = RuntimeError::Api {
            status: 500,
            message: "boom".into(),
        };
        assert!(Failure::from_runtime(server, Phase::Create).retry);
        let client = RuntimeError::Api {
            status: 400,
            message: "bad".into(),
        };
        assert!(!Failure::from_runtime(client, Phase::Create).retry);
    }

    #[test]
    fn exit_summary_quotes_the_error_line() {
        let logs = vec![
            "INFO loading".to_owned(),
            "ERROR boom".to_owned(),
            "INFO bye".to_owned(),
        ];
        assert_eq!(exit_summary(Some(1), &logs), "with code 1: ERROR boom");
        assert_eq!(exit_summary(None, &[]), "with code unknown");
    }

    #[test]
    fn out_of_memory_logs_are_fatal() {
        assert!(is_fatal_engine_log(&[
            "torch.OutOfMemoryError: CUDA out of memory".into()
        ]));
        assert!(!is_fatal_engine_log(&[
            "RuntimeError: Engine core initialization failed".into()
        ]));
    }
}
