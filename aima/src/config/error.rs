//! Why the configuration cannot be read: the data dir, `config.toml`, or an environment value.

use std::path::PathBuf;

use crate::error::{Classified, Detail, Kind};

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
}

impl Classified for ConfigError {
    fn kind(&self) -> Kind {
        match self {
            ConfigError::BadValue { .. } => Kind::Usage,
            _ => Kind::Storage,
        }
    }

    fn help(&self) -> Option<String> {
        let help = match self {
            ConfigError::NoDataDir => "set AIMA_DATA_DIR to a writable directory",
            ConfigError::DataDir { .. } => {
                "set AIMA_DATA_DIR to a directory you can write, or fix its permissions"
            }
            ConfigError::Read { .. } | ConfigError::BadValue { .. } => return None,
            ConfigError::Malformed { .. } => {
                "fix the file (see the README's Configuration section) or move it away"
            }
            ConfigError::UnknownEngine { .. } => "known engines are vllm, ollama and llamacpp",
        };
        Some(help.to_owned())
    }
}
