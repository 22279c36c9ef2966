//! `start`: preflight failures, retries, failure classes and what each leaves behind.

use std::collections::HashMap;
use std::time::Duration;

use super::{Fixture, PORT, assert_has, start_opts};
use crate::domain::Phase;
use crate::domain::Status;
use crate::error::Kind;
use crate::lifecycle::StartOptions;
use crate::runtime::RuntimeError;
use crate::runtime::fake::{Call, Op};

const ENGINE_ERROR: &str = "RuntimeError: Engine core initialization failed";
const CUDA_OOM: &str = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB";

/// The start failed, the row says `failed` with that message (and Docker's words after it for a
/// Docker failure), and no container of it is left.
fn assert_failed_clean(f: &Fixture, err: &crate::error::Error) {
    let svc = f.service();
    assert_eq!(svc.status, Status::Failed, "{err:?}");
    let recorded = svc.last_error.clone().unwrap_or_default();
    assert!(recorded.starts_with(&err.message), "{recorded:?} vs {err:?}");
    assert_eq!(
        svc.attempts, err.attempts,
        "the stored attempts are the reported ones"
    );
    assert_eq!(svc.container_id, None);
    assert!(
        f.own_containers().is_empty(),
        "left: {:?}",
        f.own_containers()
    );
    for id in f.rt.created() {
        assert!(
            f.rt.removed().contains(&id),
            "container {id} was not removed"
        );
    }
}

/// Docker refuses the next container create with `status` and `message`.
fn fail_create(f: &Fixture, status: u16, message: &str) {
    let refusal = RuntimeError::api("create container", status, message);
    f.rt.fail_next(Op::Create, refusal);
}

#[tokio::test]
async fn a_port_held_by_a_host_process_fails_at_once_without_a_container() {
    let mut f = Fixture::new();
    f.host.block(PORT, "python3", 999);

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::PortInUse);
    assert_eq!(err.code.exit_code(), 5);
    assert_has(&err.message, "port 8000 is in use by python3 (pid 999)");
    assert!(err.help.as_deref().unwrap().contains("kill 999"), "{err:?}");
    assert_eq!(err.attempts.len(), 1);
    assert_eq!(err.attempts[0].phase, Phase::Preflight);
    assert!(f.rt.created().is_empty(), "no container may be created");
    assert_failed_clean(&f, &err);
}

#[tokio::test]
async fn a_port_held_by_a_host_process_is_judged_without_listing_containers() {
    let mut f = Fixture::new();
    f.host.block(PORT, "python3", 999);

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::PortInUse);
    let lists = f.rt.count(|c| matches!(c, Call::List(_)));
    assert_eq!(lists, 0, "calls: {:?}", f.rt.calls());
}

#[tokio::test]
async fn a_port_held_by_dockers_proxy_is_named_after_its_container() {
    let mut f = Fixture::new();
    f.host.proxy_for(f.rt.clone());
    f.rt.add_foreign("web", "nginx:1.25", PORT);

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::PortInUse);
    assert_has(&err.message, "container web (image nginx:1.25)");
}

#[tokio::test]
async fn a_leftover_of_the_service_holding_the_port_is_removed_and_the_start_goes_on() {
    let mut f = Fixture::new();
    let leftover = f.add_labelled(&f.id.clone(), true);
    f.host.proxy_for(f.rt.clone());

    let svc = f.start(true).await.unwrap();

    assert_eq!(svc.status, Status::Running);
    assert_eq!(f.rt.removed(), [leftover]);
}

#[tokio::test]
async fn a_foreign_container_on_the_port_is_named_and_left_alone() {
    let mut f = Fixture::new();
    let web = f.rt.add_foreign("web", "nginx:1.25", PORT);

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::PortInUse);
    assert_has(&err.message, "container web (image nginx:1.25)");
    assert!(
        err.help.as_deref().unwrap().contains("docker rm -f web"),
        "{err:?}"
    );
    assert_eq!(err.attempts.len(), 1);
    assert!(
        f.rt.containers().iter().any(|c| c.id == web),
        "never remove a foreign container"
    );
    assert!(f.rt.created().is_empty());
    assert_failed_clean(&f, &err);
}

#[tokio::test]
async fn another_aima_service_on_the_port_is_named() {
    let mut f = Fixture::new();
    let other = crate::domain::ServiceId::generate();
    let theirs = f.add_labelled(&other, true);

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::PortInUse);
    assert_has(&err.message, &format!("aima service {other}"));
    assert!(
        err.help
            .as_deref()
            .unwrap()
            .contains(&format!("aima service stop {other}"))
    );
    assert!(f.rt.containers().iter().any(|c| c.id == theirs));
}

#[tokio::test]
async fn a_service_of_another_aima_data_dir_is_named_as_such_and_left_alone() {
    let mut f = Fixture::new();
    let labels = crate::lifecycle::labels::labels_for(
        &crate::domain::ServiceId::generate(),
        crate::domain::EngineType::Vllm,
        "0123456789ab",
    );
    let theirs =
        f.rt.add_container("their-engine", "img", labels, Some(PORT));

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::PortInUse);
    assert_has(&err.message, "of another aima data dir");
    assert!(
        !err.help.as_deref().unwrap().contains("aima service stop"),
        "{err:?}"
    );
    assert!(f.rt.containers().iter().any(|c| c.id == theirs));
}

#[tokio::test]
async fn an_engine_that_keeps_crashing_is_retried_up_to_the_limit() {
    let mut f = Fixture::new();
    f.rt.crash_on_start(3, &["loading model tinyllama", ENGINE_ERROR]);

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::StartFailed);
    assert_eq!(err.code.exit_code(), 7);
    let numbers: Vec<u32> = err.attempts.iter().map(|a| a.number).collect();
    assert_eq!(numbers, [1, 2, 3]);
    for a in &err.attempts {
        assert_eq!(a.phase, Phase::Health);
        assert_has(&a.reason, "exited during start-up with code 1");
        assert!(a.reason.ends_with(ENGINE_ERROR), "{}", a.reason);
        assert_eq!(a.log_tail.last().map(String::as_str), Some(ENGINE_ERROR));
    }
    assert_eq!(f.rt.created().len(), 3);
    assert_eq!(
        f.rt.removed(),
        f.rt.created(),
        "each failed container removed, in order"
    );
    let shown = err.render();
    for n in 1..=3 {
        assert_has(&shown, &format!("attempt {n}/3 after"));
    }
    assert_has(&shown, "\nhelp: ");
    assert_failed_clean(&f, &err);
}

#[tokio::test]
async fn each_failed_container_is_removed_before_the_next_is_created() {
    let mut f = Fixture::new();
    f.rt.crash_on_start(2, &[ENGINE_ERROR]);

    f.start(true).await.unwrap();

    let lifecycle: Vec<Call> =
        f.rt.calls()
            .into_iter()
            .filter(|c| matches!(c, Call::Create(_) | Call::StopAndRemove { .. }))
            .collect();
    let [
        Call::Create(_),
        Call::StopAndRemove { .. },
        Call::Create(_),
        Call::StopAndRemove { .. },
        Call::Create(_),
    ] = lifecycle.as_slice()
    else {
        panic!("unexpected order: {lifecycle:?}");
    };
}

#[tokio::test]
async fn a_crash_then_a_healthy_engine_ends_running_with_the_attempt_kept() {
    let mut f = Fixture::new();
    f.rt.crash_on_start(1, &[ENGINE_ERROR]);

    let svc = f.start(true).await.unwrap();

    assert_eq!(svc.status, Status::Running);
    assert_eq!(svc.attempts.len(), 1, "the failed attempt stays visible");
    let created = f.rt.created();
    assert_eq!(created.len(), 2);
    assert_eq!(f.rt.removed(), [created[0].clone()]);
    assert_eq!(svc.container_id.as_ref(), Some(&created[1]));
}

#[tokio::test]
async fn out_of_memory_in_the_log_is_not_retried() {
    let mut f = Fixture::new();
    f.rt.crash_on_start(3, &[CUDA_OOM]);

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::StartFailed);
    assert_eq!(err.attempts.len(), 1);
    assert_eq!(f.rt.created().len(), 1);
    assert!(
        err.help
            .as_deref()
            .unwrap()
            .contains("retrying will not help"),
        "{err:?}"
    );
    assert_failed_clean(&f, &err);
}

#[tokio::test]
async fn an_engine_killed_by_the_oom_killer_is_not_retried() {
    let mut f = Fixture::new();
    f.rt.oom_killed_on_start();

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.attempts.len(), 1);
    assert!(
        err.attempts[0].reason.contains("code 137"),
        "{:?}",
        err.attempts
    );
    assert_failed_clean(&f, &err);
}

#[tokio::test]
async fn docker_unreachable_is_docker_unavailable() {
    let mut f = Fixture::new();
    f.rt.unreachable();

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::DockerUnavailable);
    assert_eq!(err.code.exit_code(), 6);
    assert!(
        err.message.contains("fake://docker"),
        "names the address: {}",
        err.message
    );
    assert!(err.help.is_some());
    assert_eq!(err.attempts.len(), 1);
    assert_eq!(err.attempts[0].phase, Phase::Connect);
    assert_eq!(f.rt.count(|c| *c == Call::Ping), 1, "one ping, no retries");
    assert_failed_clean(&f, &err);
}

#[tokio::test]
async fn an_unusable_docker_host_is_docker_unavailable() {
    let mut f = Fixture::new();
    f.deps.connect = std::sync::Arc::new(|| {
        let bad = crate::runtime::DockerEndpoint::parse(Some("tcp://127.0.0.1:99999"));
        Err(bad.expect_err("port 99999 is out of range").into())
    });

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::DockerUnavailable);
    assert_has(&err.message, "DOCKER_HOST");
    assert_eq!(
        err.help.as_deref(),
        Some("fix or unset DOCKER_HOST (unset means unix:///var/run/docker.sock)")
    );
    assert_eq!(err.attempts.len(), 1);
    assert_eq!(f.service().status, Status::Failed);
}

#[tokio::test]
async fn a_port_conflict_reported_by_docker_at_start_is_port_in_use() {
    let mut f = Fixture::new();
    f.rt.port_taken_at_start(PORT);

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::PortInUse);
    assert_has(&err.message, "port 8000 is in use");
    assert!(
        err.causes()
            .iter()
            .any(|c| c.contains("address already in use")),
        "Docker's text follows as a cause: {err:?}"
    );
    assert_eq!(err.attempts.len(), 1, "a lost race is not retried");
    assert_eq!(err.attempts[0].phase, Phase::Start);
    assert_eq!(f.rt.created().len(), 1);
    assert_failed_clean(&f, &err);
}

#[tokio::test]
async fn a_transient_docker_error_is_retried() {
    let mut f = Fixture::new();
    fail_create(&f, 500, "Internal Server Error");

    let svc = f.start(true).await.unwrap();

    assert_eq!(svc.status, Status::Running);
    assert_eq!(svc.attempts.len(), 1);
    assert_eq!(svc.attempts[0].phase, Phase::Create);
}

#[tokio::test]
async fn a_docker_client_error_is_not_retried() {
    let mut f = Fixture::new();
    fail_create(&f, 400, "invalid reference format");

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::StartFailed);
    assert_eq!(err.attempts.len(), 1);
    assert_failed_clean(&f, &err);
    // Docker's words are the point of a Docker failure: the attempt and the row keep them.
    assert_has(&err.attempts[0].reason, "invalid reference format");
    assert_has(&f.service().last_error.unwrap(), "invalid reference format");
}

#[tokio::test]
async fn retries_stop_when_the_backoff_would_pass_the_deadline() {
    let mut f = Fixture::with_engine(|spec| spec.backoff_ms = 5_000);
    f.rt.crash_on_start(3, &[ENGINE_ERROR]);
    let opts = StartOptions {
        timeout: Duration::from_secs(2),
        ..start_opts()
    };

    let err = f
        .start_with(opts, std::future::pending())
        .await
        .unwrap_err();

    assert_eq!(err.attempts.len(), 1, "{err:?}");
    assert_failed_clean(&f, &err);
}

#[tokio::test]
async fn a_missing_image_under_pull_never_fails_in_preflight_with_the_override_hint() {
    let mut f = Fixture::with_engine(|spec| spec.pull = crate::domain::PullPolicy::Never);
    f.rt.image_missing();

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::StartFailed);
    assert_has(&err.message, "vllm/vllm-openai:latest");
    let help = err.help.as_deref().unwrap();
    assert_has(help, "docker pull vllm/vllm-openai:latest");
    assert_has(help, "AIMA_VLLM_IMAGE");
    assert_eq!(err.attempts.len(), 1);
    assert_eq!(err.attempts[0].phase, Phase::Preflight);
    assert!(f.rt.created().is_empty());
}

#[tokio::test]
async fn a_gpu_engine_without_a_gpu_runtime_fails_in_preflight() {
    let mut f = Fixture::with_engine(|spec| spec.gpu = true);
    f.rt.no_gpu_runtime();

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::StartFailed);
    assert_has(&err.message, "asks for GPUs (all)");
    assert_has(&err.message, "no usable GPU path");
    let help = err.help.as_deref().unwrap();
    assert!(
        help.contains("--gpus none") && help.contains("AIMA_VLLM_GPUS=none"),
        "{help}"
    );
    assert_eq!(err.attempts.len(), 1);
    assert!(f.rt.created().is_empty());
}

#[tokio::test]
async fn leftover_containers_of_the_service_are_removed_first() {
    let mut f = Fixture::new();
    let leftover = f.add_labelled(&f.id.clone(), false);

    let svc = f.start(true).await.unwrap();

    assert_eq!(svc.status, Status::Running);
    assert_eq!(f.rt.removed(), [leftover]);
    assert_eq!(f.own_containers().len(), 1);
}

#[tokio::test]
async fn a_healthy_engine_ends_running_with_its_container_and_labels() {
    let mut f = Fixture::new();

    let svc = f.start(true).await.unwrap();

    assert_eq!(svc.status, Status::Running);
    assert_eq!((svc.owner, svc.last_error.as_deref()), (None, None));
    assert!(svc.attempts.is_empty());
    let [container] = f.own_containers().try_into().unwrap();
    assert_eq!(svc.container_id.as_ref(), Some(&container.id));
    assert_eq!(container.published_ports, [PORT]);
    let expected: HashMap<String, String> = HashMap::from([
        ("aima.managed".into(), "true".into()),
        ("aima.engine".into(), "vllm".into()),
        ("aima.service".into(), f.id.to_string()),
        ("aima.instance".into(), f.deps.config.instance.clone()),
    ]);
    assert_eq!(container.labels, expected);
}

#[tokio::test]
async fn an_engine_never_healthy_times_out_and_is_removed() {
    let mut f = Fixture::new();
    f.host.set_healthy(false);
    let opts = StartOptions {
        timeout: Duration::from_millis(300),
        ..start_opts()
    };

    let err = f
        .start_with(opts, std::future::pending())
        .await
        .unwrap_err();

    assert_eq!(err.code, Kind::Timeout);
    assert_eq!(err.code.exit_code(), 8);
    assert_eq!(err.attempts.len(), 1);
    assert_eq!(err.attempts[0].phase, Phase::Health);
    assert_failed_clean(&f, &err);
}

#[tokio::test]
async fn an_interrupted_start_is_failed_and_cleaned_up() {
    let mut f = Fixture::new();
    f.host.set_healthy(false);
    let opts = StartOptions {
        timeout: Duration::from_secs(30),
        ..start_opts()
    };
    let signal = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        "SIGTERM"
    };

    let err = f.start_with(opts, signal).await.unwrap_err();

    assert_eq!(err.code, Kind::Interrupted);
    assert_eq!(err.code.exit_code(), 130);
    assert_has(&err.message, "SIGTERM");
    assert_eq!(err.attempts.last().unwrap().phase, Phase::Interrupted);
    assert_eq!(
        f.rt.created().len(),
        1,
        "the start had got as far as a container"
    );
    assert_failed_clean(&f, &err);
}
