//! What the liveness watch does to a service, against the fake Docker: an engine taken for dead
//! reads `failed` with the reason and leaves no container, the supervisor answers it per
//! policy, an operator's stop that came first wins, and restarts are forgiven only while the
//! watched container still runs.

use super::{Fixture, assert_has};
use crate::domain::{BACKOFF_MAX, ContainerId, RestartPolicy, Status};
use crate::lifecycle::liveness::{fail_unanswering, forgive_restarts};
use crate::lifecycle::supervise::{answer, restart};
use crate::lifecycle::{StopMode, refresh_all, stop};

const REASON: &str = "stopped answering its health check: 3 probes of /health in a row failed";

fn supervised(policy: &str) -> Fixture {
    let policy = RestartPolicy::parse(policy).unwrap();
    Fixture::with_engine(|spec| spec.restart = policy)
}

/// One pass of the supervisor at `now`, as the daemon's reconciler runs it.
async fn pass(f: &Fixture, now: i64) -> Vec<crate::domain::ServiceId> {
    let services = refresh_all(&f.deps, &f.store).await.unwrap();
    answer(&f.store, &services, now, BACKOFF_MAX).await.unwrap()
}

async fn running(f: &mut Fixture) -> ContainerId {
    let svc = f.start(true).await.unwrap();
    assert_eq!(svc.status, Status::Running);
    svc.container_id.unwrap()
}

#[tokio::test]
async fn with_policy_no_a_dead_engine_reads_failed_and_leaves_no_container() {
    let mut f = supervised("no");
    let container = running(&mut f).await;

    let failed = fail_unanswering(&f.deps, &f.store, &f.id, &container, REASON.into())
        .await
        .unwrap()
        .expect("the row still ran that container");

    assert_eq!((failed.status, failed.container_id), (Status::Failed, None));
    assert_has(failed.last_error.as_deref().unwrap(), "stopped answering its health check");
    assert!(f.own_containers().is_empty(), "{:?}", f.own_containers());
    // Policy `no`: it stays failed.
    assert!(pass(&f, crate::clock::now_ms() + 3_600_000).await.is_empty());
    assert_eq!(f.service().status, Status::Failed);
}

#[tokio::test]
async fn with_policy_always_the_supervisor_restarts_it_in_a_new_container() {
    let mut f = supervised("always");
    let first = running(&mut f).await;
    fail_unanswering(&f.deps, &f.store, &f.id, &first, REASON.into())
        .await
        .unwrap()
        .unwrap();

    let now = crate::clock::now_ms();
    assert!(pass(&f, now).await.is_empty(), "backs off first");
    let svc = f.service();
    assert_eq!((svc.status, svc.restarts), (Status::Backoff, 1));
    assert_eq!(pass(&f, now + 1_000).await, [f.id.clone()]);
    let svc = restart(&f.deps, &f.store, &f.id).await.unwrap();
    assert_eq!((svc.status, svc.restarts), (Status::Running, 1));
    assert_ne!(svc.container_id.unwrap(), first);
    assert_eq!(f.own_containers().len(), 1);
}

#[tokio::test]
async fn on_failure_gives_up_with_the_liveness_reason() {
    let mut f = supervised("on-failure:1");
    let first = running(&mut f).await;
    fail_unanswering(&f.deps, &f.store, &f.id, &first, REASON.into())
        .await
        .unwrap()
        .unwrap();
    let now = crate::clock::now_ms();
    pass(&f, now + 1_000).await;
    let second = restart(&f.deps, &f.store, &f.id).await.unwrap().container_id.unwrap();
    fail_unanswering(&f.deps, &f.store, &f.id, &second, REASON.into())
        .await
        .unwrap()
        .unwrap();

    pass(&f, now + 3_600_000).await;

    let svc = f.service();
    assert_eq!(svc.status, Status::Failed);
    let reason = svc.last_error.unwrap();
    assert_has(&reason, "crash loop: 1 restarts, last: stopped answering its health check");
    assert!(f.own_containers().is_empty());
}

#[tokio::test]
async fn an_operators_stop_that_came_first_wins() {
    let mut f = supervised("always");
    let container = running(&mut f).await;
    stop(&f.deps, &f.store, &f.id, StopMode::Kill).await.unwrap();

    let failed = fail_unanswering(&f.deps, &f.store, &f.id, &container, REASON.into())
        .await
        .unwrap();

    assert!(failed.is_none());
    let svc = f.service();
    assert_eq!((svc.status, svc.last_error), (Status::Stopped, None));
    assert!(pass(&f, crate::clock::now_ms() + 3_600_000).await.is_empty());
    assert_eq!(f.service().status, Status::Stopped);
}

#[tokio::test]
async fn a_probe_of_an_older_container_changes_nothing() {
    let mut f = supervised("always");
    let container = running(&mut f).await;
    let older = ContainerId::from("an-older-container");

    let failed = fail_unanswering(&f.deps, &f.store, &f.id, &older, REASON.into())
        .await
        .unwrap();

    assert!(failed.is_none());
    let svc = f.service();
    assert_eq!((svc.status, svc.container_id), (Status::Running, Some(container)));
    assert_eq!(f.own_containers().len(), 1);
}

#[tokio::test]
async fn restarts_are_forgiven_only_while_the_watched_container_runs() {
    let mut f = supervised("on-failure:3");
    let first = running(&mut f).await;
    f.rt.exit_container(&first, 1, &["engine died"]);
    pass(&f, crate::clock::now_ms() + 1_000).await;
    let svc = restart(&f.deps, &f.store, &f.id).await.unwrap();
    let second = svc.container_id.unwrap();
    assert_eq!(svc.restarts, 1);

    assert!(!forgive_restarts(&f.store, &f.id, &first).await.unwrap());
    assert_eq!(f.service().restarts, 1);
    assert!(forgive_restarts(&f.store, &f.id, &second).await.unwrap());
    assert_eq!(f.service().restarts, 0);
    assert!(!forgive_restarts(&f.store, &f.id, &second).await.unwrap(), "nothing left");
}
