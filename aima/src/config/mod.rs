//! Configuration: the process environment read once ([`Env`]), the data dir, `config.toml` in
//! it, and `AIMA_*` overrides, validated into one [`Config`] that everything downstream takes.

mod disk;
pub mod engine_settings;
mod env;
mod error;
mod private;
mod quota;
mod runtime;
mod sources;
mod supervision;
mod access;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use disk::DiskLimits;
#[cfg(any(test, feature = "test-support"))]
pub use disk::{DEFAULT_DATA_MIN_FREE, DEFAULT_DOCKER_MIN_FREE};
pub use env::Env;
pub use error::ConfigError;
pub use runtime::{RuntimeKind, RuntimeSettings};
pub use sources::{Source, Sources};
pub use supervision::Supervision;
pub use access::{Access, LogAccess};

use crate::domain::{EngineSpec, EngineType};
use engine_settings::Raw;
use crate::error::Detail;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:9090";
/// A claim lapses after this long without a heartbeat; the owner renews it every third of it.
pub const DEFAULT_LEASE: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    /// Distinguishes containers of two data dirs sharing one Docker daemon (`aima.instance`):
    /// the random id in `<data dir>/instance-id`.
    pub instance: String,
    /// The path-hash label of containers created before the id existed (see [`crate::instance`]).
    pub legacy_instance: Option<String>,
    /// Directories under which local models may live (`[models] roots`, `AIMA_MODEL_ROOTS`).
    pub model_roots: Vec<PathBuf>,
    /// How long a start's or stop's claim holds without a heartbeat (`AIMA_LEASE_SECS`).
    pub lease: std::time::Duration,
    /// Free space kept on the data dir's disk and on Docker's data root (`[disk]`).
    pub disk: DiskLimits,
    pub engines: BTreeMap<EngineType, EngineSpec>,
    pub api_listen: String,
    pub api_token: Option<String>,
    /// Whether the TCP listener requires a token (`[api] auth`, `AIMA_API_AUTH`).
    pub api_auth: ApiAuth,
    /// The group that may use the daemon's socket (`[api] socket_group`): `None` when unset
    /// (the daemon then uses the group `aima` if the system has one), `Some("")` for none.
    pub socket_group: Option<String>,
    /// Which runtime runs the engines (`[runtime]`, `AIMA_RUNTIME`).
    pub runtime: RuntimeSettings,
    /// How the daemon's supervisor paces restarts (`[supervision]`).
    pub supervision: Supervision,
    /// What each person may hold at once (`[quota.user.NAME]`, `[quota.group.NAME]`).
    pub quotas: crate::domain::Quotas,
    /// Who is an admin and who may read logs (`[access]`).
    pub access: Access,
    /// Where each setting above came from, for `aima info`.
    pub sources: Sources,
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
    #[serde(default)]
    models: FileModels,
    #[serde(default)]
    runtime: runtime::FileRuntime,
    #[serde(default)]
    disk: disk::FileDisk,
    #[serde(default)]
    supervision: supervision::FileSupervision,
    #[serde(default)]
    quota: quota::FileQuota,
    #[serde(default)]
    access: access::FileAccess,
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
    auth: Option<ApiAuth>,
    socket_group: Option<String>,
}

/// One `[engines.X]` table: each key is checked against [`engine_settings::ALL`], with the
/// place of its value kept to say which line is wrong.
type FileEngine = BTreeMap<String, toml::Spanned<toml::Value>>;

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
        let (file, text) = read_file_config(&path)?;
        if let Some(name) = file.engines.keys().find(|n| EngineType::parse(n).is_none()) {
            return Err(ConfigError::UnknownEngine {
                path,
                name: name.clone(),
            });
        }
        let mut sources = Sources::default();
        let mut engines = BTreeMap::new();
        for engine in EngineType::ALL {
            let mut spec = EngineSpec::builtin(engine);
            if let Some(o) = file.engines.get(engine.as_str()) {
                apply_file(&mut spec, o, (&path, &text), &mut sources)?;
            }
            apply_env(&mut spec, &env, &mut sources)?;
            if spec.api_key.is_some() && !spec.takes_api_key() {
                return Err(ConfigError::NoApiKey { engine });
            }
            engines.insert(engine, spec);
        }
        let api_listen = layered(
            &mut sources,
            "api.listen",
            file.api.listen,
            (&env, "AIMA_LISTEN"),
        )
        .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let api_token = layered(
            &mut sources,
            "api.token",
            file.api.token,
            (&env, "AIMA_API_TOKEN"),
        );
        let api_auth = match env.get("AIMA_API_AUTH") {
            Some(value) => {
                sources.set("api.auth", Source::Env("AIMA_API_AUTH".to_owned()));
                ApiAuth::from_env(value)?
            }
            None => {
                if file.api.auth.is_some() {
                    sources.set("api.auth", Source::File);
                }
                file.api.auth.unwrap_or_default()
            }
        };
        if file.api.socket_group.is_some() {
            sources.set("api.socket_group", Source::File);
        }
        let socket_group = file.api.socket_group;
        let model_roots = match env.get("AIMA_MODEL_ROOTS") {
            Some(list) => list.split(':').map(PathBuf::from).collect(),
            None => file
                .models
                .roots
                .unwrap_or_else(|| vec![data_dir.join("models")]),
        };
        if let Some(root) = model_roots.iter().find(|r| !r.is_absolute()) {
            return Err(ConfigError::RelativeModelRoot { root: root.clone() });
        }
        let lease = match env.get("AIMA_LEASE_SECS") {
            None => DEFAULT_LEASE,
            Some(text) => match text.parse::<u64>() {
                Ok(secs) if (1..=86_400).contains(&secs) => std::time::Duration::from_secs(secs),
                _ => {
                    return Err(ConfigError::BadValue {
                        var: "AIMA_LEASE_SECS".to_owned(),
                        expected: "whole seconds from 1 to 86400".to_owned(),
                        value: text.to_owned(),
                    });
                }
            },
        };
        let runtime = runtime::resolve(file.runtime, &env, &mut sources)?;
        let disk = DiskLimits::load(&file.disk, &env, &mut sources)?;
        let supervision = Supervision::load(&file.supervision, &mut sources);
        let quotas = quota::load(&file.quota, &path, &text)?;
        let access = Access::load(&file.access, &mut sources);
        let identity = crate::instance::load_or_create(data_dir)?;
        Ok(Config {
            model_roots,
            lease,
            disk,
            instance: identity.id,
            legacy_instance: identity.legacy,
            data_dir: data_dir.to_owned(),
            engines,
            api_listen,
            api_token: api_token.filter(|t| !t.trim().is_empty()),
            api_auth,
            socket_group,
            runtime,
            supervision,
            quotas,
            access,
            sources,
            env,
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

/// Creates the data dir (mode 0700: it holds the API token and state), refuses it when another
/// account owns or may write it or a file in it that aima reads, and proves it writable.
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
    private::check_data_dir(dir)?;
    let probe = dir.join(format!(".write-test-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(unusable)?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// The file as parsed, and its text (to say which line a bad value is on).
fn read_file_config(path: &Path) -> Result<(FileConfig, String)> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((FileConfig::default(), String::new()));
        }
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let file = toml::from_str(&text).map_err(|e| {
        let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
        ConfigError::Malformed {
            path: path.to_owned(),
            at: line.map(|l| format!(" at line {l}")).unwrap_or_default(),
            detail: Detail(e.message().to_owned()),
        }
    })?;
    Ok((file, text))
}

/// A string setting: the environment variable beats the file; records which one gave it.
fn layered(
    sources: &mut Sources,
    key: &str,
    from_file: Option<String>,
    (env, var): (&Env, &str),
) -> Option<String> {
    if let Some(v) = env.get(var) {
        sources.set(key, Source::Env(var.to_owned()));
        return Some(v.to_owned());
    }
    if from_file.is_some() {
        sources.set(key, Source::File);
    }
    from_file
}

/// The file's `[engines.X]` values onto `spec`; `text` is the file's, to say which line is
/// wrong.
fn apply_file(
    spec: &mut EngineSpec,
    table: &FileEngine,
    file: (&Path, &str),
    sources: &mut Sources,
) -> Result<()> {
    let engine = spec.engine;
    let (path, text) = file;
    for (key, value) in table {
        let malformed = |detail: String| ConfigError::Malformed {
            path: path.to_owned(),
            at: format!(" at line {}", text[..value.span().start].matches('\n').count() + 1),
            detail: Detail(detail),
        };
        let Some(setting) = engine_settings::find(key) else {
            let known: Vec<&str> = engine_settings::ALL.iter().map(|s| s.key).collect();
            return Err(malformed(format!(
                "unknown setting `{key}` in [engines.{engine}]; known are {}",
                known.join(", ")
            )));
        };
        if setting.apply(spec, Raw::File(value.get_ref())).is_none() {
            return Err(malformed(format!(
                "engines.{engine}.{key} must be {}, not {}",
                setting.takes,
                value.get_ref()
            )));
        }
        sources.set(format!("engines.{engine}.{key}"), Source::File);
    }
    Ok(())
}

/// The `AIMA_<ENGINE>_*` variables (and `HF_TOKEN`) onto `spec`.
fn apply_env(spec: &mut EngineSpec, env: &Env, sources: &mut Sources) -> Result<()> {
    let engine = spec.engine;
    for setting in engine_settings::ALL {
        let Some(var) = setting.var.name(engine) else {
            continue;
        };
        let Some(value) = env.get(&var) else {
            continue;
        };
        if setting.apply(spec, Raw::Env(value)).is_none() {
            return Err(ConfigError::BadValue {
                var,
                expected: setting.takes.to_owned(),
                value: value.to_owned(),
            });
        }
        sources.set(format!("engines.{engine}.{}", setting.key), Source::Env(var));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Gpus;
    use crate::error::{Classified, Kind};

    fn no_env() -> Env {
        Env::default()
    }

    /// A value each setting takes, as the file writes it and as its variable would.
    fn sample(key: &str) -> (&'static str, &'static str) {
        match key {
            "image" => ("\"x:1\"", "x:2"),
            "pull" => ("\"never\"", "always"),
            "gpu" => ("false", "true"),
            "gpus" => ("\"none\"", "count=1"),
            "gpu_memory" | "shm_size" | "memory" | "log_max_size" => ("\"1g\"", "2g"),
            "port" => ("8123", "8124"),
            "bind" => ("\"0.0.0.0\"", "::1"),
            "api_key" | "hf_token" => ("\"k-file\"", "k-env"),
            "pids_limit" | "log_max_files" | "start_attempts" | "backoff_ms" | "stop_secs"
            | "liveness_secs" | "liveness_failures" => ("3", "4"),
            "health_path" => ("\"/up\"", "/up"),
            "restart" => ("\"on-failure:2\"", "always"),
            "extra_args" => ("[\"--a\"]", "--a"),
            other => panic!("no sample for the new setting {other}: add one"),
        }
    }

    #[test]
    fn every_setting_of_the_table_is_read_from_the_file_and_its_variable() {
        let dir = tempfile::tempdir().unwrap();
        let lines: Vec<String> = engine_settings::ALL
            .iter()
            .map(|s| format!("{} = {}", s.key, sample(s.key).0))
            .collect();
        let file = format!("[engines.vllm]\n{}\n", lines.join("\n"));
        std::fs::write(dir.path().join("config.toml"), file).unwrap();
        let cfg = Config::load(dir.path(), no_env()).unwrap();
        for s in engine_settings::ALL {
            let key = format!("engines.vllm.{}", s.key);
            assert_eq!(cfg.sources.of(&key), Source::File, "{key}");
        }
        let vars: Vec<(String, &str)> = engine_settings::ALL
            .iter()
            .filter_map(|s| Some((s.var.name(EngineType::Vllm)?, sample(s.key).1)))
            .collect();
        let env = Env::from_pairs(vars.iter().map(|(k, v)| (k.as_str(), *v)));
        let cfg = Config::load(dir.path(), env).unwrap();
        for s in engine_settings::ALL {
            let key = format!("engines.vllm.{}", s.key);
            let want = match s.var.name(EngineType::Vllm) {
                Some(var) => Source::Env(var),
                None => Source::File,
            };
            assert_eq!(cfg.sources.of(&key), want, "{key}");
        }
        assert_eq!(cfg.engine(EngineType::Vllm).stop_secs, 3);
        assert_eq!(cfg.engine(EngineType::Vllm).default_port, 8124);
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
    fn sources_name_the_layer_that_won() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "[api]\nlisten = \"127.0.0.1:9999\"\n[engines.vllm]\nimage = \"from-file\"\ngpu = true\n",
        )
        .unwrap();
        let env = Env::from_pairs([("AIMA_VLLM_GPU", "false")]);
        let cfg = Config::load(dir.path(), env).unwrap();
        assert_eq!(cfg.sources.of("engines.vllm.image"), Source::File);
        assert_eq!(
            cfg.sources.of("engines.vllm.gpu"),
            Source::Env("AIMA_VLLM_GPU".into())
        );
        assert_eq!(cfg.sources.of("engines.vllm.port"), Source::Default);
        assert_eq!(cfg.sources.of("api.listen"), Source::File);
        assert_eq!(cfg.api_listen, "127.0.0.1:9999");
        assert_eq!(cfg.sources.of("api.token"), Source::Default);
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
    fn port_zero_in_the_file_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "[engines.vllm]\nimage = \"ok\"\nport = 0\n",
        )
        .unwrap();
        let err = Config::load(dir.path(), no_env()).unwrap_err();
        assert_eq!(err.kind(), Kind::Storage);
        let text = err.to_string();
        assert!(
            text.contains("config.toml is malformed at line 3"),
            "{text}"
        );
    }

    #[test]
    fn hf_token_and_shm_size_come_from_file_and_env() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "[engines.vllm]\nhf_token = \"hf_file\"\nshm_size = \"2g\"\n",
        )
        .unwrap();
        let cfg = Config::load(dir.path(), no_env()).unwrap();
        let vllm = cfg.engine(EngineType::Vllm);
        assert_eq!(vllm.hf_token.as_ref().unwrap().expose(), "hf_file");
        assert_eq!(vllm.shm_bytes, Some(2 << 30));
        let env = Env::from_pairs([("HF_TOKEN", "hf_env"), ("AIMA_VLLM_SHM_SIZE", "16g")]);
        let cfg = Config::load(dir.path(), env).unwrap();
        let vllm = cfg.engine(EngineType::Vllm);
        assert_eq!(vllm.hf_token.as_ref().unwrap().expose(), "hf_env");
        assert_eq!(vllm.shm_bytes, Some(16 << 30));
        let bad = Env::from_pairs([("AIMA_VLLM_SHM_SIZE", "lots")]);
        assert!(Config::load(dir.path(), bad).is_err());
    }

    #[test]
    fn bind_and_api_key_come_from_file_and_env() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "[engines.vllm]\nbind = \"0.0.0.0\"\napi_key = \"from-file\"\n",
        )
        .unwrap();
        let cfg = Config::load(dir.path(), no_env()).unwrap();
        let vllm = cfg.engine(EngineType::Vllm);
        assert_eq!(vllm.bind.to_string(), "0.0.0.0");
        assert_eq!(vllm.api_key.as_ref().unwrap().expose(), "from-file");
        assert_eq!(cfg.engine(EngineType::Ollama).bind.to_string(), "127.0.0.1");
        let env = Env::from_pairs([("AIMA_VLLM_BIND", "::1"), ("AIMA_VLLM_API_KEY", "from-env")]);
        let cfg = Config::load(dir.path(), env).unwrap();
        let vllm = cfg.engine(EngineType::Vllm);
        assert_eq!(vllm.bind.to_string(), "::1");
        assert_eq!(vllm.api_key.as_ref().unwrap().expose(), "from-env");
    }

    #[test]
    fn bad_bind_values_and_misplaced_api_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env::from_pairs([("AIMA_OLLAMA_BIND", "localhost")]);
        assert_eq!(
            Config::load(dir.path(), env).unwrap_err().kind(),
            Kind::Usage
        );
        std::fs::write(
            dir.path().join("config.toml"),
            "[engines.vllm]\n\nbind = \"everywhere\"\n",
        )
        .unwrap();
        let err = Config::load(dir.path(), no_env()).unwrap_err().to_string();
        assert!(err.contains("at line 3"), "{err}");
        std::fs::write(
            dir.path().join("config.toml"),
            "[engines.ollama]\napi_key = \"k\"\n",
        )
        .unwrap();
        let err = Config::load(dir.path(), no_env()).unwrap_err().to_string();
        assert!(err.contains("no API key"), "{err}");
    }

    #[test]
    fn the_stop_grace_period_comes_from_the_file_and_defaults_to_ten_seconds() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(&config, "[engines.ollama]\nstop_secs = 2\n").unwrap();
        let cfg = Config::load(dir.path(), no_env()).unwrap();
        assert_eq!(cfg.engine(EngineType::Ollama).stop_secs, 2);
        assert_eq!(cfg.engine(EngineType::Vllm).stop_secs, 10);

        std::fs::write(&config, "[engines.vllm]\nstop_secs = -1\n").unwrap();
        let text = Config::load(dir.path(), no_env()).unwrap_err().to_string();
        assert!(text.contains("malformed at line 2"), "{text}");
    }

    #[test]
    fn gpus_come_from_file_and_env_and_bad_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            "[engines.llamacpp]\ngpus = \"1\"\ngpu_memory = \"6g\"\n",
        )
        .unwrap();
        let cfg = Config::load(dir.path(), no_env()).unwrap();
        let llama = cfg.engine(EngineType::Llamacpp);
        assert_eq!(llama.default_gpus(), Gpus::Devices(vec!["1".into()]));
        assert_eq!(llama.gpu_memory_bytes, Some(6 << 30));
        assert_eq!(cfg.engine(EngineType::Vllm).default_gpus(), Gpus::All);
        assert_eq!(cfg.engine(EngineType::Ollama).default_gpus(), Gpus::None);

        let env = Env::from_pairs([("AIMA_LLAMACPP_GPUS", "count=2")]);
        let cfg = Config::load(dir.path(), env).unwrap();
        assert_eq!(
            cfg.engine(EngineType::Llamacpp).default_gpus(),
            Gpus::Count(2)
        );
        let env = Env::from_pairs([("AIMA_LLAMACPP_GPUS", "0;1")]);
        let err = Config::load(dir.path(), env).unwrap_err();
        assert_eq!(err.kind(), Kind::Usage);
        assert!(err.to_string().contains("AIMA_LLAMACPP_GPUS"), "{err}");
        std::fs::write(&config, "[engines.vllm]\ngpus = \"count=0\"\n").unwrap();
        let err = Config::load(dir.path(), no_env()).unwrap_err().to_string();
        assert!(err.contains("at line 2"), "{err}");
    }

    #[test]
    fn sizes_are_bounded_to_what_docker_takes() {
        let dir = tempfile::tempdir().unwrap();
        for (var, value) in [
            ("AIMA_VLLM_MEMORY", "18446744073709551615"),
            ("AIMA_VLLM_MEMORY", "5m"),
            ("AIMA_VLLM_SHM_SIZE", "9223372036854775808"),
        ] {
            let err = Config::load(dir.path(), Env::from_pairs([(var, value)])).unwrap_err();
            assert_eq!(err.kind(), Kind::Usage, "{var}={value}: {err}");
            assert!(err.to_string().contains(var), "{err}");
        }
        let config = dir.path().join("config.toml");
        for line in ["memory = \"1m\"", "memory = \"18446744073709551615\""] {
            std::fs::write(&config, format!("[engines.vllm]\n{line}\n")).unwrap();
            let err = crate::error::Error::from(Config::load(dir.path(), no_env()).unwrap_err());
            assert!(
                err.render().contains("memory") || err.render().contains("at most"),
                "{line}: {}",
                err.render()
            );
        }
    }

    #[test]
    fn limits_come_from_file_and_env_and_bad_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "[engines.vllm]\nmemory = \"8g\"\npids_limit = 512\nlog_max_size = \"20m\"\n",
        )
        .unwrap();
        let cfg = Config::load(dir.path(), no_env()).unwrap();
        let limits = &cfg.engine(EngineType::Vllm).limits;
        assert_eq!(limits.memory_bytes, Some(8 << 30));
        assert_eq!((limits.pids, limits.log_max_bytes), (512, 20 << 20));
        assert_eq!(cfg.engine(EngineType::Ollama).limits, Default::default());
        let env = Env::from_pairs([
            ("AIMA_VLLM_MEMORY", "256m"),
            ("AIMA_VLLM_LOG_MAX_FILES", "5"),
        ]);
        let cfg = Config::load(dir.path(), env).unwrap();
        let limits = &cfg.engine(EngineType::Vllm).limits;
        assert_eq!(
            (limits.memory_bytes, limits.log_max_files),
            (Some(256 << 20), 5)
        );
        let env = Env::from_pairs([("AIMA_VLLM_PIDS_LIMIT", "0")]);
        assert_eq!(
            Config::load(dir.path(), env).unwrap_err().kind(),
            Kind::Usage
        );
        std::fs::write(
            dir.path().join("config.toml"),
            "[engines.vllm]\nmemory = \"lots\"\n",
        )
        .unwrap();
        let err = Config::load(dir.path(), no_env()).unwrap_err().to_string();
        assert!(err.contains("at line 2"), "{err}");
    }

    #[test]
    fn access_comes_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::load(dir.path(), no_env()).unwrap();
        assert_eq!(cfg.access, Access::default());
        assert_eq!(cfg.access.logs, LogAccess::Owner);
        let config = dir.path().join("config.toml");
        std::fs::write(&config, "[access]\nadmin_group = \"ml-admins\"\nlogs = \"all\"\n").unwrap();
        let cfg = Config::load(dir.path(), no_env()).unwrap();
        assert_eq!(cfg.access.admin_group.as_deref(), Some("ml-admins"));
        assert_eq!(cfg.access.logs, LogAccess::All);
        std::fs::write(&config, "[access]\nlogs = \"nobody\"\n").unwrap();
        assert!(Config::load(dir.path(), no_env()).is_err());
    }

    #[test]
    fn supervision_comes_from_the_file_and_a_bad_value_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        let cfg = Config::load(dir.path(), no_env()).unwrap();
        assert_eq!(cfg.supervision, Supervision::default());
        std::fs::write(&config, "[supervision]\nbackoff_max_secs = 60\nparallel_starts = 4\n")
            .unwrap();
        let cfg = Config::load(dir.path(), no_env()).unwrap();
        assert_eq!(cfg.supervision.backoff_max, std::time::Duration::from_secs(60));
        assert_eq!(cfg.supervision.parallel_starts, 4);
        std::fs::write(&config, "[supervision]\n\nparallel_starts = 0\n").unwrap();
        let err = crate::error::Error::from(Config::load(dir.path(), no_env()).unwrap_err());
        let text = err.render();
        assert!(text.contains("config.toml is malformed at line 3"), "{text}");
        assert!(text.contains("parallel_starts must be a whole number from 1 to 64, not 0"), "{text}");
    }

    #[test]
    fn model_roots_default_to_the_data_dir_and_must_be_absolute() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::load(dir.path(), no_env()).unwrap();
        assert_eq!(cfg.model_roots, [dir.path().join("models")]);
        let env = Env::from_pairs([("AIMA_MODEL_ROOTS", "/srv/models:/data/llm")]);
        let cfg = Config::load(dir.path(), env).unwrap();
        assert_eq!(
            cfg.model_roots,
            [PathBuf::from("/srv/models"), PathBuf::from("/data/llm")]
        );
        let env = Env::from_pairs([("AIMA_MODEL_ROOTS", "models")]);
        assert_eq!(
            Config::load(dir.path(), env).unwrap_err().kind(),
            Kind::Usage
        );
    }
}
