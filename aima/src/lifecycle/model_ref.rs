//! Which model an engine gets: decided at `service create`, so an impossible pairing is refused
//! at once, and again at every start, since the files may have changed since.
//!
//! - llama.cpp: a `.gguf` file, or a directory holding exactly one model (the first shard of a
//!   split one), mounted read-only; or a Hugging Face repository through `-hf` (needs network).
//! - vLLM: a model directory, mounted read-only, or a repository id it downloads to its cache.
//!
//! A model's source (`huggingface`, `ollama`, ...) is the operator's label: for a model without a
//! path, what the engine gets is its repository id.
//! - Ollama: a model name, pulled into the engine through its API once it is healthy.

use std::path::{Path, PathBuf};

use crate::domain::{EngineType, Model, ModelRef};
use crate::error::{Error, Result};
use crate::host::model_dir::{allowed_dir, is_gguf};
use crate::host::model_mount::PinnedDir;
use crate::runtime::MOUNT_TARGET;

/// What to tell the engine, and which host directory to mount read-only at [`MOUNT_TARGET`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub model: ModelRef,
    pub mount: Option<String>,
    /// The mounted directory, open since its check, to prove after the start that Docker
    /// mounted this very directory (see [`crate::host::model_mount`]).
    pub pinned: Option<PinnedDir>,
    /// Something the operator should know (e.g. that the engine downloads over the network).
    pub note: Option<String>,
}

impl Resolved {
    /// What the engine was given, as the operator knows it: the host file or directory of a
    /// mounted model, or the repository or name it fetches.
    pub fn describe(&self) -> String {
        match (&self.model, &self.mount) {
            (ModelRef::Mounted(inside), Some(dir)) => {
                let rest = inside.strip_prefix(MOUNT_TARGET).unwrap_or(inside);
                format!("{dir}{rest} (mounted as {inside})")
            }
            (ModelRef::Mounted(inside), None) => inside.clone(),
            (ModelRef::Repository(repo), _) => format!("repository {repo}"),
            (ModelRef::Pulled(name), _) => format!("model {name}"),
        }
    }
}

/// `model` as `engine` will load it, or a usage error saying why it cannot.
pub fn resolve(engine: EngineType, model: &Model, roots: &[PathBuf]) -> Result<Resolved> {
    match (&model.path, model.source) {
        (Some(path), _) => local(engine, model, &allowed_dir(path, roots)?),
        (None, _) => remote(engine, model),
    }
}

fn local(engine: EngineType, model: &Model, path: &str) -> Result<Resolved> {
    let host = Path::new(path);
    let mounted = |dir: &Path, file: Option<&str>| -> Result<Resolved> {
        Ok(Resolved {
            model: ModelRef::Mounted(match file {
                Some(name) => format!("{MOUNT_TARGET}/{name}"),
                None => MOUNT_TARGET.to_owned(),
            }),
            mount: Some(dir.to_string_lossy().into_owned()),
            pinned: Some(PinnedDir::open(dir)?),
            note: None,
        })
    };
    match engine {
        EngineType::Llamacpp if host.is_file() => {
            let dir = host.parent().unwrap_or(Path::new("/"));
            let name = file_name(host);
            mounted(dir, Some(&name))
        }
        EngineType::Llamacpp => {
            let name = one_gguf(host)?;
            mounted(host, Some(&name))
        }
        EngineType::Vllm if host.is_file() => Err(Error::usage(format!(
            "vLLM cannot load the single file {path} of model {}",
            model.id
        ))
        .with_help(
            "vLLM loads a model directory (config.json, tokenizer and weights): register the directory, or serve the .gguf file with engine llamacpp",
        )),
        EngineType::Vllm => mounted(host, None),
        EngineType::Ollama => Err(Error::usage(format!(
            "Ollama serves models by name from its own store, not from the local path of model {}",
            model.id
        ))
        .with_help(
            "register the model with --source ollama --repo NAME (e.g. tinyllama), or serve the path with engine llamacpp or vllm",
        )),
    }
}

/// A registered repository id: the source is the operator's label, the id is what engines use.
fn remote(engine: EngineType, model: &Model) -> Result<Resolved> {
    let repo = model.repo.clone();
    let resolved = |model: ModelRef, note: Option<String>| Resolved {
        model,
        mount: None,
        pinned: None,
        note,
    };
    match engine {
        EngineType::Vllm => Ok(resolved(ModelRef::Repository(repo), None)),
        EngineType::Llamacpp if is_hf_repo(&repo) => {
            let note = format!(
                "llama.cpp downloads {repo} itself (-hf): the engine container needs network access to Hugging Face"
            );
            Ok(resolved(ModelRef::Repository(repo), Some(note)))
        }
        EngineType::Llamacpp => Err(Error::usage(format!(
            "llama.cpp cannot load model {} ({repo:?}): it is neither a local .gguf file or directory nor a Hugging Face repository id (owner/name)",
            model.id
        ))
        .with_help(
            "register the .gguf file or its directory with --source local --path, or a GGUF repository with --repo owner/name",
        )),
        EngineType::Ollama => Ok(resolved(ModelRef::Pulled(repo), None)),
    }
}

/// `owner/name`, as Hugging Face names repositories (an optional `:quant` tag for `-hf`).
fn is_hf_repo(repo: &str) -> bool {
    let ok = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    let name = repo.split_once(':').map_or(repo, |(name, _)| name);
    matches!(name.split_once('/'), Some((owner, rest)) if ok(owner) && ok(rest))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The one model file in `dir` llama.cpp should load: its only `.gguf` (projector files aside),
/// or the first shard of a split model (`name-00001-of-00003.gguf`).
fn one_gguf(dir: &Path) -> Result<String> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::usage(format!(
            "cannot list model directory {}: {e}",
            dir.display()
        ))
    })?;
    let mut files: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file() && is_gguf(&e.path()))
        .map(|e| file_name(&e.path()))
        .filter(|n| !n.to_ascii_lowercase().starts_with("mmproj"))
        .collect();
    files.sort();
    let pick = "register the one file to serve: --path DIR/FILE.gguf";
    match files.as_slice() {
        [] => Err(Error::usage(format!(
            "model directory {} holds no .gguf file, which llama.cpp needs",
            dir.display()
        ))
        .with_help("put the model's .gguf file there, or register the file itself")),
        [one] => Ok(one.clone()),
        many => match split_model(many) {
            Some(first) => Ok(first),
            None => Err(Error::usage(format!(
                "model directory {} holds {} models ({}); llama.cpp loads one",
                dir.display(),
                many.len(),
                many.join(", ")
            ))
            .with_help(pick)),
        },
    }
}

/// The first shard when every file is a shard of the same split model.
fn split_model(files: &[String]) -> Option<String> {
    let shard = |name: &str| -> Option<(String, u32, u32)> {
        let stem = name.get(..name.len().checked_sub(5)?)?; // ".gguf"
        let (rest, total) = stem.rsplit_once("-of-")?;
        let (prefix, index) = rest.rsplit_once('-')?;
        let digits = |s: &str| s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit());
        (digits(index) && digits(total))
            .then(|| Some((prefix.to_owned(), index.parse().ok()?, total.parse().ok()?)))?
    };
    let shards: Vec<_> = files.iter().map(|f| shard(f)).collect::<Option<_>>()?;
    let (prefix, _, total) = shards.first()?.clone();
    let same = shards.iter().all(|(p, _, t)| *p == prefix && *t == total);
    let first = files.iter().zip(&shards).find(|(_, (_, i, _))| *i == 1);
    same.then_some(first?.0.clone())
}

#[cfg(test)]
#[path = "tests/model_ref.rs"]
mod tests;
