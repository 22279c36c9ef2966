//! The process environment as aima reads it: captured once, when the process starts, and handed
//! down inside [`super::Config`]; nothing else in aima reads environment variables.

use std::collections::BTreeMap;

/// The environment variables aima reads, captured once when the process starts; empty values
/// count as unset.
#[derive(Debug, Clone, Default)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    /// `AIMA_*`, `DOCKER_HOST`, `HOME`, `NO_COLOR` and `HF_TOKEN` from this process's environment.
    pub fn capture() -> Self {
        Self::from_pairs(std::env::vars().filter(|(k, _)| {
            k.starts_with("AIMA_")
                || ["DOCKER_HOST", "HOME", "NO_COLOR", "HF_TOKEN"].contains(&k.as_str())
        }))
    }

    /// The same environment with `key` set to `value` (a command-line flag that overrides it).
    pub fn with(mut self, key: &str, value: &str) -> Self {
        if !value.is_empty() {
            self.0.insert(key.to_owned(), value.to_owned());
        }
        self
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Env(pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .filter(|(_, v)| !v.is_empty())
            .collect())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}
