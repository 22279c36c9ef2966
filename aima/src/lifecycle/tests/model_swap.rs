//! A local model's directory swapped for a symlink to `/` after its check: at any moment before
//! Docker mounts it, the start fails, is not retried, and leaves no container.

use std::path::PathBuf;

use super::{Fixture, assert_has};
use crate::domain::{EngineType, ModelSource, Status};
use crate::error::Kind;
use crate::ops::{self, CreateModel, CreateService};
use crate::runtime::fake::Op;

/// The fixture with its service on a local vLLM model directory `models/tiny` under the model
/// root; returns that directory's canonical path.
fn local_model(f: &mut Fixture) -> PathBuf {
    let root = f.deps.config.model_roots[0].clone();
    let dir = root.join("tiny");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), "{}").unwrap();
    let model = ops::create_model(
        &f.deps.config,
        &mut f.store.sync(),
        CreateModel {
            name: "tiny-local".into(),
            source: ModelSource::Local,
            repo: "tiny".into(),
            path: Some(dir.to_str().unwrap().to_owned()),
            model_type: None,
        },
    )
    .unwrap();
    let req = CreateService {
        model_id: model.id.to_string(),
        engine_type: EngineType::Vllm,
        port: Some(8001),
        name: None,
        bind: None,
        gpus: None,
        memory: None,
        restart: None,
        settings: Default::default(),
    };
    f.id = ops::create_service(&f.deps, &mut f.store.sync(), req).unwrap().id;
    dir.canonicalize().unwrap()
}

/// Replaces `dir` with a symlink to `/`, as a neighbour who may write under the root would.
fn swap_for_root(dir: PathBuf) -> impl FnOnce() + Send + 'static {
    move || {
        std::fs::rename(&dir, dir.with_file_name("tiny.away")).unwrap();
        std::os::unix::fs::symlink("/", &dir).unwrap();
    }
}

#[tokio::test]
async fn an_unchanged_directory_is_mounted_by_its_canonical_path() {
    let mut f = Fixture::new();
    let dir = local_model(&mut f);
    f.start(true).await.unwrap();
    assert_eq!(f.service().status, Status::Running);
    let mounts: Vec<_> = f.rt.specs().into_iter().map(|s| s.mount).collect();
    assert_eq!(mounts, [Some(dir.to_str().unwrap().to_owned())]);
}

#[tokio::test]
async fn a_swap_between_the_check_and_the_start_fails_without_retry_or_container() {
    let mut f = Fixture::new();
    let dir = local_model(&mut f);
    // Docker would follow the symlink when it starts the container and mount `/`.
    f.rt.before(Op::Start, swap_for_root(dir.clone()));
    let err = f.start(true).await.unwrap_err();
    assert_eq!(err.code, Kind::StartFailed, "{}", err.render());
    assert_has(
        &err.message,
        &format!("model directory {} was swapped", dir.display()),
    );
    assert_has(&err.message, "resolves to /");
    assert_has(&err.render(), "retrying as is will not help");
    assert_eq!(
        err.attempts.len(),
        1,
        "a swap is not retried: {:?}",
        err.attempts
    );
    assert_eq!(err.attempts[0].code.as_deref(), Some("model_swapped"));
    let svc = f.service();
    assert_eq!(svc.status, Status::Failed);
    assert!(f.own_containers().is_empty(), "{:?}", f.own_containers());
    assert_eq!(f.rt.created().len(), 1);
    assert_eq!(f.rt.removed(), f.rt.created());
}

#[tokio::test]
async fn a_swap_during_the_image_check_is_caught_before_any_container_exists() {
    let mut f = Fixture::new();
    let dir = local_model(&mut f);
    f.rt.before(Op::ImageExists, swap_for_root(dir));
    let err = f.start(true).await.unwrap_err();
    assert_eq!(err.code, Kind::StartFailed, "{}", err.render());
    assert_has(&err.message, "not under a model root");
    assert!(f.rt.created().is_empty(), "created {:?}", f.rt.created());
}
