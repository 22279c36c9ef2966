//! `refresh`: a detached start becomes `running` or `failed`; a start whose process died, or a
//! running engine whose container went away, becomes `failed` with its containers removed.

use super::{Fixture, ME, assert_has};
use crate::domain::{Owner, Status};
use crate::lifecycle::refresh::resolve;
use crate::lifecycle::{refresh, refresh_all};
use crate::runtime::SharedRuntime;

#[tokio::test]
async fn a_detached_start_is_starting_then_running_once_healthy() {
    let mut f = Fixture::new();
    f.host.set_healthy(false);

    let svc = f.start(false).await.unwrap();
    assert_eq!(svc.status, Status::Starting);
    assert_eq!(svc.owner, None, "a detached start has no owning process");
    assert!(svc.container_id.is_some());

    let svc = refresh(&f.deps, &f.store, &f.id).await.unwrap();
    assert_eq!(svc.status, Status::Starting, "still loading");

    f.host.set_healthy(true);
    let svc = refresh(&f.deps, &f.store, &f.id).await.unwrap();
    assert_eq!(svc.status, Status::Running);
    assert_eq!(f.own_containers().len(), 1);
}

#[tokio::test]
async fn a_detached_start_whose_engine_exits_is_failed_and_removed() {
    let mut f = Fixture::new();
    f.host.set_healthy(false);
    let svc = f.start(false).await.unwrap();
    let container = svc.container_id.unwrap();
    f.rt.exit_container(&container, 1, &["ValueError: unknown model tinyllama"]);

    let svc = refresh(&f.deps, &f.store, &f.id).await.unwrap();

    assert_eq!(svc.status, Status::Failed);
    let error = svc.last_error.unwrap();
    assert_has(&error, "exited with code 1");
    assert_has(&error, "unknown model tinyllama");
    assert!(f.own_containers().is_empty());
}

#[tokio::test]
async fn a_starting_row_whose_owner_died_is_failed_and_its_containers_removed() {
    let mut f = Fixture::new();
    let dead = Owner {
        pid: 31337,
        start_time: 1,
        ..ME
    };
    f.force_status(Status::Starting, Some(dead), None);
    let mine = f.add_labelled(&f.id.clone(), true);
    let other = crate::domain::ServiceId::generate();
    let theirs = f.add_labelled(&other, false);

    let svc = refresh(&f.deps, &f.store, &f.id).await.unwrap();

    assert_eq!(svc.status, Status::Failed);
    let error = svc.last_error.unwrap();
    assert_has(&error, "start interrupted");
    assert_has(&error, "pid 31337");
    assert_eq!(svc.owner, None);
    assert_eq!(f.rt.removed(), [mine]);
    assert!(f.rt.containers().iter().any(|c| c.id == theirs));
}

#[tokio::test]
async fn a_stop_whose_process_died_is_failed_not_stuck_at_stopping() {
    let mut f = Fixture::new();
    let dead = Owner {
        pid: 31338,
        start_time: 1,
        ..ME
    };
    f.force_status(Status::Stopping, Some(dead), None);
    let mine = f.add_labelled(&f.id.clone(), true);

    let svc = refresh(&f.deps, &f.store, &f.id).await.unwrap();

    assert_eq!(svc.status, Status::Failed);
    let error = svc.last_error.unwrap();
    assert_has(&error, "stop interrupted");
    assert_eq!(f.rt.removed(), [mine]);
}

#[tokio::test]
async fn a_dead_owner_is_noticed_even_with_docker_away() {
    let mut f = Fixture::new();
    f.force_status(
        Status::Starting,
        Some(Owner {
            pid: 1,
            start_time: 9,
            ..ME
        }),
        None,
    );
    f.rt.unreachable();

    let services = refresh_all(&f.deps, &f.store).await.unwrap();

    assert_eq!(services[0].status, Status::Failed);
}

#[tokio::test]
async fn a_start_with_a_live_owner_is_left_alone() {
    let mut f = Fixture::new();
    f.force_status(Status::Starting, Some(ME), None);

    let svc = refresh(&f.deps, &f.store, &f.id).await.unwrap();

    assert_eq!((svc.status, svc.owner), (Status::Starting, Some(ME)));
    assert!(f.rt.removed().is_empty());
}

#[tokio::test]
async fn a_running_service_whose_container_is_gone_is_failed() {
    let mut f = Fixture::new();
    f.force_status(Status::Running, None, Some(&"0123456789abcdef".into()));

    let [svc] = refresh_all(&f.deps, &f.store)
        .await
        .unwrap()
        .try_into()
        .unwrap();

    assert_eq!(svc.status, Status::Failed);
    assert!(svc.last_error.unwrap().contains("0123456789ab is gone"));
}

#[tokio::test]
async fn a_reader_that_loses_the_race_returns_the_stored_row_not_its_stale_copy() {
    let mut f = Fixture::new();
    f.force_status(Status::Running, None, Some(&"0123456789abcdef".into()));
    let stale = f.store.sync().get_service(&f.id).unwrap();
    // Another reader resolves it first.
    let first = refresh(&f.deps, &f.store, &f.id).await.unwrap();
    assert_eq!(first.status, Status::Failed);

    let rt = f.deps.docker().await.unwrap();
    let svc = crate::lifecycle::refresh::resolve(&f.deps, &f.store, stale, Some(&rt))
        .await
        .unwrap();

    assert_eq!(svc.status, Status::Failed, "{svc:?}");
}

#[tokio::test]
async fn with_docker_away_a_running_row_is_kept_as_it_is() {
    let mut f = Fixture::new();
    f.start(true).await.unwrap();
    f.rt.unreachable();

    let svc = refresh(&f.deps, &f.store, &f.id).await.unwrap();

    assert_eq!(svc.status, Status::Running, "unknown is not failed");
}

#[tokio::test]
async fn settled_states_need_no_docker_at_all() {
    let mut f = Fixture::new();
    f.force_status(Status::Failed, None, None);

    refresh_all(&f.deps, &f.store).await.unwrap();

    assert!(f.rt.calls().is_empty(), "{:?}", f.rt.calls());
}

/// An owner that lives in another PID namespace (a starter in a container): its pid means
/// nothing to this host.
fn in_another_namespace(lease_until: i64) -> Owner {
    Owner {
        pid: 1,
        start_time: 5,
        pid_ns: ME.pid_ns + 1,
        lease_until,
        ..ME
    }
}

#[tokio::test]
async fn a_starter_in_another_pid_namespace_is_not_declared_dead_while_its_lease_holds() {
    let mut f = Fixture::new();
    let theirs = in_another_namespace(crate::clock::now_ms() + 60_000);
    f.force_status(Status::Starting, Some(theirs), None);
    let mine = f.add_labelled(&f.id.clone(), true);

    let svc = refresh(&f.deps, &f.store, &f.id).await.unwrap();

    assert_eq!((svc.status, svc.owner), (Status::Starting, Some(theirs)));
    assert!(f.rt.removed().is_empty());
    assert!(f.rt.containers().iter().any(|c| c.id == mine));
}

#[tokio::test]
async fn a_lapsed_lease_fails_the_start_wherever_its_owner_runs() {
    let lapsed = crate::clock::now_ms() - 1;
    // In another namespace (unknowable), and here but alive yet silent (hung).
    for owner in [
        in_another_namespace(lapsed),
        Owner {
            lease_until: lapsed,
            ..ME
        },
    ] {
        let mut f = Fixture::new();
        f.force_status(Status::Starting, Some(owner), None);
        let mine = f.add_labelled(&f.id.clone(), true);

        let svc = refresh(&f.deps, &f.store, &f.id).await.unwrap();

        assert_eq!(svc.status, Status::Failed);
        let error = svc.last_error.unwrap();
        assert_has(&error, "has not renewed its lease");
        assert_eq!(f.rt.removed(), [mine]);
    }
}

#[tokio::test]
async fn the_owner_renews_its_lease_while_it_works_and_stops_once_the_row_moves_on() {
    let mut f = Fixture::new();
    let claimed = Owner {
        lease_until: crate::clock::now_ms() + 300,
        claim: 7,
        ..ME
    };
    f.force_status(Status::Starting, Some(claimed), None);
    let lease = std::time::Duration::from_millis(300);
    let id = f.id.clone();
    let beating = super::super::lease::hold(&f.store, &id, Status::Starting, claimed, lease);
    let _ = tokio::time::timeout(std::time::Duration::from_millis(700), beating).await;
    let renewed = f.service().owner.unwrap().lease_until;
    assert!(
        renewed > claimed.lease_until,
        "{renewed} <= {}",
        claimed.lease_until
    );

    // Someone else took the row over: the heartbeat no longer touches it.
    f.force_status(Status::Stopping, Some(claimed), None);
    let before = f.service().owner.unwrap().lease_until;
    let beating = super::super::lease::hold(&f.store, &id, Status::Starting, claimed, lease);
    let held = tokio::time::timeout(std::time::Duration::from_millis(400), beating).await;
    assert_eq!(
        held,
        Ok(super::super::lease::Lost),
        "the holder is told at once"
    );
    assert_eq!(f.service().owner.unwrap().lease_until, before);
}

/// The reconciler read `starting` (owner X); X then wrote `running` and exited before the look
/// at its process. The look finds X gone, but the engine X started must stay.
#[tokio::test]
async fn a_starter_that_finished_after_the_read_keeps_its_engine() {
    let mut f = Fixture::new();
    let finished = Owner {
        pid: 31339,
        start_time: 1,
        ..ME
    };
    f.force_status(Status::Starting, Some(finished), None);
    let stale = f.store.sync().get_service(&f.id).unwrap();
    let engine = f.add_labelled(&f.id.clone(), true);
    f.force_status(Status::Running, None, Some(&engine));

    let rt: SharedRuntime = f.rt.clone();
    let svc = resolve(&f.deps, &f.store, stale, Some(&rt)).await.unwrap();

    assert_eq!(svc.status, Status::Running);
    assert_eq!(svc.container_id, Some(engine));
    assert!(f.rt.removed().is_empty(), "removed: {:?}", f.rt.removed());
}
