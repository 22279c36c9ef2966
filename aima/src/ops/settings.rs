//! A service's own engine settings as `service create` and `service update` take them
//! (`--image`, `--arg`, `--env`, `--env-file`, `--shm-size`): read, checked once here, laid
//! over the engine's settings at start, and shown with where each effective value comes from.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::{Config, Source};
use crate::domain::{EngineType, EnvVar, MASK, ServiceSettings, check_settings, parse_size};
use crate::error::{Error, Result};
use crate::runtime::MOUNT_TARGET;

/// The largest env file aima reads.
const MAX_ENV_FILE: u64 = 64 * 1024;

/// The settings a request names; absent ones are left as they are (the engine's, at create).
/// Its `Debug` names the variables, never their values.
#[derive(Clone, Default)]
pub struct SettingsRequest {
    pub image: Option<String>,
    /// `Some` when the request gives arguments (even none: `--arg` never given but `--`).
    pub args: Option<Vec<String>>,
    /// `KEY=VALUE` pairs; secret when the key says so.
    pub env: Vec<(String, String)>,
    /// Pairs that are secret whatever their key (read from an environment or kept as stored).
    pub secret_env: Vec<(String, String)>,
    /// A file of `KEY=VALUE` lines, all of them secret.
    pub env_file: Option<PathBuf>,
    pub shm_size: Option<String>,
}

impl std::fmt::Debug for SettingsRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = |pairs: &[(String, String)]| -> Vec<String> {
            pairs.iter().map(|(k, _)| format!("{k}={MASK}")).collect()
        };
        f.debug_struct("SettingsRequest")
            .field("image", &self.image)
            .field("args", &self.args)
            .field("env", &keys(&self.env))
            .field("secret_env", &keys(&self.secret_env))
            .field("env_file", &self.env_file)
            .field("shm_size", &self.shm_size)
            .finish()
    }
}

/// `KEY=VALUE` as `--env` takes it; the value may itself hold `=`. Only the name part of a
/// malformed one is repeated in the error: the rest may be a secret.
pub fn parse_env_pair(text: &str) -> Result<(String, String)> {
    match text.split_once('=') {
        Some((key, value)) => Ok((key.to_owned(), value.to_owned())),
        None => {
            let name: String = text
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(64)
                .collect();
            Err(
                Error::usage(format!("--env {name}…: not KEY=VALUE (it has no `=`)")).with_help(
                    "write each variable as KEY=VALUE, e.g. --env VLLM_LOGGING_LEVEL=INFO",
                ),
            )
        }
    }
}

/// `base` with what `req` names laid over it, checked for a service of `engine`.
pub fn merged(
    engine: EngineType,
    base: &ServiceSettings,
    req: &SettingsRequest,
) -> Result<ServiceSettings> {
    let mut out = base.clone();
    if let Some(image) = &req.image {
        out.image = Some(image.clone());
    }
    if let Some(args) = &req.args {
        out.args = Some(args.clone());
    }
    let mut given: Vec<EnvVar> = req
        .env
        .iter()
        .map(|(k, v)| EnvVar::new(k.clone(), v.clone()))
        .collect();
    given.extend(req.secret_env.iter().map(|(key, value)| EnvVar {
        key: key.clone(),
        value: value.clone(),
        secret: true,
    }));
    if let Some(path) = &req.env_file {
        given.extend(read_env_file(path)?);
    }
    for var in given {
        out.env.retain(|v| v.key != var.key);
        out.env.push(var);
    }
    if let Some(text) = &req.shm_size {
        out.shm_bytes = Some(parse_size(text).ok_or_else(|| {
            Error::usage(format!(
                "bad --shm-size {text:?}: expected a size in bytes or with k, m or g (64m, 2g)"
            ))
        })?);
    }
    check_settings(engine, &out, MOUNT_TARGET)
        .map_err(|e| Error::usage(e.to_string()).with_help(e.help()))?;
    Ok(out)
}

/// An env file as Docker reads one: `KEY=VALUE` lines, blank lines and `#` comments skipped.
/// Every value from it is secret; errors name the file and line, never a value.
pub fn read_env_file(path: &Path) -> Result<Vec<EnvVar>> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| {
        Error::usage(format!("cannot read --env-file {shown}"))
            .caused_by(e)
            .with_help("give the path of a readable file of KEY=VALUE lines")
    })?;
    if meta.len() > MAX_ENV_FILE {
        return Err(Error::usage(format!(
            "--env-file {shown} is {} bytes, more than the {MAX_ENV_FILE} aima reads",
            meta.len()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::usage(format!("cannot read --env-file {shown} as UTF-8 text")).caused_by(e)
    })?;
    let mut vars = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(
                Error::usage(format!("--env-file {shown}, line {}: not KEY=VALUE", n + 1))
                    .with_help(
                        "write each variable as KEY=VALUE; lines starting with # are comments",
                    ),
            );
        };
        vars.push(EnvVar {
            key: key.trim_end().to_owned(),
            value: value.to_owned(),
            secret: true,
        });
    }
    Ok(vars)
}

/// One effective setting of a service and where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Effective {
    /// `image`, `args`, `env.KEY` or `shm_size`.
    pub key: String,
    /// As shown: secrets read `***`.
    /// A string, or a list of strings for `args`.
    #[schema(value_type = Value)]
    pub value: serde_json::Value,
    /// `service`, `file` (config.toml), `env` (an environment variable) or `default`.
    pub source: &'static str,
    /// The environment variable that set it, for source `env`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub var: Option<String>,
}

/// An effective setting as its JSON reads (from the API), before its source is checked.
#[derive(serde::Deserialize)]
struct EffectiveWire {
    key: String,
    value: serde_json::Value,
    source: String,
    #[serde(default)]
    var: Option<String>,
}

impl<'de> serde::Deserialize<'de> for Effective {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let w = EffectiveWire::deserialize(d)?;
        let source = ["service", "file", "env", "default"]
            .into_iter()
            .find(|s| *s == w.source)
            .ok_or_else(|| {
                serde::de::Error::custom(format!("{:?} is not a setting's source", w.source))
            })?;
        Ok(Effective {
            key: w.key,
            value: w.value,
            source,
            var: w.var,
        })
    }
}

/// The effective image, arguments, environment and `/dev/shm` size of a service of `engine`
/// with `settings`, each with its source, as `aima info` shows engine settings.
pub fn effective(
    config: &Config,
    engine: EngineType,
    settings: &ServiceSettings,
) -> Vec<Effective> {
    let spec = config.engine(engine);
    let from_config = |key: &str| {
        let source = config.sources.of(&format!("engines.{engine}.{key}"));
        let var = match &source {
            Source::Env(var) => Some(var.clone()),
            _ => None,
        };
        (source.kind(), var)
    };
    let row = |key: &str, value: serde_json::Value, own: bool, setting: &str| {
        let (source, var) = if own {
            ("service", None)
        } else {
            from_config(setting)
        };
        Effective {
            key: key.to_owned(),
            value,
            source,
            var,
        }
    };
    let mut rows = vec![
        row(
            "image",
            settings
                .image
                .as_ref()
                .unwrap_or(&spec.image)
                .as_str()
                .into(),
            settings.image.is_some(),
            "image",
        ),
        row(
            "args",
            serde_json::json!(settings.args.as_ref().unwrap_or(&spec.extra_args)),
            settings.args.is_some(),
            "extra_args",
        ),
    ];
    for var in &settings.env {
        rows.push(row(
            &format!("env.{}", var.key),
            var.shown().into(),
            true,
            "",
        ));
    }
    let shm = settings.shm_bytes.or(spec.shm_bytes);
    rows.push(row(
        "shm_size",
        shm.map_or_else(
            || "Docker's default (64m)".into(),
            |b| crate::domain::size_text(b).into(),
        ),
        settings.shm_bytes.is_some(),
        "shm_size",
    ));
    rows
}

/// `effective` as lines for the detail view: `image: x (service)`.
pub fn effective_lines(rows: &[Effective]) -> Vec<(String, String)> {
    rows.iter()
        .map(|r| {
            let value = match &r.value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(items) if items.is_empty() => "none".to_owned(),
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| shell_word(i.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(" "),
                other => other.to_string(),
            };
            let source = match (&r.var, r.source) {
                (Some(var), _) => format!("env {var}"),
                (None, "file") => "config file".to_owned(),
                (None, source) => source.to_owned(),
            };
            (r.key.clone(), format!("{value} ({source})"))
        })
        .collect()
}

/// An argument as a shell would need it quoted, so `--arg "a b"` reads back as one word.
fn shell_word(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.,:/=+@%".contains(c));
    if plain || arg == MASK {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
