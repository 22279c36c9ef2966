//! Configuration: the data dir, `config.toml` in it, and `AIMA_*` environment overrides.
//! Read and validated once per process; everything downstream takes the resulting [`Config`].

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::num::NonZeroU16;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::engine::{EngineSpec, EngineType, Secret};
use crate::error::{Error, Result};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:9090";

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    /// Distinguishes containers of two data dirs sharing one Docker daemon (`aima.instance`):
    /// the random id in `<data dir>/instance-id`.
    pub instance: String,
    /// The path-hash label of containers created before the id existed (see [`crate::instance`]).
    pub legacy_instance: Option<String>,
    pub engines: BTreeMap<EngineType, EngineSpec>,
    pub api_listen: String,
    pub api_token: Option<String>,
    /// Directories under which local models may live (`[models] roots`, `AIMA_MODEL_ROOTS`).
    pub model_roots: Vec<PathBuf>,
}

/// The file's shape; unknown keys are refused so a typo does not silently do nothing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    api: FileApi,
    #[serde(default)]
    engines: BTreeMap<String, FileEngine>,
    #[serde(default)]
    models: FileModels,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileModels {
    roots: Option<Vec<PathBuf>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileApi {
    listen: Option<String>,
    token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEngine {
    image: Option<String>,
    gpu: Option<bool>,
    /// Non-zero, so `port = 0` is refused with the file's line like any other bad value.
    port: Option<NonZeroU16>,
    bind: Option<IpAddr>,
    api_key: Option<String>,
    health_path: Option<String>,
    start_attempts: Option<u32>,
    backoff_ms: Option<u64>,
    extra_args: Option<Vec<String>>,
}

impl Config {
    /// Loads from the process environment (`AIMA_DATA_DIR`, `AIMA_<ENGINE>_*`, `AIMA_API_TOKEN`).
    pub fn from_env() -> Result<Self> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let data_dir = match env("AIMA_DATA_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => default_data_dir()?,
        };
        Self::load(&data_dir, &env)
    }

    pub fn load(data_dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        ensure_data_dir(data_dir)?;
        let file = read_file_config(&data_dir.join("config.toml"))?;
        let mut engines = BTreeMap::new();
        if let Some(name) = file.engines.keys().find(|n| EngineType::parse(n).is_none()) {
            let path = data_dir.join("config.toml");
            return Err(Error::storage(format!(
                "config file {} names an unknown engine [engines.{name}]",
                path.display()
            ))
            .with_help("known engines are vllm, ollama and llamacpp"));
        }
        for engine in EngineType::ALL {
            let mut spec = EngineSpec::builtin(engine);
            if let Some(o) = file.engines.get(engine.as_str()) {
                apply_file(&mut spec, o);
            }
            apply_env(&mut spec, env)?;
            if spec.api_key.is_some() && !spec.takes_api_key() {
                return Err(Error::usage(format!(
                    "engine {engine} has no API key setting, but one is configured"
                ))
                .with_help(format!(
                    "remove api_key from [engines.{engine}] and {}_API_KEY",
                    engine.env_prefix()
                )));
            }
            engines.insert(engine, spec);
        }
        let model_roots = match env("AIMA_MODEL_ROOTS") {
            Some(list) => list.split(':').map(PathBuf::from).collect(),
            None => file
                .models
                .roots
                .unwrap_or_else(|| vec![data_dir.join("models")]),
        };
        if let Some(root) = model_roots.iter().find(|r| !r.is_absolute()) {
            return Err(Error::usage(format!(
                "model root {} must be an absolute path",
                root.display()
            ))
            .with_help("fix [models] roots in config.toml or AIMA_MODEL_ROOTS"));
        }
        let identity = crate::instance::load_or_create(data_dir)?;
        Ok(Config {
            model_roots,
            instance: identity.id,
            legacy_instance: identity.legacy,
            data_dir: data_dir.to_owned(),
            engines,
            api_listen: file.api.listen.unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
            api_token: env("AIMA_API_TOKEN").or(file.api.token),
        })
    }

    pub fn engine(&self, engine: EngineType) -> &EngineSpec {
        &self.engines[&engine]
    }

    /// Whether an `aima.instance` label is this data dir's, current or legacy.
    pub fn owns_instance(&self, label: &str) -> bool {
        label == self.instance || self.legacy_instance.as_deref() == Some(label)
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("aima.db")
    }
}

fn default_data_dir() -> Result<PathBuf> {
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".aima"))
        .ok_or_else(|| {
            Error::storage("cannot find a data dir: neither AIMA_DATA_DIR nor HOME is set")
                .with_help("set AIMA_DATA_DIR to a writable directory")
        })
}

/// Creates the data dir (mode 0700: it holds the API token and state) and proves it writable.
fn ensure_data_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    let unwritable = |e: std::io::Error| {
        Error::storage(format!("data dir {} is not usable", dir.display()))
            .caused_by(e)
            .with_help("set AIMA_DATA_DIR to a directory you can write, or fix its permissions")
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(unwritable)?;
    let probe = dir.join(format!(".write-test-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(unwritable)?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

fn read_file_config(path: &Path) -> Result<FileConfig> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileConfig::default()),
        Err(e) => {
            return Err(
                Error::storage(format!("cannot read config file {}", path.display())).caused_by(e),
            );
        }
    };
    toml::from_str(&text).map_err(|e| {
        let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
        let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
        Error::storage(format!("config file {} is malformed{at}", path.display()))
            .caused_by(e.message())
            .with_help("fix the file (see the README's Configuration section) or move it away")
    })
}

fn apply_file(spec: &mut EngineSpec, o: &FileEngine) {
    if let Some(v) = &o.image {
        spec.image = v.clone();
    }
    if let Some(v) = o.gpu {
        spec.gpu = v;
    }
    if let Some(v) = o.port {
        spec.default_port = v.get();
    }
    if let Some(v) = o.bind {
        spec.bind = v;
    }
    if let Some(v) = &o.api_key {
        spec.api_key = Some(Secret::new(v.clone()));
    }
    if let Some(v) = &o.health_path {
        spec.health_path = v.clone();
    }
    if let Some(v) = o.start_attempts {
        spec.start_attempts = v.clamp(1, 10);
    }
    if let Some(v) = o.backoff_ms {
        spec.backoff_ms = v;
    }
    if let Some(v) = &o.extra_args {
        spec.extra_args = v.clone();
    }
}

fn apply_env(spec: &mut EngineSpec, env: &dyn Fn(&str) -> Option<String>) -> Result<()> {
    let prefix = spec.engine.env_prefix();
    if let Some(image) = env(&format!("{prefix}_IMAGE")) {
        spec.image = image;
    }
    if let Some(gpu) = env(&format!("{prefix}_GPU")) {
        spec.gpu = match gpu.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => {
                return Err(Error::usage(format!(
                    "{prefix}_GPU must be true or false, not {gpu:?}"
                )));
            }
        };
    }
    if let Some(port) = env(&format!("{prefix}_PORT")) {
        spec.default_port = match port.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => {
                return Err(Error::usage(format!(
                    "{prefix}_PORT must be a port between 1 and 65535, not {port:?}"
                )));
            }
        };
    }
    if let Some(bind) = env(&format!("{prefix}_BIND")) {
        spec.bind = bind.parse().map_err(|_| {
            Error::usage(format!(
                "{prefix}_BIND must be an IP address such as 127.0.0.1 or 0.0.0.0, not {bind:?}"
            ))
        })?;
    }
    if let Some(key) = env(&format!("{prefix}_API_KEY")) {
        spec.api_key = Some(Secret::new(key));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn env_overrides_beat_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "[engines.vllm]\nimage = \"from-file\"\ngpu = true\n",
        )
        .unwrap();
        let env = |k: &str| match k {
            "AIMA_VLLM_IMAGE" => Some("from-env".to_owned()),
            "AIMA_VLLM_GPU" => Some("false".to_owned()),
            _ => None,
        };
        let cfg = Config::load(dir.path(), &env).unwrap();
        let vllm = cfg.engine(EngineType::Vllm);
        assert_eq!((vllm.image.as_str(), vllm.gpu), ("from-env", false));
        assert_eq!(cfg.engine(EngineType::Ollama).image, "ollama/ollama:latest");
    }

    #[test]
    fn malformed_file_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "[engines.vllm]\nimage = \"ok\"\ngpu = maybe\n",
        )
        .unwrap();
        let err = Config::load(dir.path(), &no_env).unwrap_err();
        assert!(
            err.message.contains("config.toml is malformed at line 3"),
            "{}",
            err.message
        );
    }

    #[test]
    fn unknown_keys_and_engines_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "[engines.vllm]\nimgae = \"typo\"\n",
        )
        .unwrap();
        assert!(Config::load(dir.path(), &no_env).is_err());
        std::fs::write(
            dir.path().join("config.toml"),
            "[engines.tgi]\nimage = \"x\"\n",
        )
        .unwrap();
        assert!(
            Config::load(dir.path(), &no_env)
                .unwrap_err()
                .message
                .contains("unknown engine")
        );
    }

    #[test]
    fn bad_env_values_are_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let env = |k: &str| (k == "AIMA_VLLM_PORT").then(|| "70000".to_owned());
        assert_eq!(
            Config::load(dir.path(), &env).unwrap_err().code,
            crate::error::Kind::Usage
        );
    }

    #[test]
    fn port_zero_in_the_file_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "[engines.vllm]\nimage = \"ok\"\nport = 0\n",
        )
        .unwrap();
        let err = Config::load(dir.path(), &no_env).unwrap_err();
        assert_eq!(err.code, crate::error::Kind::Storage);
        assert!(
            err.message.contains("config.toml is malformed at line 3"),
            "{}",
            err.message
        );
    }

    #[test]
    fn bind_and_api_key_come_from_file_and_env() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "[engines.vllm]\nbind = \"0.0.0.0\"\napi_key = \"from-file\"\n",
        )
        .unwrap();
        let cfg = Config::load(dir.path(), &no_env).unwrap();
        let vllm = cfg.engine(EngineType::Vllm);
        assert_eq!(vllm.bind.to_string(), "0.0.0.0");
        assert_eq!(vllm.api_key.as_ref().unwrap().expose(), "from-file");
        assert_eq!(cfg.engine(EngineType::Ollama).bind.to_string(), "127.0.0.1");
        let env = |k: &str| match k {
            "AIMA_VLLM_BIND" => Some("::1".to_owned()),
            "AIMA_VLLM_API_KEY" => Some("from-env".to_owned()),
            _ => None,
        };
        let cfg = Config::load(dir.path(), &env).unwrap();
        let vllm = cfg.engine(EngineType::Vllm);
        assert_eq!(vllm.bind.to_string(), "::1");
        assert_eq!(vllm.api_key.as_ref().unwrap().expose(), "from-env");
    }

    #[test]
    fn bad_bind_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let env = |k: &str| (k == "AIMA_OLLAMA_BIND").then(|| "localhost".to_owned());
        let err = Config::load(dir.path(), &env).unwrap_err();
        assert_eq!(err.code, crate::error::Kind::Usage);
        std::fs::write(
            dir.path().join("config.toml"),
            "[engines.vllm]\n\nbind = \"everywhere\"\n",
        )
        .unwrap();
        let err = Config::load(dir.path(), &no_env).unwrap_err();
        assert!(err.message.contains("at line 3"), "{}", err.message);
        std::fs::write(
            dir.path().join("config.toml"),
            "[engines.ollama]\napi_key = \"k\"\n",
        )
        .unwrap();
        let err = Config::load(dir.path(), &no_env).unwrap_err();
        assert!(err.message.contains("no API key"), "{}", err.message);
    }
}
