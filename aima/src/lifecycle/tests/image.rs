//! The pull step against the fake runtime: when the policy pulls, what a registry refusal does
//! to the start, and what a person watching is shown.

use std::sync::Mutex;

use super::{Fixture, assert_has, start_opts};
use crate::domain::{Phase, PullPolicy, Status};
use crate::error::{Detail, Kind};
use crate::lifecycle::{StartEvent, StartOptions};
use crate::runtime::fake::{Call, Op};
use crate::runtime::{PullFailure, RuntimeError};

fn pulls(f: &Fixture) -> usize {
    f.rt.count(|c| matches!(c, Call::Pull(_)))
}

fn opts(pull: Option<PullPolicy>) -> StartOptions<'static> {
    StartOptions {
        pull,
        ..start_opts()
    }
}

#[tokio::test]
async fn a_missing_image_is_pulled_and_the_service_runs() {
    let mut f = Fixture::new();
    f.rt.image_missing();

    let svc = f.start(true).await.unwrap();

    assert_eq!(svc.status, Status::Running);
    assert_eq!(pulls(&f), 1);
    assert!(svc.attempts.is_empty(), "{:?}", svc.attempts);
}

#[tokio::test]
async fn a_present_image_is_pulled_only_under_always() {
    let mut f = Fixture::new();
    f.start(true).await.unwrap();
    assert_eq!(pulls(&f), 0, "policy missing, image present: no pull");

    let mut f = Fixture::new();
    f.start_with(opts(Some(PullPolicy::Always)), std::future::pending())
        .await
        .unwrap();
    assert_eq!(pulls(&f), 1, "--pull always overrides the engine's policy");
}

#[tokio::test]
async fn pull_never_from_the_command_line_overrides_the_engine() {
    let mut f = Fixture::with_engine(|spec| spec.pull = PullPolicy::Always);
    f.rt.image_missing();

    let err = f
        .start_with(opts(Some(PullPolicy::Never)), std::future::pending())
        .await
        .unwrap_err();

    assert_eq!(pulls(&f), 0);
    assert!(
        err.help.as_deref().unwrap().contains("--pull missing"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_registry_refusal_fails_once_in_the_pull_phase_without_retry() {
    let mut f = Fixture::new();
    f.rt.image_missing();
    f.rt.fail_next(
        Op::Pull,
        RuntimeError::Pull {
            image: "vllm/vllm-openai:latest".into(),
            failure: PullFailure::UnknownImage,
            detail: Detail("manifest unknown".into()),
        },
    );

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::StartFailed);
    assert_has(&err.message, "has no such image");
    assert_eq!(err.causes(), ["manifest unknown"]);
    assert_eq!(pulls(&f), 1, "not retried");
    assert_eq!(err.attempts.len(), 1);
    assert_eq!(err.attempts[0].phase, Phase::Pull);
    assert!(f.rt.created().is_empty());
    assert_eq!(f.service().status, Status::Failed);
}

#[tokio::test]
async fn a_watcher_sees_the_pull_step_and_its_layers() {
    let mut f = Fixture::new();
    f.rt.image_missing();
    let seen = Mutex::new(Vec::new());
    let record = |e: StartEvent<'_>| {
        let line = match e {
            StartEvent::Step { phase, .. } => phase.as_str().to_owned(),
            StartEvent::Pulling(tally) => tally.summary(),
            StartEvent::EngineLog(line) => line.to_owned(),
        };
        seen.lock().unwrap().push(line);
    };
    let opts = StartOptions {
        progress: Some(&record),
        ..opts(None)
    };

    f.start_with(opts, std::future::pending()).await.unwrap();

    let seen = seen.into_inner().unwrap();
    let at = |what: &str| seen.iter().position(|s| s == what);
    assert!(
        at("pull") < at("create") && at("pull").is_some(),
        "{seen:?}"
    );
    assert!(
        seen.contains(&"1/1 layers, 0.0/0.0 MB".to_owned()),
        "{seen:?}"
    );
}
