//! Room on Docker's disk: a start refuses before any pull or container when Docker's data root
//! is below the minimum, goes on (and says why) when it cannot be measured, and a pull that
//! fills the disk is the same disk-full failure.

use super::{Fixture, assert_has};
use crate::domain::{Phase, Status};
use crate::error::{Detail, Kind};
use crate::runtime::fake::{Call, DATA_ROOT, Op};
use crate::runtime::{PullFailure, RuntimeError};

#[tokio::test]
async fn docker_below_the_minimum_fails_the_start_before_any_pull_or_container() {
    let mut f = Fixture::new();
    f.deps.config.disk.docker_min_free = 2 << 30;
    f.host.docker_free(Some(300 << 20));
    f.rt.image_missing();

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::DiskFull);
    assert_eq!(err.code.exit_code(), 11);
    assert_has(
        &err.message,
        &format!(
            "only 300 MiB free on the disk holding {DATA_ROOT}, below the 2 GiB aima keeps free there"
        ),
    );
    assert!(
        err.help
            .as_deref()
            .unwrap()
            .contains("AIMA_DOCKER_MIN_FREE"),
        "{err:?}"
    );
    assert_eq!(err.attempts.len(), 1, "never retried");
    assert_eq!(err.attempts[0].phase, Phase::Preflight);
    assert_eq!(err.attempts[0].code.as_deref(), Some("disk_full"));
    assert!(f.rt.created().is_empty(), "no container");
    assert_eq!(f.rt.count(|c| matches!(c, Call::Pull(_))), 0, "no pull");
    assert_eq!(f.service().status, Status::Failed);
}

#[tokio::test]
async fn a_data_root_that_cannot_be_measured_is_not_a_reason_to_refuse() {
    // Docker on another machine: its path means nothing here.
    let mut f = Fixture::new();
    f.host.docker_free(Some(0));
    f.rt.remote();
    assert_eq!(f.start(true).await.unwrap().status, Status::Running);

    // A local daemon whose data root this process cannot see (another mount namespace).
    let mut f = Fixture::new();
    f.host.docker_free(None);
    assert_eq!(f.start(true).await.unwrap().status, Status::Running);

    // A minimum of 0 turns the check off: Docker is not even asked.
    let mut f = Fixture::new();
    f.deps.config.disk.docker_min_free = 0;
    f.host.docker_free(Some(0));
    assert_eq!(f.start(true).await.unwrap().status, Status::Running);
    assert_eq!(f.rt.count(|c| matches!(c, Call::DataRoot)), 0);
}

#[tokio::test]
async fn a_pull_that_fills_docker_s_disk_is_disk_full_once() {
    let mut f = Fixture::new();
    f.rt.image_missing();
    let detail = "write /var/lib/docker/tmp/GetImageBlob1234: no space left on device";
    f.rt.fail_next(
        Op::Pull,
        RuntimeError::Pull {
            image: "vllm/vllm-openai:latest".into(),
            failure: PullFailure::classify(detail),
            detail: Detail(detail.into()),
        },
    );

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::DiskFull, "{err:?}");
    assert_has(&err.message, "the Docker host's disk is full");
    assert_eq!(err.attempts.len(), 1);
    assert_eq!(err.attempts[0].phase, Phase::Pull);
    assert_eq!(err.attempts[0].code.as_deref(), Some("disk_full"));
    assert!(f.rt.created().is_empty());
}

#[test]
fn docker_s_no_space_answer_to_a_create_is_disk_full() {
    use crate::error::Classified;
    let full = RuntimeError::api(
        "create container",
        500,
        "mkdir /var/lib/docker/overlay2/abc: no space left on device",
    );
    assert_eq!(full.kind(), Kind::DiskFull);
    let other = RuntimeError::api("create container", 500, "something else");
    assert_eq!(other.kind(), Kind::StartFailed);
}
