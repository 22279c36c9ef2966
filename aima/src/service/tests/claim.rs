//! Claiming a service for a start: exactly one of two concurrent starts proceeds.

use std::time::Duration;

use super::{Fixture, ME};
use crate::error::Kind;
use crate::records::Status;
use crate::service::StartOptions;
use crate::store::Store;

#[tokio::test]
async fn a_start_while_another_is_starting_is_refused() {
    let mut f = Fixture::new();
    f.force_status(Status::Starting, Some(ME), None);

    let err = f.start(true).await.unwrap_err();

    assert_eq!(err.code, Kind::Conflict);
    assert_eq!(err.code.exit_code(), 4);
    assert!(err.message.contains("already starting"), "{}", err.message);
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
    assert!(
        err.message.contains("already running on port 8000"),
        "{}",
        err.message
    );
    assert_eq!(f.rt.created().len(), 1);
}

/// Two stores on one database file stand for two `aima service start` processes.
#[tokio::test]
async fn of_two_concurrent_starts_exactly_one_proceeds() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aima.db");
    let mut f = Fixture::new();
    f.store = Store::open(&db).unwrap();
    f.id = super::add_service(&f.deps, &mut f.store, None);
    let mut second = Store::open(&db).unwrap();
    f.host.set_healthy(false);

    let (deps, id, host) = (f.deps.clone(), f.id.clone(), f.host.clone());
    let opts = StartOptions {
        wait: true,
        timeout: Duration::from_secs(30),
        progress: None,
    };
    let first = crate::service::start(&deps, &mut f.store, &id, opts, std::future::pending());
    let contender = async {
        while second.get_service(&id).unwrap().status != Status::Starting {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let opts = StartOptions {
            wait: true,
            timeout: Duration::from_secs(30),
            progress: None,
        };
        let refused =
            crate::service::start(&deps, &mut second, &id, opts, std::future::pending()).await;
        host.set_healthy(true);
        refused
    };

    let (first, refused) = tokio::join!(first, contender);

    assert_eq!(first.unwrap().status, Status::Running);
    let err = refused.unwrap_err();
    assert_eq!(err.code, Kind::Conflict);
    assert!(err.message.contains("already starting"), "{}", err.message);
    assert_eq!(
        f.rt.created().len(),
        1,
        "only the first start created a container"
    );
}
