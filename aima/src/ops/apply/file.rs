//! The apply file: models and services by name, each with its whole configuration and, for
//! services, the state wanted. Read whole and checked before anything is compared or changed;
//! every error names the file, the line and the key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::domain::{EngineType, ModelSource};
use crate::error::{Error, Result};

/// A parsed apply file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyFile {
    #[serde(default)]
    pub models: BTreeMap<String, FileModel>,
    #[serde(default)]
    pub services: BTreeMap<String, FileService>,
}

impl ApplyFile {
    /// The file as TOML, as `aima export` writes it.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self)
            .map_err(|e| Error::internal("cannot write the export as TOML").caused_by(e))
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileModel {
    pub source: String,
    pub repo: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub model_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileService {
    /// The model's name: a `[models.X]` of the file, or a model the data dir has.
    pub model: String,
    pub engine: String,
    /// Absent: the port the service has, or the engine's default for a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpus: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, EnvValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<String>,
    /// `running` or `stopped`; absent: left as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// An environment value: text, or a reference to a secret that never appears in the file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum EnvValue {
    Text(String),
    Secret(SecretRef),
}

/// `{ from_env = "VAR" }`: the value of `VAR` in apply's environment, kept secret.
/// `{ stored = true }`: the value the service has now (what `aima export` writes for secrets).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_env: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stored: bool,
}

/// What the file wants of a service's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    Running,
    Stopped,
}

/// A key's place in the file, for errors: `apply.toml, line 7, services.qwen.memory`.
pub(crate) struct Place<'a> {
    pub file: &'a str,
    /// Unknown for a JSON body.
    pub line: Option<usize>,
    pub key: String,
}

impl Place<'_> {
    pub(crate) fn error(&self, why: impl std::fmt::Display) -> Error {
        let line = self.line.map_or(String::new(), |n| format!(", line {n}"));
        Error::usage(format!("{}{line}, {}: {why}", self.file, self.key))
    }
}

/// A parsed file with the line of each table, for errors found after parsing.
pub struct Parsed {
    pub file: ApplyFile,
    lines: BTreeMap<String, usize>,
    pub name: String,
}

impl Parsed {
    /// Where `table.key` (`services.qwen`, `memory`) is, for an error.
    pub(crate) fn place(&self, table: &str, key: &str) -> Place<'_> {
        Place {
            file: &self.name,
            line: self.lines.get(table).copied(),
            key: if key.is_empty() {
                table.to_owned()
            } else {
                format!("{table}.{key}")
            },
        }
    }
}

/// Spans of the two kinds of tables, read beside the typed parse.
#[derive(Deserialize)]
struct Spans {
    #[serde(default)]
    models: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    services: BTreeMap<String, Spanned<toml::Value>>,
}

/// Reads `text` (named `name` in errors) as an apply file and checks what needs no store.
pub fn parse(name: &str, text: &str) -> Result<Parsed> {
    let line_of = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
    let malformed = |e: toml::de::Error| {
        let at = e
            .span()
            .map_or(String::new(), |s| format!(", line {}", line_of(s.start)));
        Error::usage(format!("{name}{at}: {}", e.message()))
            .with_help("see docs/apply.md for the file's keys")
    };
    let file: ApplyFile = toml::from_str(text).map_err(malformed)?;
    let spans: Spans = toml::from_str(text).map_err(malformed)?;
    let mut lines = BTreeMap::new();
    for (kind, tables) in [("models", &spans.models), ("services", &spans.services)] {
        for (key, value) in tables {
            lines.insert(format!("{kind}.{key}"), line_of(value.span().start));
        }
    }
    let parsed = Parsed {
        file,
        lines,
        name: name.to_owned(),
    };
    check(&parsed)?;
    Ok(parsed)
}

/// Reads `text` (named `name` in errors) as an apply file written in JSON, the same keys as
/// the TOML file; errors name keys, and lines only where JSON's parser gives them.
pub fn parse_json(name: &str, text: &str) -> Result<Parsed> {
    let file: ApplyFile = serde_json::from_str(text).map_err(|e| {
        Error::usage(format!("{name}, line {}: {e}", e.line()))
            .with_help("see docs/apply.md for the file's keys")
    })?;
    let parsed = Parsed {
        file,
        lines: BTreeMap::new(),
        name: name.to_owned(),
    };
    check(&parsed)?;
    Ok(parsed)
}

fn check(parsed: &Parsed) -> Result<()> {
    for (name, model) in &parsed.file.models {
        let table = format!("models.{name}");
        crate::domain::check_text(name)
            .map_err(|e| parsed.place(&table, "").error(format!("bad name: {e}")))?;
        if ModelSource::parse(&model.source).is_none() {
            let sources: Vec<&str> = ModelSource::ALL.map(ModelSource::as_str).to_vec();
            return Err(parsed.place(&table, "source").error(format!(
                "{:?} is not a model source: give one of {}",
                model.source,
                sources.join(", ")
            )));
        }
    }
    for (name, svc) in &parsed.file.services {
        let table = format!("services.{name}");
        crate::domain::check_text(name)
            .map_err(|e| parsed.place(&table, "").error(format!("bad name: {e}")))?;
        if EngineType::parse(&svc.engine).is_none() {
            return Err(parsed.place(&table, "engine").error(format!(
                "{:?} is not an engine: give vllm, ollama or llamacpp",
                svc.engine
            )));
        }
        if let Some(state) = &svc.state {
            wanted(state).ok_or_else(|| {
                parsed
                    .place(&table, "state")
                    .error(format!("{state:?} is not a state: give running or stopped"))
            })?;
        }
        if svc.port == Some(0) {
            return Err(parsed
                .place(&table, "port")
                .error("0 is no port: give 1-65535"));
        }
        if let Some(bind) = &svc.bind {
            bind.parse::<std::net::IpAddr>().map_err(|_| {
                parsed
                    .place(&table, "bind")
                    .error(format!("{bind:?} is not an IP address"))
            })?;
        }
        for (key, value) in &svc.env {
            if let EnvValue::Secret(r) = value
                && (r.from_env.is_some() == r.stored)
            {
                return Err(parsed.place(&table, &format!("env.{key}")).error(
                    "a secret reference is { from_env = \"VAR\" } or { stored = true }, one of them",
                ));
            }
        }
    }
    Ok(())
}

pub(crate) fn wanted(state: &str) -> Option<Wanted> {
    match state {
        "running" => Some(Wanted::Running),
        "stopped" => Some(Wanted::Stopped),
        _ => None,
    }
}
