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
    /// The attempt's recorded reason includes the error's causes: Docker's own words, which are
    /// the point of a Docker failure and would otherwise be lost with the container.
    pub with_causes: bool,
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
            with_causes: false,
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

    /// The attempt's reason as recorded and shown.
    pub fn reason(&self) -> String {
        if self.with_causes {
            self.error.one_line()
        } else {
            self.error.message.clone()
        }
    }

    /// Docker errors keep the one classification ([`RuntimeError`]'s kind and hint); a transient
    /// one may be retried.
    pub fn from_runtime(e: RuntimeError, phase: Phase) -> Self {
        let retry = e.is_transient();
        let cause = matches!(e, RuntimeError::ImageMissing { .. }).then_some("image_missing");
        // A refused pull already says in its message what the registry answered.
        let with_causes = !matches!(e, RuntimeError::Pull { .. });
        Failure {
            retry,
            cause,
            with_causes,
            ..Failure::of(Error::from(e), phase)
        }
    }
}

/// Why an engine's start-up can never succeed, as its own output says: another attempt would
/// load the same missing, invalid or oversized model again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EngineCause {
    ModelNotFound,
    InvalidFormat,
    UnsupportedArchitecture,
    /// A gated, private or missing repository.
    Repository,
    OutOfMemory,
}

/// Fragments of engine lines (llama.cpp, vLLM/Hugging Face, Ollama), lower-cased, per cause.
const CAUSES: [(EngineCause, &[&str]); 5] = [
    (
        EngineCause::Repository,
        &[
            // llama.cpp's `-hf` without a way to Hugging Face: the first line says why.
            "could not establish connection",
            "failed to resolve commit",
            "gated repo",
            "repository not found",
            "repositorynotfound",
            "401 client error",
            "403 client error",
            "is restricted",
            "invalid username or password",
        ],
    ),
    (
        EngineCause::ModelNotFound,
        &[
            "no such file or directory",
            "failed to open gguf file",
            "does not appear to have a file named",
            "is not a valid model identifier",
            "file does not exist",
            "model not found",
        ],
    ),
    (
        EngineCause::UnsupportedArchitecture,
        &[
            "unknown model architecture",
            "are not supported for now",
            "unsupported model architecture",
            "model architecture not supported",
        ],
    ),
    (
        EngineCause::OutOfMemory,
        &[
            "out of memory",
            "outofmemory",
            "oom-kill",
            "cannot allocate memory",
            "failed to allocate",
        ],
    ),
    (
        EngineCause::InvalidFormat,
        &[
            "failed to read magic",
            "invalid magic",
            "not a valid gguf",
            "headertoolarge",
            "error while deserializing header",
            "error loading model",
            "failed to load model",
        ],
    ),
];

impl EngineCause {
    /// The attempt's stable code for this cause.
    pub(super) fn code(self) -> &'static str {
        match self {
            EngineCause::ModelNotFound => "model_not_found",
            EngineCause::InvalidFormat => "invalid_model_format",
            EngineCause::UnsupportedArchitecture => "unsupported_architecture",
            EngineCause::Repository => "repository_unavailable",
            EngineCause::OutOfMemory => "out_of_memory",
        }
    }

    pub(super) fn help(self) -> &'static str {
        match self {
            EngineCause::ModelNotFound => {
                "the engine found no model where it looked: check the model's path or repository id; retrying will not help"
            }
            EngineCause::InvalidFormat => {
                "the model file is not in a format this engine loads (llama.cpp needs a valid .gguf): replace it, or serve it with another engine; retrying will not help"
            }
            EngineCause::UnsupportedArchitecture => {
                "this engine version does not support the model's architecture: use a newer engine image or another engine; retrying will not help"
            }
            EngineCause::Repository => {
                "the engine could not get the repository: check its id; the engine container needs network access to Hugging Face, and a gated repository needs HF_TOKEN in aima's environment (or hf_token in config.toml)"
            }
            EngineCause::OutOfMemory => {
                "the engine ran out of memory: use a smaller model or free memory; retrying will not help"
            }
        }
    }
}

/// The first engine line naming a cause no retry will fix, and that cause: the most specific
/// line, since engines follow it with more general ones ("exiting due to model loading error").
pub(super) fn fatal_cause(lines: &[String]) -> Option<(EngineCause, &str)> {
    lines.iter().find_map(|line| {
        let lower = line.to_ascii_lowercase();
        CAUSES
            .iter()
            .find(|(_, fragments)| fragments.iter().any(|f| lower.contains(f)))
            .map(|(cause, _)| (*cause, line.as_str()))
    })
}

/// An engine line without its logger's prefix: llama.cpp starts each line with the time since
/// start and a level letter (`0.00.054.151 E gguf_init_from_reader: …`).
pub(super) fn engine_words(line: &str) -> &str {
    let mut parts = line.trim_start().splitn(3, ' ');
    let (Some(time), Some(level), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return line;
    };
    let is_time = time.split('.').count() >= 3
        && time
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let is_level = level.len() == 1 && "DIWEFT".contains(level);
    if is_time && is_level {
        rest.trim_start()
    } else {
        line
    }
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
    use crate::domain::HostPort;

    #[test]
    fn docker_errors_are_classified_by_kind() {
        let unreachable = RuntimeError::Unavailable {
            address: "unix:///x".into(),
            cause: "gone".into(),
        };
        assert_eq!(
            Failure::from_runtime(unreachable, Phase::Connect)
                .error
                .code,
            Kind::DockerUnavailable
        );
        let busy = RuntimeError::PortConflict {
            port: HostPort::from(8000),
            node: None,
            cause: "bind: address already in use".into(),
        };
        let f = Failure::from_runtime(busy, Phase::Start);
        assert_eq!((f.error.code, f.retry), (Kind::PortInUse, false));
        let server = RuntimeError::api("create container", 500, "boom");
        assert!(Failure::from_runtime(server, Phase::Create).retry);
        let client = RuntimeError::api("create container", 400, "bad");
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

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn out_of_memory_logs_are_fatal() {
        let oom = lines("torch.OutOfMemoryError: CUDA out of memory");
        assert_eq!(fatal_cause(&oom).unwrap().0, EngineCause::OutOfMemory);
        let generic = lines("RuntimeError: Engine core initialization failed");
        assert_eq!(fatal_cause(&generic), None);
    }

    #[test]
    fn an_invalid_gguf_is_named_by_the_first_line_giving_the_cause() {
        // llama-server's output for a file that is not GGUF (shape of the real engine's lines).
        let log = lines(
            "build: 1 (abc) with cc for x86_64-linux-gnu\n\
             gguf_init_from_file_impl: invalid magic characters: 'nope', expected 'GGUF'\n\
             llama_model_load: error loading model: llama_model_loader: failed to load model from /model/bad.gguf\n\
             llama_model_load_from_file_impl: failed to load model\n\
             srv    load_model: failed to load model, '/model/bad.gguf'\n\
             main: exiting due to model loading error",
        );
        let (cause, line) = fatal_cause(&log).unwrap();
        assert_eq!(cause, EngineCause::InvalidFormat);
        assert!(line.contains("invalid magic characters"), "{line}");
    }

    #[test]
    fn llama_cpp_line_prefixes_are_dropped() {
        assert_eq!(
            engine_words("0.00.054.151 E gguf_init_from_reader: invalid magic characters"),
            "gguf_init_from_reader: invalid magic characters"
        );
        assert_eq!(engine_words("ERROR boom"), "ERROR boom");
        assert_eq!(engine_words("1.2 E not a time"), "1.2 E not a time");
        assert_eq!(engine_words("0.00.1.2 X other"), "0.00.1.2 X other");
    }

    #[test]
    fn hf_without_network_names_the_connection_not_the_load() {
        // llama-server 11434 (the real-engine image) with `-hf` and no network, in order.
        let log = lines(
            "0.00.025.004 E get_repo_commit: error: HTTPLIB failed: Could not establish connection\n\
             0.00.025.451 W get_repo_files: failed to resolve commit for owner/name\n\
             0.00.030.404 E common_fit_params: encountered an error while trying to fit params to free device memory: failed to load model\n\
             0.00.039.118 E srv  llama_server: exiting due to model loading error",
        );
        let (cause, line) = fatal_cause(&log).unwrap();
        assert_eq!(cause, EngineCause::Repository);
        assert!(line.contains("Could not establish connection"), "{line}");
    }

    #[test]
    fn each_cause_is_recognised_from_engine_output() {
        let cases = [
            (
                "llama_model_load: error loading model architecture: unknown model architecture: 'mamba9'",
                EngineCause::UnsupportedArchitecture,
            ),
            (
                "ValueError: Model architectures ['FooForCausalLM'] are not supported for now.",
                EngineCause::UnsupportedArchitecture,
            ),
            (
                "huggingface_hub.errors.GatedRepoError: 401 Client Error. Cannot access gated repo for url",
                EngineCause::Repository,
            ),
            (
                "huggingface_hub.errors.RepositoryNotFoundError: 404 Client Error. Repository Not Found for url",
                EngineCause::Repository,
            ),
            (
                "gguf_init_from_file: failed to open GGUF file '/model/missing.gguf' (No such file or directory)",
                EngineCause::ModelNotFound,
            ),
            (
                "OSError: /model does not appear to have a file named config.json.",
                EngineCause::ModelNotFound,
            ),
            (
                "ggml_backend_cpu_buffer_type_alloc_buffer: failed to allocate buffer of size 99999999",
                EngineCause::OutOfMemory,
            ),
        ];
        for (line, want) in cases {
            assert_eq!(fatal_cause(&lines(line)).map(|c| c.0), Some(want), "{line}");
        }
        let benign = lines(
            "main: server is listening on http://0.0.0.0:8080\nsrv  update_slots: all slots are idle",
        );
        assert_eq!(fatal_cause(&benign), None);
    }
}
