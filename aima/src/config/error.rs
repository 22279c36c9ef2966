//! Why the configuration cannot be read: the data dir, `config.toml`, or an environment value.

use std::path::PathBuf;

use crate::disk::is_full;
use crate::domain::EngineType;
use crate::error::{Classified, Detail, Kind};
use crate::instance::InstanceError;

use super::private::Untrusted;

/// Why the configuration cannot be read. Exit code 9 ("configuration or storage") covers the
/// data dir and the file; a bad environment value is a usage error (2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot find a data dir: neither AIMA_DATA_DIR nor HOME is set")]
    NoDataDir,
    #[error("data dir {} is not usable", dir.display())]
    DataDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read config file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {} is malformed{at}", path.display())]
    Malformed {
        path: PathBuf,
        /// ` at line N`, when the parser says where.
        at: String,
        #[source]
        detail: Detail,
    },
    #[error("config file {} names an unknown engine [engines.{name}]", path.display())]
    UnknownEngine { path: PathBuf, name: String },
    #[error("{var} must be {expected}, not {value:?}")]
    BadValue {
        var: String,
        expected: String,
        value: String,
    },
    #[error("engine {engine} has no API key setting, but one is configured")]
    NoApiKey { engine: EngineType },
    #[error("model root {} must be an absolute path", root.display())]
    RelativeModelRoot { root: PathBuf },
    #[error(transparent)]
    Instance(#[from] InstanceError),
    /// The data dir or a file in it that aima reads is another account's, or writable by one.
    #[error("{}", .0.describe())]
    Untrusted(Box<Untrusted>),
}

impl Classified for ConfigError {
    fn kind(&self) -> Kind {
        match self {
            ConfigError::BadValue { .. }
            | ConfigError::NoApiKey { .. }
            | ConfigError::RelativeModelRoot { .. } => Kind::Usage,
            ConfigError::DataDir { source, .. } if is_full(source) => Kind::DiskFull,
            ConfigError::Instance(e) => e.kind(),
            _ => Kind::Storage,
        }
    }

    fn help(&self) -> Option<String> {
        let help = match self {
            ConfigError::NoDataDir => "set AIMA_DATA_DIR to a writable directory",
            ConfigError::DataDir { dir, source } if is_full(source) => {
                return Some(format!(
                    "free space on the disk holding {} (`df -h` shows it), or point AIMA_DATA_DIR at a disk with room",
                    dir.display()
                ));
            }
            ConfigError::DataDir { .. } => {
                "set AIMA_DATA_DIR to a directory you can write, or fix its permissions"
            }
            ConfigError::Read { .. } | ConfigError::BadValue { .. } => return None,
            ConfigError::Malformed { .. } => {
                "fix the file (see docs/configuration.md) or move it away"
            }
            ConfigError::UnknownEngine { .. } => "known engines are vllm, ollama and llamacpp",
            ConfigError::NoApiKey { engine } => {
                return Some(format!(
                    "remove api_key from [engines.{engine}] and unset {}_API_KEY",
                    engine.env_prefix()
                ));
            }
            ConfigError::RelativeModelRoot { .. } => {
                "fix [models] roots in config.toml or AIMA_MODEL_ROOTS"
            }
            ConfigError::Instance(e) => return e.help(),
            ConfigError::Untrusted(file) => return Some(file.fix()),
        };
        Some(help.to_owned())
    }
}
