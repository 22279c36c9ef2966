//! Model resolution per engine: what each engine is told to load, what is mounted, what is refused.

use std::path::PathBuf;

use super::*;
use crate::domain::{ModelId, ModelSource};
use crate::error::Kind;

struct Roots {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

fn roots() -> Roots {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap().join("models");
    std::fs::create_dir_all(&root).unwrap();
    Roots { _tmp: tmp, root }
}

impl Roots {
    /// A directory under the root holding `files` (empty files are enough to choose among).
    fn dir(&self, name: &str, files: &[&str]) -> PathBuf {
        let dir = self.root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for f in files {
            std::fs::write(dir.join(f), b"GGUF").unwrap();
        }
        dir
    }

    fn resolve(
        &self,
        engine: EngineType,
        source: ModelSource,
        path: Option<&PathBuf>,
    ) -> Result<Resolved> {
        resolve(
            engine,
            &self.model(source, path),
            std::slice::from_ref(&self.root),
        )
    }

    fn model(&self, source: ModelSource, path: Option<&PathBuf>) -> Model {
        Model {
            id: ModelId::generate(),
            name: "m".into(),
            source,
            repo: "org/repo".into(),
            path: path.map(|p| p.to_str().unwrap().to_owned()),
            model_type: "llm".into(),
            status: "registered",
            created_at: 0,
            created_by: None,
        }
    }
}

fn mounted(path: &str) -> ModelRef {
    ModelRef::Mounted(path.to_owned())
}

fn usage(result: Result<Resolved>) -> String {
    let err = result.unwrap_err();
    assert_eq!(err.code, Kind::Usage, "{}", err.message);
    format!("{} ({})", err.message, err.help.unwrap_or_default())
}

#[test]
fn llama_cpp_gets_the_one_gguf_of_a_directory() {
    let r = roots();
    let dir = r.dir("tiny", &["tiny.gguf", "README.md", "mmproj-tiny.gguf"]);
    let got = r
        .resolve(EngineType::Llamacpp, ModelSource::Local, Some(&dir))
        .unwrap();
    assert_eq!(got.model, mounted("/model/tiny.gguf"));
    assert_eq!(got.mount.as_deref(), dir.to_str());
}

#[test]
fn llama_cpp_gets_a_file_through_its_directory() {
    let r = roots();
    let dir = r.dir("two", &["a.gguf", "b.gguf"]);
    let file = dir.join("b.gguf");
    let got = r
        .resolve(EngineType::Llamacpp, ModelSource::Local, Some(&file))
        .unwrap();
    assert_eq!(got.model, mounted("/model/b.gguf"));
    assert_eq!(got.mount.as_deref(), dir.to_str());
}

#[test]
fn llama_cpp_gets_the_first_shard_of_a_split_model() {
    let r = roots();
    let dir = r.dir(
        "split",
        &[
            "q-00002-of-00003.gguf",
            "q-00001-of-00003.gguf",
            "q-00003-of-00003.gguf",
        ],
    );
    let got = r
        .resolve(EngineType::Llamacpp, ModelSource::Local, Some(&dir))
        .unwrap();
    assert_eq!(got.model, mounted("/model/q-00001-of-00003.gguf"));
}

#[test]
fn llama_cpp_refuses_directories_without_exactly_one_model() {
    let r = roots();
    let empty = r.dir("empty", &["config.json"]);
    let text = usage(r.resolve(EngineType::Llamacpp, ModelSource::Local, Some(&empty)));
    assert!(text.contains("holds no .gguf file"), "{text}");
    let two = r.dir("two", &["a.gguf", "b.gguf"]);
    let text = usage(r.resolve(EngineType::Llamacpp, ModelSource::Local, Some(&two)));
    assert!(text.contains("holds 2 models (a.gguf, b.gguf)"), "{text}");
    assert!(text.contains("--path DIR/FILE.gguf"), "{text}");
    let mixed = r.dir("mixed", &["x-00001-of-00002.gguf", "y-00002-of-00002.gguf"]);
    assert!(
        usage(r.resolve(EngineType::Llamacpp, ModelSource::Local, Some(&mixed)))
            .contains("holds 2 models")
    );
}

#[test]
fn llama_cpp_takes_a_hugging_face_repository_through_hf_with_a_network_note() {
    let r = roots();
    let got = r
        .resolve(EngineType::Llamacpp, ModelSource::Huggingface, None)
        .unwrap();
    assert_eq!(got.model, ModelRef::Repository("org/repo".into()));
    assert!(got.note.unwrap().contains("network"));
    let mut model = r.model(ModelSource::Ollama, None);
    model.repo = "tinyllama".into();
    let text = usage(resolve(
        EngineType::Llamacpp,
        &model,
        std::slice::from_ref(&r.root),
    ));
    assert!(text.contains("neither a local .gguf file"), "{text}");
    model.repo = "org/repo-GGUF:Q4_K_M".into();
    assert!(resolve(EngineType::Llamacpp, &model, std::slice::from_ref(&r.root)).is_ok());
}

#[test]
fn vllm_takes_a_directory_or_a_repository_but_not_a_file() {
    let r = roots();
    let dir = r.dir("hf", &["config.json", "model.gguf"]);
    let got = r
        .resolve(EngineType::Vllm, ModelSource::Local, Some(&dir))
        .unwrap();
    assert_eq!(
        (got.model, got.mount.as_deref()),
        (mounted("/model"), dir.to_str())
    );
    let repo = r
        .resolve(EngineType::Vllm, ModelSource::Huggingface, None)
        .unwrap();
    assert_eq!(repo.model, ModelRef::Repository("org/repo".into()));
    let text = usage(r.resolve(
        EngineType::Vllm,
        ModelSource::Local,
        Some(&dir.join("model.gguf")),
    ));
    assert!(text.contains("vLLM loads a model directory"), "{text}");
    // The reference scenario serves a model labelled `ollama` with vLLM: the id is what counts.
    let labelled = r
        .resolve(EngineType::Vllm, ModelSource::Ollama, None)
        .unwrap();
    assert_eq!(labelled.model, ModelRef::Repository("org/repo".into()));
}

#[test]
fn ollama_takes_a_name_to_pull_and_refuses_paths() {
    let r = roots();
    let got = r
        .resolve(EngineType::Ollama, ModelSource::Ollama, None)
        .unwrap();
    assert_eq!(
        (got.model, got.mount),
        (ModelRef::Pulled("org/repo".into()), None)
    );
    let dir = r.dir("d", &["a.gguf"]);
    let text = usage(r.resolve(EngineType::Ollama, ModelSource::Local, Some(&dir)));
    assert!(text.contains("--source ollama"), "{text}");
}

#[test]
fn a_path_moved_out_of_the_roots_is_refused_at_resolution() {
    let r = roots();
    let outside = r._tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let text = usage(r.resolve(EngineType::Vllm, ModelSource::Local, Some(&outside)));
    assert!(text.contains("not under a model root"), "{text}");
}

#[test]
fn what_the_engine_was_given_is_described_by_its_host_path() {
    let r = roots();
    let dir = r.dir("tiny", &["tiny.gguf"]);
    let described = r
        .resolve(EngineType::Llamacpp, ModelSource::Local, Some(&dir))
        .unwrap()
        .describe();
    let host = dir.join("tiny.gguf");
    assert_eq!(
        described,
        format!("{} (mounted as /model/tiny.gguf)", host.display())
    );
    let repo = Resolved {
        model: ModelRef::Repository("owner/name".into()),
        mount: None,
        pinned: None,
        note: None,
    };
    assert_eq!(repo.describe(), "repository owner/name");
}
