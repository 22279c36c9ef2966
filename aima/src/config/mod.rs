//! Configuration: the process environment read once ([`Env`]), the data dir, `config.toml` in
//! it, and `AIMA_*` overrides, validated into one [`Config`] that everything downstream takes.

mod env;
mod error;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

pub use env::Env;
pub use error::ConfigError;

use crate::domain::{EngineSpec, EngineType, PullPolicy};
use crate::error::Detail;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:9090";

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    /// Distinguishes containers of two data dirs sharing one Docker daemon (`aima.instance`).
    pub instance: String,
    pub engines: BTreeMap<EngineType, EngineSpec>,
    pub api_listen: String,
    pub api_token: Option<String>,
    /// Whether the TCP listener requires a token (`[api] auth`, `AIMA_API_AUTH`).
    pub api_auth: ApiAuth,
    /// The environment the configuration was read from; the daemon's timing knobs and
    /// `DOCKER_HOST` are parsed from it where they are used, so a bad value fails only the
    /// command that needs it.
    pub env: Env,
}

/// `token` (the default: the operator's, or one generated into the data dir) or `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiAuth {
    #[default]
    Token,
    None,
}

impl ApiAuth {
    fn from_env(value: &str) -> Result<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "token" => Ok(ApiAuth::Token),
            "none" => Ok(ApiAuth::None),
            _ => Err(ConfigError::BadValue {
                var: "AIMA_API_AUTH".to_owned(),
                expected: "\"token\" or \"none\"".to_owned(),
                value: value.to_owned(),
            }),
        }
    }
}

type Result<T, E = ConfigError> = std::result::Result<T, E>;

/// The file's shape; unknown keys are refused so a typo does not silently do nothing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    api: FileApi,
    #[serde(default)]
    engines: BTreeMap<String, FileEngine>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileApi {
    listen: Option<String>,
    token: Option<String>,
    auth: Option<ApiAuth>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEngine {
    image: Option<String>,
    gpu: Option<bool>,
    port: Option<u16>,
    health_path: Option<String>,
    start_attempts: Option<u32>,
    backoff_ms: Option<u64>,
    extra_args: Option<Vec<String>>,
    pull: Option<String>,
}

impl Config {
    /// Loads from the environment: the data dir (`AIMA_DATA_DIR`, else `~/.aima`), its file,
    /// then `AIMA_<ENGINE>_*` and `AIMA_API_TOKEN`.
    pub fn from_env(env: Env) -> Result<Self> {
        let data_dir = match (env.get("AIMA_DATA_DIR"), env.get("HOME")) {
            (Some(dir), _) => PathBuf::from(dir),
            (None, Some(home)) => PathBuf::from(home).join(".aima"),
            (None, None) => return Err(ConfigError::NoDataDir),
        };
        Self::load(&data_dir, env)
    }

    pub fn load(data_dir: &Path, env: Env) -> Result<Self> {
        ensure_data_dir(data_dir)?;
        let path = data_dir.join("config.toml");
        let file = read_file_config(&path)?;
        if let Some(name) = file.engines.keys().find(|n| EngineType::parse(n).is_none()) {
            return Err(ConfigError::UnknownEngine {
                path,
                name: name.clone(),
            });
        }
        let mut engines = BTreeMap::new();
        for engine in EngineType::ALL {
            let mut spec = EngineSpec::builtin(engine);
            if let Some(o) = file.engines.get(engine.as_str()) {
                apply_file(&mut spec, o)?;
            }
            apply_env(&mut spec, &env)?;
            engines.insert(engine, spec);
        }
        Ok(Config {
            instance: instance_of(data_dir),
            data_dir: data_dir.to_owned(),
            engines,
            api_listen: file.api.listen.unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
            api_token: env
                .get("AIMA_API_TOKEN")
                .map(str::to_owned)
                .or(file.api.token)
                .filter(|t| !t.trim().is_empty()),
            api_auth: match env.get("AIMA_API_AUTH") {
                Some(value) => ApiAuth::from_env(value)?,
                None => file.api.auth.unwrap_or_default(),
            },
            env,
        })
    }

    pub fn engine(&self, engine: EngineType) -> &EngineSpec {
        &self.engines[&engine]
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("aima.db")
    }
}

/// Creates the data dir (mode 0700: it holds the API token and state) and proves it writable.
fn ensure_data_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    let unusable = |source| ConfigError::DataDir {
        dir: dir.to_owned(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(unusable)?;
    let probe = dir.join(format!(".write-test-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(unusable)?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

fn read_file_config(path: &Path) -> Result<FileConfig> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileConfig::default()),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    toml::from_str(&text).map_err(|e| {
        let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
        ConfigError::Malformed {
            path: path.to_owned(),
            at: line.map(|l| format!(" at line {l}")).unwrap_or_default(),
            detail: Detail(e.message().to_owned()),
        }
    })
}

fn apply_file(spec: &mut EngineSpec, o: &FileEngine) -> Result<()> {
    if let Some(v) = &o.image {
        spec.image = v.clone();
    }
    if let Some(v) = o.gpu {
        spec.gpu = v;
    }
    if let Some(v) = o.port {
        spec.default_port = v;
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
    if let Some(v) = &o.pull {
        spec.pull = pull_policy(format!("engines.{}.pull in config.toml", spec.engine), v)?;
    }
    Ok(())
}

/// `missing`, `always` or `never`; `var` names where the value came from.
fn pull_policy(var: String, value: &str) -> Result<PullPolicy> {
    PullPolicy::parse(value).ok_or_else(|| ConfigError::BadValue {
        var,
        expected: "missing, always or never".to_owned(),
        value: value.to_owned(),
    })
}

fn apply_env(spec: &mut EngineSpec, env: &Env) -> Result<()> {
    let prefix = spec.engine.env_prefix();
    let bad = |var: String, expected: &str, value: &str| ConfigError::BadValue {
        var,
        expected: expected.to_owned(),
        value: value.to_owned(),
    };
    if let Some(image) = env.get(&format!("{prefix}_IMAGE")) {
        spec.image = image.to_owned();
    }
    let var = format!("{prefix}_GPU");
    if let Some(gpu) = env.get(&var) {
        spec.gpu = match gpu.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => return Err(bad(var, "true or false", gpu)),
        };
    }
    let var = format!("{prefix}_PORT");
    if let Some(port) = env.get(&var) {
        spec.default_port = match port.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err(bad(var, "a port between 1 and 65535", port)),
        };
    }
    let var = format!("{prefix}_PULL");
    if let Some(pull) = env.get(&var) {
        spec.pull = pull_policy(var, pull)?;
    }
    Ok(())
}

/// A short stable hash of the data dir's canonical path.
fn instance_of(dir: &Path) -> String {
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
    let digest = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Classified, Kind};

    fn no_env() -> Env {
        Env::default()
    }

    #[test]
    fn env_overrides_beat_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "[engines.vllm]\nimage = \"from-file\"\ngpu = true\n",
        )
        .unwrap();
        let env = Env::from_pairs([("AIMA_VLLM_IMAGE", "from-env"), ("AIMA_VLLM_GPU", "false")]);
        let cfg = Config::load(dir.path(), env).unwrap();
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
        let err = Config::load(dir.path(), no_env()).unwrap_err().to_string();
        assert!(err.contains("config.toml is malformed at line 3"), "{err}");
    }

    #[test]
    fn unknown_keys_and_engines_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "[engines.vllm]\nimgae = \"typo\"\n",
        )
        .unwrap();
        assert!(Config::load(dir.path(), no_env()).is_err());
        std::fs::write(
            dir.path().join("config.toml"),
            "[engines.tgi]\nimage = \"x\"\n",
        )
        .unwrap();
        assert!(
            Config::load(dir.path(), no_env())
                .unwrap_err()
                .to_string()
                .contains("unknown engine")
        );
    }

    #[test]
    fn bad_env_values_are_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env::from_pairs([("AIMA_VLLM_PORT", "70000")]);
        assert_eq!(
            Config::load(dir.path(), env).unwrap_err().kind(),
            Kind::Usage
        );
    }

    #[test]
    fn instance_is_stable_per_dir() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        assert_eq!(instance_of(a.path()), instance_of(a.path()));
        assert_ne!(instance_of(a.path()), instance_of(b.path()));
    }
}
