//! `stop`: from every state it ends `stopped`, removes this service's containers and no other's,
//! and running it again changes nothing.

use super::{Fixture, ME, PORT, assert_has};
use crate::domain::Status;
use crate::error::Kind;
use crate::lifecycle::{StopMode, stop};
use crate::runtime::fake::{Call, Op};

#[tokio::test]
async fn stop_from_every_state_ends_stopped_and_is_idempotent() {
    let states = Status::ALL;
    for from in states {
        let mut f = Fixture::new();
        f.force_status(from, (from == Status::Starting).then_some(ME), None);
        let mine = [
            f.add_labelled(&f.id.clone(), true),
            f.add_labelled(&f.id.clone(), false),
        ];
        let other = crate::domain::ServiceId::generate();
        let theirs = f.add_labelled(&other, false);
        let foreign = f.rt.add_foreign("web", "nginx:1.25", 9999.into());

        let first = stop(&f.deps, &f.store, &f.id, StopMode::Graceful(None))
            .await
            .unwrap();
        let again = stop(&f.deps, &f.store, &f.id, StopMode::Graceful(None))
            .await
            .unwrap();

        assert_eq!(first.service.status, Status::Stopped, "from {from:?}");
        assert!(first.port_released);
        let mut removed = f.rt.removed();
        removed.sort();
        assert_eq!(removed, mine, "from {from:?}: only its own containers");
        let left: Vec<_> = f.rt.containers().into_iter().map(|c| c.id).collect();
        assert_eq!(left, [theirs, foreign], "from {from:?}");
        assert_eq!(again.service.status, Status::Stopped);
        assert_eq!(
            f.rt.removed().len(),
            2,
            "the second stop removed nothing more"
        );
        assert_eq!(f.service().container_id, None);
    }
}

#[tokio::test]
async fn stop_after_a_start_removes_the_engine_and_keeps_the_record() {
    let mut f = Fixture::new();
    f.rt.crash_on_start(1, &["RuntimeError: Engine core initialization failed"]);
    f.start(true).await.unwrap();

    let stopped = stop(&f.deps, &f.store, &f.id, StopMode::Graceful(None))
        .await
        .unwrap();

    assert_eq!(stopped.service.status, Status::Stopped);
    assert_eq!(
        stopped.service.port, PORT,
        "the port stays with the service"
    );
    assert_eq!(
        stopped.service.attempts.len(),
        1,
        "the last start's attempts stay visible"
    );
    assert!(f.own_containers().is_empty());
}

#[tokio::test]
async fn force_kills_instead_of_stopping_gracefully() {
    let mut f = Fixture::new();
    f.start(true).await.unwrap();
    let graceful_removals = |f: &Fixture| {
        f.rt.count(|c| matches!(c, Call::StopAndRemove { force: false, .. }))
    };

    stop(&f.deps, &f.store, &f.id, StopMode::Kill)
        .await
        .unwrap();

    assert_eq!(graceful_removals(&f), 0);
    assert_eq!(
        f.rt.count(|c| matches!(c, Call::StopAndRemove { force: true, .. })),
        1
    );
}

#[tokio::test]
async fn a_graceful_stop_waits_the_given_time_else_the_engine_default() {
    let graceful = |f: &Fixture, secs: u32| {
        f.rt.count(|c| matches!(c, Call::StopWithin { grace_secs, .. } if *grace_secs == secs))
    };
    let mut f = Fixture::new();
    f.start(true).await.unwrap();
    stop(&f.deps, &f.store, &f.id, StopMode::Graceful(Some(2)))
        .await
        .unwrap();
    assert_eq!(graceful(&f, 2), 1, "the time asked for");

    f.start(true).await.unwrap();
    stop(&f.deps, &f.store, &f.id, StopMode::Graceful(None))
        .await
        .unwrap();
    let default = f.deps.config.engine(f.service().engine_type).stop_secs;
    assert_eq!(default, crate::domain::DEFAULT_STOP_SECS);
    assert_eq!(graceful(&f, default), 1, "the engine's stop_secs");
    assert_eq!(
        f.rt.count(|c| matches!(c, Call::StopAndRemove { .. })),
        0,
        "nothing was killed outright"
    );
}

#[test]
fn force_and_a_grace_period_exclude_each_other() {
    let err = StopMode::from_request(true, Some(3)).unwrap_err();
    assert_eq!(err.code, Kind::Usage);
    let err = StopMode::from_request(false, Some(86_401)).unwrap_err();
    assert_eq!(err.code, Kind::Usage);
    assert_eq!(StopMode::from_request(true, None).unwrap(), StopMode::Kill);
    assert_eq!(
        StopMode::from_request(false, Some(0)).unwrap(),
        StopMode::Graceful(Some(0))
    );
}

#[tokio::test]
async fn a_stop_with_docker_away_fails_clearly_and_changes_nothing() {
    let mut f = Fixture::new();
    f.start(true).await.unwrap();
    f.rt.unreachable();

    let Err(err) = stop(&f.deps, &f.store, &f.id, StopMode::Graceful(None)).await else {
        panic!("stop succeeded with Docker away");
    };

    assert_eq!(err.code, Kind::DockerUnavailable);
    assert_has(&err.message, "fake://docker");
    assert_eq!(f.service().status, Status::Running);
}

#[tokio::test]
async fn a_port_still_held_after_the_stop_is_reported_not_fatal() {
    let mut f = Fixture::new();
    f.start(true).await.unwrap();
    f.host.block(PORT, "docker-proxy", 4321);

    let stopped = stop(&f.deps, &f.store, &f.id, StopMode::Graceful(None))
        .await
        .unwrap();

    assert!(!stopped.port_released);
    assert_eq!(stopped.service.status, Status::Stopped);
}

/// Stop classifies a Docker failure as start does: an answer with an error is not "Docker
/// unavailable", and an unreachable daemon gets the same kind and hint in both.
#[tokio::test]
async fn stop_and_start_classify_docker_failures_alike() {
    let refused = || crate::runtime::RuntimeError::api("stop container", 400, "bad parameter");
    let mut f = Fixture::new();
    f.start(true).await.unwrap();
    f.rt.fail_next(Op::StopAndRemove, refused());
    let Err(on_stop) = stop(&f.deps, &f.store, &f.id, StopMode::Graceful(None)).await else {
        panic!("stop succeeded though Docker refused");
    };
    assert_eq!(on_stop.code, Kind::StartFailed, "{on_stop:?}");
    assert!(
        on_stop.message.starts_with("cannot stop service"),
        "{}",
        on_stop.message
    );

    let mut g = Fixture::new();
    g.rt.fail_next(Op::Create, refused());
    let on_start = g.start(true).await.unwrap_err();
    assert_eq!(on_start.code, on_stop.code);

    let mut h = Fixture::new();
    h.start(true).await.unwrap();
    h.rt.unreachable();
    let stop_away = stop(&h.deps, &h.store, &h.id, StopMode::Graceful(None))
        .await
        .err()
        .unwrap();
    let mut i = Fixture::new();
    i.rt.unreachable();
    let start_away = i.start(true).await.unwrap_err();
    assert_eq!(stop_away.code, Kind::DockerUnavailable);
    assert_eq!(
        (stop_away.code, &stop_away.help),
        (start_away.code, &start_away.help)
    );
}
