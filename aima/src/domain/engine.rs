//! The catalog of engine types: image, ports, health path, container arguments, GPU and retries.

use std::fmt;
use super::restart::RestartPolicy;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::gpu::Gpus;
use super::port::HostPort;
use super::pull::PullPolicy;

/// vLLM's default `/dev/shm`: room for its workers' shared tensors (Docker's 64 MB is too small
/// for tensor parallelism). Only what is used counts against the container's memory.
pub const VLLM_SHM_BYTES: u64 = 4 << 30;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum EngineType {
    Vllm,
    Ollama,
    Llamacpp,
}

impl EngineType {
    pub const ALL: [EngineType; 3] = [EngineType::Vllm, EngineType::Ollama, EngineType::Llamacpp];

    pub fn as_str(self) -> &'static str {
        match self {
            EngineType::Vllm => "vllm",
            EngineType::Ollama => "ollama",
            EngineType::Llamacpp => "llamacpp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// Prefix of this engine's environment overrides, e.g. `AIMA_VLLM`.
    pub fn env_prefix(self) -> String {
        format!("AIMA_{}", self.as_str().to_uppercase())
    }
}

impl fmt::Display for EngineType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Seconds a graceful stop waits after SIGTERM before SIGKILL, as `docker stop` does.
pub const DEFAULT_STOP_SECS: u32 = 10;

/// Everything aima needs to run one engine type; built-in values overridden by config and env.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngineSpec {
    pub engine: EngineType,
    pub image: String,
    /// Host port given to new services when `--port` is absent.
    pub default_port: HostPort,
    /// Port the engine listens on inside its container.
    pub container_port: u16,
    pub health_path: String,
    /// Whether new services get GPUs when neither `--gpus` nor [`EngineSpec::gpus`] says which.
    pub gpu: bool,
    /// The GPUs new services get when `--gpus` is absent (`[engines.<type>] gpus`); beats `gpu`.
    pub gpus: Option<Gpus>,
    /// Free GPU memory (bytes) the engine needs on each of its devices to load; a start is
    /// refused when the host shows less. `None`: not checked.
    pub gpu_memory_bytes: Option<u64>,
    pub start_attempts: u32,
    pub backoff_ms: u64,
    /// Seconds a graceful stop waits after SIGTERM before it kills the engine.
    pub stop_secs: u32,
    pub extra_args: Vec<String>,
    /// When `service start` pulls the image.
    pub pull: PullPolicy,
    /// Container limits; see [`EngineLimits`].
    pub limits: EngineLimits,
    /// Host address new services publish on when `--bind` is absent: loopback by default.
    pub bind: IpAddr,
    /// The key clients must present (vLLM, llama.cpp), handed over in the engine's environment.
    pub api_key: Option<Secret>,
    /// A Hugging Face token for gated repositories (`HF_TOKEN` of the operator's environment, or
    /// `hf_token` in config), handed to engines that download from Hugging Face.
    pub hf_token: Option<Secret>,
    /// Size of the container's `/dev/shm` in bytes; `None`: Docker's 64 MB default. vLLM needs
    /// more for its workers' shared tensors.
    pub shm_bytes: Option<u64>,
    /// The restart policy new services get when `--restart` is absent: `no` by default.
    pub restart: RestartPolicy,
    /// Seconds between the daemon's probes of a running engine's health path; 0: not probed.
    pub liveness_secs: u32,
    /// Probes failed in a row after which the engine is taken for dead.
    pub liveness_failures: u32,
}

/// Seconds between liveness probes unless `liveness_secs` says otherwise.
pub const DEFAULT_LIVENESS_SECS: u32 = 10;
/// Failed probes in a row that mark an engine dead unless `liveness_failures` says otherwise.
pub const DEFAULT_LIVENESS_FAILURES: u32 = 3;

/// What an engine is told to load, as decided at service create and start
/// (`lifecycle::model_ref`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelRef {
    /// A path inside the container (under [`crate::runtime::MOUNT_TARGET`]).
    Mounted(String),
    /// A repository id the engine downloads into its cache (vLLM `--model`, llama.cpp `-hf`).
    Repository(String),
    /// A model name pulled into the engine through its API after it is healthy (Ollama).
    Pulled(String),
}

/// Where an engine keeps downloaded models inside its container: a named Docker volume per
/// engine type is mounted there, so a restart finds what an earlier start downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineCache {
    pub target: &'static str,
    /// An environment variable pointing the engine at `target`, when its default differs.
    pub env: Option<&'static str>,
}

/// What an engine container may use. Engines run models of very different sizes, so the memory
/// default follows the Docker host: three quarters of its memory, leaving the rest to the host
/// and its other tenants. Everything else has a fixed default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngineLimits {
    /// Memory limit in bytes (swap included: none beyond it); `None`: 3/4 of the host's memory.
    pub memory_bytes: Option<u64>,
    /// Most processes and threads at once.
    pub pids: u32,
    /// Engine logs rotate at this size (bytes), keeping this many files.
    pub log_max_bytes: u64,
    pub log_max_files: u32,
}

impl Default for EngineLimits {
    fn default() -> Self {
        EngineLimits {
            memory_bytes: None,
            pids: 4096,
            log_max_bytes: 10 * 1024 * 1024,
            log_max_files: 3,
        }
    }
}

impl EngineLimits {
    /// The memory limit on a Docker host with `host_memory` bytes.
    pub fn memory_on(&self, host_memory: u64) -> u64 {
        self.memory_bytes.unwrap_or(host_memory / 4 * 3)
    }
}

/// The largest size aima accepts, in bytes: Docker keeps sizes as signed 64-bit numbers, so a
/// larger one would reach it negative (18446744073709551615 would read as -1, "no limit").
pub const MAX_SIZE: u64 = i64::MAX as u64;

/// Docker refuses a container memory limit below 6 MiB.
pub const MIN_MEMORY: u64 = 6 << 20;

/// Parses a size as Docker writes them: bytes, or a number with `k`, `m` or `g` (powers of 1024,
/// case-insensitive, an optional trailing `b`), from 1 byte to [`MAX_SIZE`].
pub fn parse_size(text: &str) -> Option<u64> {
    let lower = text.trim().to_ascii_lowercase();
    let lower = lower.strip_suffix('b').unwrap_or(&lower);
    let (digits, unit) = match lower.char_indices().last()? {
        (i, 'k') => (&lower[..i], 1u64 << 10),
        (i, 'm') => (&lower[..i], 1 << 20),
        (i, 'g') => (&lower[..i], 1 << 30),
        _ => (lower, 1),
    };
    digits
        .parse::<u64>()
        .ok()?
        .checked_mul(unit)
        .filter(|n| (1..=MAX_SIZE).contains(n))
}

/// A size the way [`parse_size`] reads it, in the largest unit that divides it (`64m`, `2g`).
pub fn size_text(bytes: u64) -> String {
    [(30, "g"), (20, "m"), (10, "k")]
        .into_iter()
        .find(|(shift, _)| bytes >= 1 << shift && bytes % (1 << shift) == 0)
        .map_or_else(
            || bytes.to_string(),
            |(shift, unit)| format!("{}{unit}", bytes >> shift),
        )
}

/// A value that is never shown: `Debug` and serialisation print a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("<redacted>")
    }
}

impl EngineSpec {
    pub fn builtin(engine: EngineType) -> Self {
        let (image, port, health, gpu) = match engine {
            EngineType::Vllm => ("vllm/vllm-openai:latest", 8000, "/health", true),
            EngineType::Ollama => ("ollama/ollama:latest", 11434, "/api/version", false),
            EngineType::Llamacpp => ("ghcr.io/ggml-org/llama.cpp:server", 8080, "/health", false),
        };
        EngineSpec {
            engine,
            image: image.to_owned(),
            default_port: HostPort::new(port).expect("engines listen on a named port"),
            container_port: port,
            health_path: health.to_owned(),
            gpu,
            gpus: None,
            gpu_memory_bytes: None,
            start_attempts: 3,
            backoff_ms: 500,
            stop_secs: DEFAULT_STOP_SECS,
            extra_args: Vec::new(),
            pull: PullPolicy::Missing,
            limits: EngineLimits::default(),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            api_key: None,
            hf_token: None,
            shm_bytes: (engine == EngineType::Vllm).then_some(VLLM_SHM_BYTES),
            restart: RestartPolicy::No,
            liveness_secs: DEFAULT_LIVENESS_SECS,
            liveness_failures: DEFAULT_LIVENESS_FAILURES,
        }
    }

    /// The GPUs a new service of this engine gets when it names none.
    pub fn default_gpus(&self) -> Gpus {
        match (&self.gpus, self.gpu) {
            (Some(gpus), _) => gpus.clone(),
            (None, true) => Gpus::All,
            (None, false) => Gpus::None,
        }
    }

    /// Where this engine's downloads live inside its container.
    pub fn cache(&self) -> EngineCache {
        match self.engine {
            EngineType::Vllm => EngineCache {
                target: "/root/.cache/huggingface",
                env: None,
            },
            EngineType::Llamacpp => EngineCache {
                target: "/cache/llama.cpp",
                env: Some("LLAMA_CACHE"),
            },
            EngineType::Ollama => EngineCache {
                target: "/root/.ollama",
                env: None,
            },
        }
    }

    /// Arguments handed to the image's own entrypoint.
    pub fn container_args(&self, model: &ModelRef) -> Vec<String> {
        let port = self.container_port.to_string();
        let owned = |args: &[&str]| args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
        let mut args = match (self.engine, model) {
            // The ollama image's entrypoint is `ollama`; its address comes from OLLAMA_HOST, and
            // its model is pulled through the API once it is up.
            (EngineType::Ollama, _) => owned(&["serve"]),
            (
                EngineType::Vllm,
                ModelRef::Mounted(m) | ModelRef::Repository(m) | ModelRef::Pulled(m),
            ) => owned(&["--model", m, "--port", &port, "--host", "0.0.0.0"]),
            // The llama.cpp image sets LLAMA_ARG_HOST=0.0.0.0 itself: no `--host`.
            (EngineType::Llamacpp, ModelRef::Repository(repo)) => {
                owned(&["-hf", repo, "--port", &port])
            }
            (EngineType::Llamacpp, ModelRef::Mounted(m) | ModelRef::Pulled(m)) => {
                owned(&["--model", m, "--port", &port])
            }
        };
        args.extend(self.extra_args.iter().cloned());
        args
    }

    /// The engine listens on every address *inside* its container; what the host exposes is
    /// decided by the published address ([`EngineSpec::bind`]).
    /// Secrets go in the environment rather than in arguments, so `ps` on the host cannot show
    /// them.
    pub fn container_env(&self) -> Vec<String> {
        let mut env = match self.engine {
            EngineType::Ollama => vec![format!("OLLAMA_HOST=0.0.0.0:{}", self.container_port)],
            EngineType::Vllm => self.api_key_env("VLLM_API_KEY"),
            EngineType::Llamacpp => self.api_key_env("LLAMA_API_KEY"),
        };
        let cache = self.cache();
        if let Some(var) = cache.env {
            env.push(format!("{var}={}", cache.target));
        }
        if self.engine != EngineType::Ollama
            && let Some(token) = &self.hf_token
        {
            env.push(format!("HF_TOKEN={}", token.expose()));
        }
        env
    }

    fn api_key_env(&self, var: &str) -> Vec<String> {
        self.api_key
            .iter()
            .map(|key| format!("{var}={}", key.expose()))
            .collect()
    }

    /// Whether the engine can require an API key (Ollama cannot).
    pub fn takes_api_key(&self) -> bool {
        self.engine != EngineType::Ollama
    }

    /// Pause before attempt `n + 1` (n ≥ 1): doubling from `backoff_ms`, capped at 5 s.
    pub fn backoff(&self, n: u32) -> Duration {
        let ms = self
            .backoff_ms
            .saturating_mul(1u64 << (n.saturating_sub(1)).min(10));
        Duration::from_millis(ms.min(5_000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vllm_gets_vllm_style_arguments() {
        let spec = EngineSpec::builtin(EngineType::Vllm);
        assert_eq!(spec.default_port, 8000);
        assert_eq!(
            spec.container_args(&ModelRef::Repository("tinyllama".into())),
            [
                "--model",
                "tinyllama",
                "--port",
                "8000",
                "--host",
                "0.0.0.0"
            ]
        );
    }

    #[test]
    fn engines_publish_on_loopback_unless_configured() {
        for engine in EngineType::ALL {
            assert_eq!(
                EngineSpec::builtin(engine).bind,
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            );
        }
    }

    #[test]
    fn the_vllm_api_key_goes_to_the_environment_and_is_never_shown() {
        let mut spec = EngineSpec::builtin(EngineType::Vllm);
        assert!(spec.container_env().is_empty());
        spec.api_key = Some(Secret::new("s3cret-key".to_owned()));
        assert_eq!(spec.container_env(), ["VLLM_API_KEY=s3cret-key"]);
        assert!(
            !spec
                .container_args(&ModelRef::Repository("m".into()))
                .concat()
                .contains("s3cret")
        );
        assert!(!format!("{spec:?}").contains("s3cret"));
        assert!(!serde_json::to_string(&spec).unwrap().contains("s3cret"));
    }

    #[test]
    fn llama_cpp_gets_a_file_or_a_repository_and_no_duplicate_host() {
        let spec = EngineSpec::builtin(EngineType::Llamacpp);
        assert_eq!(
            spec.container_args(&ModelRef::Mounted("/model/tiny.gguf".into())),
            ["--model", "/model/tiny.gguf", "--port", "8080"]
        );
        assert_eq!(
            spec.container_args(&ModelRef::Repository("org/repo-GGUF".into())),
            ["-hf", "org/repo-GGUF", "--port", "8080"]
        );
        assert_eq!(spec.container_env(), ["LLAMA_CACHE=/cache/llama.cpp"]);
    }

    #[test]
    fn the_hf_token_reaches_hugging_face_engines_only_and_is_never_shown() {
        for engine in EngineType::ALL {
            let mut spec = EngineSpec::builtin(engine);
            spec.hf_token = Some(Secret::new("hf_secret".to_owned()));
            let env = spec.container_env().join(" ");
            assert_eq!(
                env.contains("HF_TOKEN=hf_secret"),
                engine != EngineType::Ollama,
                "{engine}"
            );
            assert!(!format!("{spec:?}").contains("hf_secret"));
            assert!(!serde_json::to_string(&spec).unwrap().contains("hf_secret"));
        }
    }

    #[test]
    fn only_vllm_gets_a_larger_shared_memory_by_default() {
        let shm: Vec<Option<u64>> = EngineType::ALL
            .iter()
            .map(|e| EngineSpec::builtin(*e).shm_bytes)
            .collect();
        assert_eq!(shm, [Some(VLLM_SHM_BYTES), None, None]);
    }

    #[test]
    fn sizes_read_as_docker_writes_them() {
        assert_eq!(parse_size("512m"), Some(512 << 20));
        assert_eq!(parse_size("16G"), Some(16 << 30));
        assert_eq!(parse_size("10mb"), Some(10 << 20));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("9223372036854775807"), Some(MAX_SIZE));
        assert_eq!(parse_size("8589934591g"), Some(8_589_934_591 << 30));
        for bad in [
            "",
            "0",
            "m",
            "-1g",
            "1.5g",
            "12t",
            "18446744073709551615",
            "9223372036854775808",
            "8589934592g",
        ] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
        for text in ["64m", "2g", "1536m", "3k", "1000"] {
            assert_eq!(size_text(parse_size(text).unwrap()), text);
        }
    }

    #[test]
    fn memory_defaults_to_three_quarters_of_the_host() {
        let mut limits = EngineLimits::default();
        assert_eq!(limits.memory_on(16 << 30), 12 << 30);
        limits.memory_bytes = Some(1 << 30);
        assert_eq!(limits.memory_on(16 << 30), 1 << 30);
    }

    #[test]
    fn default_ports_follow_the_engines() {
        let ports: Vec<u16> = EngineType::ALL
            .iter()
            .map(|e| EngineSpec::builtin(*e).default_port.get())
            .collect();
        assert_eq!(ports, [8000, 11434, 8080]);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let spec = EngineSpec::builtin(EngineType::Vllm);
        assert_eq!(spec.backoff(1), Duration::from_millis(500));
        assert_eq!(spec.backoff(2), Duration::from_millis(1000));
        assert_eq!(spec.backoff(30), Duration::from_millis(5000));
    }
}
