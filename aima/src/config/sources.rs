//! Where each effective setting came from — the built-in default, `config.toml`, or an
//! environment variable — for `aima info`.

use std::collections::BTreeMap;

/// The layer that gave a setting its value; later layers win: default < file < environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File,
    /// The variable that set it.
    Env(String),
}

impl Source {
    /// `default`, `file` or `env`, for JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Default => "default",
            Source::File => "file",
            Source::Env(_) => "env",
        }
    }
}

/// Sources of the settings that did not keep their default, by dotted key
/// (`api.listen`, `engines.vllm.image`).
#[derive(Debug, Clone, Default)]
pub struct Sources(BTreeMap<String, Source>);

impl Sources {
    pub(crate) fn set(&mut self, key: impl Into<String>, source: Source) {
        self.0.insert(key.into(), source);
    }

    /// Where `key` came from; `Default` unless a file or variable set it.
    pub fn of(&self, key: &str) -> Source {
        self.0.get(key).cloned().unwrap_or(Source::Default)
    }
}
