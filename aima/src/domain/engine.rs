//! The catalog of engine types: image, ports, health path, container arguments, GPU and retries.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::pull::PullPolicy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

/// Everything aima needs to run one engine type; built-in values overridden by config and env.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngineSpec {
    pub engine: EngineType,
    pub image: String,
    /// Host port given to new services when `--port` is absent.
    pub default_port: u16,
    /// Port the engine listens on inside its container.
    pub container_port: u16,
    pub health_path: String,
    pub gpu: bool,
    pub start_attempts: u32,
    pub backoff_ms: u64,
    pub extra_args: Vec<String>,
    /// When `service start` pulls the image.
    pub pull: PullPolicy,
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
            default_port: port,
            container_port: port,
            health_path: health.to_owned(),
            gpu,
            start_attempts: 3,
            backoff_ms: 500,
            extra_args: Vec::new(),
            pull: PullPolicy::Missing,
        }
    }

    /// Arguments handed to the image's own entrypoint. `model` is a repo id or a mounted path.
    pub fn container_args(&self, model: &str) -> Vec<String> {
        let mut args = match self.engine {
            // The ollama image's entrypoint is `ollama`; its address comes from OLLAMA_HOST.
            EngineType::Ollama => vec!["serve".to_owned()],
            EngineType::Vllm | EngineType::Llamacpp => vec![
                "--model".to_owned(),
                model.to_owned(),
                "--port".to_owned(),
                self.container_port.to_string(),
                "--host".to_owned(),
                "0.0.0.0".to_owned(),
            ],
        };
        args.extend(self.extra_args.iter().cloned());
        args
    }

    pub fn container_env(&self) -> Vec<String> {
        match self.engine {
            EngineType::Ollama => vec![format!("OLLAMA_HOST=0.0.0.0:{}", self.container_port)],
            _ => Vec::new(),
        }
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
            spec.container_args("tinyllama"),
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
    fn default_ports_follow_the_engines() {
        let ports: Vec<u16> = EngineType::ALL
            .iter()
            .map(|e| EngineSpec::builtin(*e).default_port)
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
