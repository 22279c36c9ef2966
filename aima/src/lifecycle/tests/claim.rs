//! Claiming a service for a start: exactly one of two concurrent starts proceeds.

use std::time::Duration;

use super::{Fixture, ME, NewService, assert_has, start_waiting};
use crate::domain::ServiceId;
use crate::domain::Status;
use crate::error::Kind;
use crate::runtime::fake::FakeRuntime;
use crate::store::{Change, Store, StoreHandle};

#[tokio::test]
async fn a_start_while_another_is_starting_is_refused() {
    let mut f = Fixture::new();
    f.force_status(Status::Starting, Some(ME), None);

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::Conflict);
    assert_eq!(err.code.exit_code(), 4);
    assert_has(&err.message, "already starting");
    assert!(
        f.rt.created().is_empty(),
        "no container for a refused start"
    );
    assert_eq!(
        f.service().status,
        Status::Starting,
        "the other start is not disturbed"
    );
}

#[tokio::test]
async fn a_start_of_a_running_service_is_refused() {
    let mut f = Fixture::new();
    f.start(true).await.unwrap();

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::Conflict);
    assert_has(&err.message, "already running on port 8000");
    assert_eq!(f.rt.created().len(), 1);
}

/// Two stores on one database file stand for two `aima service start` processes.
#[tokio::test]
async fn of_two_concurrent_starts_exactly_one_proceeds() {
    let (f, second, _dir) = two_processes();
    f.host.set_healthy(false);
    let (deps, id, rt, host) = (f.deps.clone(), f.id.clone(), f.rt.clone(), f.host.clone());
    let first = start_waiting(&deps, &f.store, &id);
    let contender = async {
        until_started(&rt, &second, &id).await;
        let refused = start_waiting(&deps, &second, &id).await;
        host.set_healthy(true);
        refused
    };

    let (first, refused) = tokio::join!(first, contender);

    assert_eq!(first.unwrap().status, Status::Running);
    let err = refused.unwrap_err();
    assert_eq!(err.code, Kind::Conflict);
    assert_has(&err.message, "already starting");
    assert_eq!(
        rt.created().len(),
        1,
        "only the first start created a container"
    );
}

/// A fixture whose store is a file, plus a second store on it standing for another process.
fn two_processes() -> (Fixture, StoreHandle, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aima.db");
    let mut f = Fixture::new();
    f.store = StoreHandle::new(Box::new(Store::open(&db).unwrap()));
    f.id = f.add_service(NewService::default());
    let other = StoreHandle::new(Box::new(Store::open(&db).unwrap()));
    (f, other, dir)
}

/// Waits until the other process's start has claimed the row and created its container.
async fn until_started(rt: &FakeRuntime, store: &StoreHandle, id: &ServiceId) {
    while store.sync().get_service(id).unwrap().status != Status::Starting
        || rt.created().is_empty()
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_stop_during_a_waiting_start_wins() {
    let (f, other, _dir) = two_processes();
    f.host.set_healthy(false);
    let (deps, id, rt) = (f.deps.clone(), f.id.clone(), f.rt.clone());
    let start = start_waiting(&deps, &f.store, &id);
    let stopper = async {
        until_started(&rt, &other, &id).await;
        crate::lifecycle::stop(
            &deps,
            &other,
            &id,
            crate::lifecycle::StopMode::Graceful(None),
        )
        .await
    };

    let (started, stopped) = tokio::join!(start, stopper);

    assert!(started.is_err(), "the start must not report success");
    assert_eq!(
        stopped.ok().map(|s| s.service.status),
        Some(Status::Stopped)
    );
    assert_eq!(
        other.sync().get_service(&id).unwrap().status,
        Status::Stopped
    );
    assert!(rt.containers().is_empty(), "{:?}", rt.containers());
}

/// The stop has marked the row `stopping` but not yet removed anything when the engine turns
/// healthy: the start must not hand over, and must remove the container it made.
#[tokio::test]
async fn a_start_overtaken_by_a_stop_removes_its_container() {
    let (f, other, _dir) = two_processes();
    f.host.set_healthy(false);
    let (deps, id, rt, host) = (f.deps.clone(), f.id.clone(), f.rt.clone(), f.host.clone());
    let start = start_waiting(&deps, &f.store, &id);
    let stopper = async {
        until_started(&rt, &other, &id).await;
        let stopping = Change {
            to: Status::Stopping,
            last_error: None,
            attempts: Vec::new(),
            container_id: None,
            owner: None,
        };
        other
            .sync()
            .change_service(&id, &[Status::Starting], stopping)
            .unwrap();
        host.set_healthy(true);
    };

    let (started, ()) = tokio::join!(start, stopper);

    let err = started.unwrap_err();
    assert_eq!(err.code, Kind::Conflict);
    assert_has(&err.message, "stopped while it was starting");
    assert!(rt.containers().is_empty(), "{:?}", rt.containers());
}
