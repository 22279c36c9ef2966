//! Which host paths may be mounted into an engine: only a `local` model's path, and only an
//! existing directory (or a `.gguf` model file) under one of the configured model roots, resolved
//! to its canonical form (no `..`, no symlink leading elsewhere) and free of `:` and NUL.
//!
//! The API is open to every local account, while Docker's own socket is limited to its group:
//! without this check aima would let anyone mount any host directory (`/`, `/var/run`).

use std::path::{Path, PathBuf};

use crate::domain::ModelSource;
use crate::error::{Error, Result};

#[cfg(any(test, feature = "test-support"))]
pub use crate::runtime::MOUNT_TARGET;

/// The path to store for a new model: `Some(canonical dir)` for a local model, `None` otherwise.
pub fn for_new_model(
    source: ModelSource,
    path: Option<&str>,
    roots: &[PathBuf],
) -> Result<Option<String>> {
    match (source, path) {
        (ModelSource::Local, Some(path)) => allowed_dir(path, roots).map(Some),
        (ModelSource::Local, None) => {
            Err(Error::usage("a local model needs --path DIR|FILE.gguf")
                .with_help(roots_help(roots)))
        }
        (_, Some(path)) => Err(Error::usage(format!(
            "--path {} is only for local models, not {} ones",
            shown(path),
            source.as_str()
        ))
        .with_help("drop --path, or register the directory with --source local")),
        (_, None) => Ok(None),
    }
}

/// `path` as a canonical directory or `.gguf` file under one of `roots`, or a usage error saying
/// why not.
/// Checked again at every start, since the directory may have changed since registration.
pub fn allowed_dir(path: &str, roots: &[PathBuf]) -> Result<String> {
    let refuse = |why: &str| {
        Error::usage(format!("model path {} {why}", shown(path))).with_help(roots_help(roots))
    };
    if path.contains('\0') {
        return Err(refuse("contains a NUL byte"));
    }
    if path.contains(':') {
        return Err(refuse("contains ':', which Docker mounts cannot name"));
    }
    if !Path::new(path).is_absolute() {
        return Err(refuse("must be an absolute path"));
    }
    let canonical = Path::new(path)
        .canonicalize()
        .map_err(|e| refuse(&format!("cannot be resolved ({e})")))?;
    let usable = canonical.is_dir() || (canonical.is_file() && is_gguf(&canonical));
    if !usable {
        return Err(refuse("is not a directory or a .gguf file"));
    }
    let under_a_root = roots
        .iter()
        .filter_map(|root| root.canonicalize().ok())
        .any(|root| canonical.starts_with(root));
    if !under_a_root {
        return Err(refuse(&format!(
            "resolves to {}, which is not under a model root",
            canonical.display()
        )));
    }
    let text = canonical
        .to_str()
        .ok_or_else(|| refuse("resolves to a path that is not UTF-8"))?;
    if text.contains(':') {
        return Err(refuse(&format!("resolves to {text}, which contains ':'")));
    }
    Ok(text.to_owned())
}

/// Whether `path` names a GGUF model file (by its extension, as llama.cpp's tools do).
pub fn is_gguf(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
}

/// The path as it may be printed: a NUL or control character would garble the terminal.
fn shown(path: &str) -> String {
    format!("{path:?}")
}

fn roots_help(roots: &[PathBuf]) -> String {
    let list: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
    format!(
        "a local model's path must be an existing directory or .gguf file under a model root ({}); \
         configure roots with [models] roots in config.toml or AIMA_MODEL_ROOTS",
        list.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;

    struct Roots {
        _tmp: tempfile::TempDir,
        root: PathBuf,
        model: PathBuf,
    }

    fn roots() -> Roots {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("models");
        let model = root.join("tiny");
        std::fs::create_dir_all(&model).unwrap();
        Roots {
            _tmp: tmp,
            root,
            model,
        }
    }

    fn refused(path: &str, r: &Roots) -> String {
        let err = for_new_model(
            ModelSource::Local,
            Some(path),
            std::slice::from_ref(&r.root),
        )
        .unwrap_err();
        assert_eq!(err.code, Kind::Usage, "{}", err.message);
        err.message
    }

    #[test]
    fn a_directory_under_a_root_is_stored_canonical() {
        let r = roots();
        let dotted = format!("{}/../tiny/.", r.model.display());
        let stored = for_new_model(
            ModelSource::Local,
            Some(&dotted),
            std::slice::from_ref(&r.root),
        )
        .unwrap();
        assert_eq!(
            stored.as_deref(),
            Some(r.model.canonicalize().unwrap().to_str().unwrap())
        );
    }

    #[test]
    fn the_paths_of_the_issue_are_refused() {
        let r = roots();
        let escape = format!("{}/../../var/run", r.root.display());
        assert!(refused("/", &r).contains("not under a model root"));
        assert!(refused("/srv/models/../../var/run", &r).contains("model path"));
        assert!(refused(&escape, &r).contains("model path"));
        assert!(refused("/a:/b:rw", &r).contains("':'"));
        assert!(refused("/srv/models/x\0y", &r).contains("NUL"));
        assert!(refused("models/tiny", &r).contains("absolute"));
    }

    #[test]
    fn a_symlink_out_of_the_root_is_refused() {
        let r = roots();
        let link = r.root.join("sneaky");
        std::os::unix::fs::symlink("/etc", &link).unwrap();
        assert!(refused(link.to_str().unwrap(), &r).contains("resolves to /etc"));
    }

    #[test]
    fn files_and_missing_paths_are_refused() {
        let r = roots();
        let file = r.root.join("weights.bin");
        std::fs::write(&file, b"").unwrap();
        assert!(refused(file.to_str().unwrap(), &r).contains("not a directory or a .gguf file"));
        let gguf = r.model.join("tiny.gguf");
        std::fs::write(&gguf, b"GGUF").unwrap();
        let roots = [r.root.clone()];
        let stored = for_new_model(ModelSource::Local, gguf.to_str(), &roots).unwrap();
        assert_eq!(stored.as_deref(), gguf.canonicalize().unwrap().to_str());
        let missing = r.root.join("missing");
        assert!(refused(missing.to_str().unwrap(), &r).contains("cannot be resolved"));
    }

    #[test]
    fn only_local_models_have_a_path_and_they_need_one() {
        let r = roots();
        let dir = r.model.to_str().unwrap();
        let roots = [r.root.clone()];
        let remote = for_new_model(ModelSource::Ollama, Some(dir), &roots).unwrap_err();
        assert!(remote.message.contains("only for local models"));
        assert!(for_new_model(ModelSource::Local, None, &roots).is_err());
        assert_eq!(
            for_new_model(ModelSource::Huggingface, None, &roots).unwrap(),
            None
        );
    }
}
