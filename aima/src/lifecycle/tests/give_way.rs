//! A stop wins over a start in progress at whatever step the start is: the starter ends,
//! removes what it created and creates nothing more, and the stop returns only once no
//! container of the service is left (issue: a starter that kept creating containers for a
//! service that was stopped, then deleted).

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use super::{Fixture, ME, assert_has, start_waiting};
use crate::domain::{EngineSpec, Owner, Service, ServiceId, Status};
use crate::error::{Kind, Result};
use crate::lifecycle::{StopMode, Stopped};
use crate::runtime::ContainerInfo;
use crate::runtime::fake::{FakeRuntime, Op};
use crate::store::{Store, StoreHandle};

/// A fixture on a database file, as two `aima` processes share it.
struct Race {
    f: Fixture,
    db: PathBuf,
    _dir: tempfile::TempDir,
}

impl Race {
    fn new(edit: impl FnOnce(&mut EngineSpec)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("aima.db");
        let mut f = Fixture::with_engine(edit);
        f.store = StoreHandle::new(Box::new(Store::open(&db).unwrap()));
        f.id = f.add_service(super::NewService::default());
        Race { f, db, _dir: dir }
    }

    fn another_process(&self) -> StoreHandle {
        StoreHandle::new(Box::new(Store::open(&self.db).unwrap()))
    }

    /// Starts (waiting for health); once `at` resolves, stops from another process while
    /// `meanwhile` runs beside the stop.
    async fn stop_when(
        self,
        at: impl Future<Output = ()>,
        meanwhile: impl Future<Output = ()>,
    ) -> Outcome {
        let stopper = self.another_process();
        let (deps, id, rt) = (self.f.deps.clone(), self.f.id.clone(), self.f.rt.clone());
        let start = start_waiting(&deps, &self.f.store, &id);
        let stop = async {
            at.await;
            let stopping = crate::lifecycle::stop(&deps, &stopper, &id, StopMode::Kill);
            let (stopped, ()) = tokio::join!(
                async {
                    let stopped = stopping.await;
                    (stopped, service_containers(&rt, &id))
                },
                meanwhile
            );
            stopped
        };
        let both = async { tokio::join!(start, stop) };
        let (started, (stopped, left_at_stop)) =
            tokio::time::timeout(Duration::from_secs(20), both)
                .await
                .expect("the start and the stop both end");
        Outcome {
            started,
            stopped,
            left_at_stop,
            rt: self.f.rt.clone(),
            id,
            store: self.another_process(),
        }
    }
}

struct Outcome {
    started: Result<Service>,
    stopped: Result<Stopped>,
    left_at_stop: Vec<ContainerInfo>,
    rt: std::sync::Arc<FakeRuntime>,
    id: ServiceId,
    store: StoreHandle,
}

impl Outcome {
    /// The stop won: stopped, nothing left when it returned, the start told why it ended.
    #[track_caller]
    fn assert_stop_won(&self, created: usize) {
        let stopped = self.stopped.as_ref().expect("the stop succeeds");
        assert_eq!(stopped.service.status, Status::Stopped);
        assert!(self.left_at_stop.is_empty(), "{:?}", self.left_at_stop);
        let err = self
            .started
            .as_ref()
            .expect_err("the start must not succeed");
        assert_eq!(err.code, Kind::Conflict, "{}", err.message);
        assert_has(&err.message, "stopped while it was starting");
        assert_eq!(self.rt.created().len(), created, "{:?}", self.rt.calls());
        assert_eq!(
            self.store.sync().get_service(&self.id).unwrap().status,
            Status::Stopped
        );
        assert!(service_containers(&self.rt, &self.id).is_empty());
    }
}

fn service_containers(rt: &FakeRuntime, id: &ServiceId) -> Vec<ContainerInfo> {
    let id = id.to_string();
    rt.containers()
        .into_iter()
        .filter(|c| c.labels.get(crate::lifecycle::labels::SERVICE) == Some(&id))
        .collect()
}

async fn until(mut ready: impl FnMut() -> bool) {
    while !ready() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Lets `gate` through once the stop has taken the start over.
async fn open_once_stopping(
    store: StoreHandle,
    id: ServiceId,
    gate: std::sync::Arc<crate::runtime::fake::Gate>,
) {
    until(|| store.sync().get_service(&id).unwrap().status != Status::Starting).await;
    gate.open();
}

#[tokio::test]
async fn during_the_health_wait() {
    let race = Race::new(|_| {});
    race.f.host.set_healthy(false);
    let rt = race.f.rt.clone();
    let outcome = race
        .stop_when(until(|| !rt.created().is_empty()), async {})
        .await;
    outcome.assert_stop_won(1);
}

/// The engine crashed on its first attempt and the start waits a minute before the next: the
/// stop ends the wait, and no second container is made.
#[tokio::test]
async fn during_the_backoff_before_a_retry() {
    let race = Race::new(|spec| spec.backoff_ms = 60_000);
    race.f.rt.crash_on_start(1, &["engine: cannot load"]);
    let rt = race.f.rt.clone();
    let outcome = race
        .stop_when(until(|| rt.removed().len() == 1), async {})
        .await;
    outcome.assert_stop_won(1);
}

/// Holds the start's next `op` call at the door, stops meanwhile, and lets the call through
/// once the stop has taken the start over.
async fn stop_during(op: Op) -> Outcome {
    let race = Race::new(|_| {});
    let gate = race.f.rt.hold_next(op);
    let (store, id) = (race.another_process(), race.f.id.clone());
    race.stop_when(gate.arrived(), open_once_stopping(store, id, gate.clone()))
        .await
}

/// Docker is still creating the container when the stop comes: the container it makes is the
/// starter's to remove, and the stop waits for that.
#[tokio::test]
async fn while_a_create_is_in_flight() {
    stop_during(Op::Create).await.assert_stop_won(1);
}

#[tokio::test]
async fn between_create_and_start() {
    stop_during(Op::Start).await.assert_stop_won(1);
}

/// The engine turns healthy while the stop is taking over: the start hands nothing over.
#[tokio::test]
async fn as_the_engine_turns_healthy() {
    let race = Race::new(|_| {});
    race.f.host.set_healthy(false);
    let gate = race.f.rt.hold_next(Op::State);
    let (store, id, host) = (
        race.another_process(),
        race.f.id.clone(),
        race.f.host.clone(),
    );
    let meanwhile = async move {
        host.set_healthy(true);
        open_once_stopping(store, id, gate.clone()).await;
    };
    let held = race.f.rt.clone();
    let outcome = race
        .stop_when(
            until(move || held.count(|c| matches!(c, crate::runtime::fake::Call::Start(_))) == 1),
            meanwhile,
        )
        .await;
    outcome.assert_stop_won(1);
}

/// A starter killed mid-start never says it gave way: the stop does not wait for it.
#[tokio::test]
async fn a_dead_starter_is_not_waited_for() {
    let mut f = Fixture::new();
    let dead = Owner {
        pid: 31337,
        start_time: 1,
        claim: 99,
        ..ME
    };
    f.force_status(Status::Starting, Some(dead), None);
    let (deps, id) = (f.deps.clone(), f.id.clone());
    let stop = crate::lifecycle::stop(&deps, &f.store, &id, StopMode::Kill);
    let stopped = tokio::time::timeout(Duration::from_secs(20), stop)
        .await
        .expect("the stop ends")
        .unwrap();
    assert_eq!(stopped.service.status, Status::Stopped);
}
