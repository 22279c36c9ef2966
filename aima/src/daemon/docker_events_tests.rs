//! The event follower against the fake Docker: which service an event concerns, the reconnect
//! schedule, and that a death recorded from an event is the refresh's own failure.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{Follower, Reconnect, concerns};
use crate::config::{Config, Env};
use crate::domain::{ContainerId, EngineType, ModelSource, ServiceId, Status};
use crate::host::RealHost;
use crate::lifecycle::watch::EventWatch;
use crate::lifecycle::{Deps, Trust, labels};
use crate::ops::{self, CreateModel, CreateService};
use crate::runtime::fake::FakeRuntime;
use crate::runtime::{ContainerAction, ContainerEvent, DockerFault, RuntimeError, SharedRuntime};
use crate::store::{Change, StorePool};

fn config() -> (Config, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (Config::load(dir.path(), Env::default()).unwrap(), dir)
}

fn event(labels: &[(&str, &str)]) -> ContainerEvent {
    ContainerEvent {
        container: ContainerId::from("c1".to_owned()),
        action: ContainerAction::Die,
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        exit_code: Some(1),
    }
}

#[test]
fn an_event_concerns_a_service_of_this_data_dir_only() {
    let (config, _dir) = config();
    let id = ServiceId::generate();
    let mine = labels::labels_for(&id, EngineType::Vllm, &config.instance);
    let ev = |labels: &HashMap<String, String>| ContainerEvent {
        labels: labels.clone(),
        ..event(&[])
    };
    assert_eq!(concerns(&ev(&mine), &config), Some(id.clone()));

    let other = labels::labels_for(&id, EngineType::Vllm, "another-data-dir");
    assert_eq!(concerns(&ev(&other), &config), None, "another instance");
    let mut unmanaged = mine.clone();
    unmanaged.remove(labels::MANAGED);
    assert_eq!(concerns(&ev(&unmanaged), &config), None, "not aima's");
    let mut bad_id = mine.clone();
    bad_id.insert(labels::SERVICE.to_owned(), "not an id".to_owned());
    assert_eq!(concerns(&ev(&bad_id), &config), None, "no service id");
    assert_eq!(concerns(&event(&[]), &config), None, "no labels");
}

#[test]
fn reconnecting_waits_1s_doubling_to_30s_and_resets_after_serving() {
    let mut r = Reconnect::default();
    let waits: Vec<u64> = (0..8).map(|_| r.next_wait().as_secs()).collect();
    assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30, 30]);
    r.reset();
    assert_eq!(r.next_wait(), Duration::from_secs(1));
}

/// A data dir with one service recorded `running` on a live fake container.
struct Running {
    rt: Arc<FakeRuntime>,
    deps: Deps,
    stores: StorePool,
    id: ServiceId,
    container: ContainerId,
    _dir: tempfile::TempDir,
}

async fn running() -> Running {
    let (config, dir) = config();
    let rt = Arc::new(FakeRuntime::new());
    let connect_to = rt.clone();
    let deps = Deps {
        config,
        connect: Arc::new(move || Ok(connect_to.clone() as SharedRuntime)),
        host: Arc::new(RealHost),
        acting: None,
    };
    let stores = StorePool::new(&deps.config);
    let d = deps.clone();
    let id = stores
        .call(move |store| {
            let model = ops::create_model(
                &d.config,
                store,
                CreateModel {
                    name: "tiny".into(),
                    source: ModelSource::Ollama,
                    repo: "tinyllama".into(),
                    path: None,
                    model_type: None,
                },
            )?;
            let req = CreateService {
                model_id: model.id.to_string(),
                engine_type: EngineType::Vllm,
                port: None,
                name: None,
                bind: None,
                gpus: None,
                memory: None,
                restart: None,
                settings: Default::default(),
            };
            Ok(ops::create_service(&d, store, req)?.id)
        })
        .await
        .unwrap();
    let labels = labels::labels_for(&id, EngineType::Vllm, &deps.config.instance);
    let port = crate::domain::HostPort::new(18000).unwrap();
    let container = rt.add_container("engine", "vllm", labels, Some(port));
    let (svc, c) = (id.clone(), container.clone());
    stores
        .call(move |store| {
            let change = |to| Change {
                to,
                last_error: None,
                attempts: Vec::new(),
                container_id: Some(c.clone()),
                owner: None,
            };
            store.change_service(&svc, &[Status::Created], change(Status::Starting))?;
            store.change_service(&svc, &[Status::Starting], change(Status::Running))
        })
        .await
        .unwrap()
        .unwrap();
    Running {
        rt,
        deps,
        stores,
        id,
        container,
        _dir: dir,
    }
}

/// Polls `check` until it holds, for at most 10 s of generous deadline.
async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_death_event_records_the_refreshs_failure_and_wakes_the_reconciler() {
    let f = running().await;
    let (watch, wake) = (Arc::new(EventWatch::default()), Arc::new(Notify::new()));
    let stop = CancellationToken::new();
    let follower = Follower::new(
        f.deps.clone(),
        f.stores.clone(),
        watch.clone(),
        wake.clone(),
    );
    let task = tokio::spawn(follower.run(stop.clone()));
    until("the stream caught up", || {
        watch.trust() == Trust::RunningRecords
    })
    .await;

    f.rt.exit_container(&f.container, 3, &["ERROR engine core died"]);
    assert!(f.rt.emit(f.rt.death_of(&f.container)));
    tokio::time::timeout(Duration::from_secs(10), wake.notified())
        .await
        .expect("the reconciler is woken");

    let id = f.id.clone();
    let svc = f.stores.call(move |s| s.get_service(&id)).await.unwrap();
    assert_eq!(svc.status, Status::Failed);
    assert_eq!(
        svc.last_error.as_deref(),
        Some("the engine exited with code 3: ERROR engine core died"),
        "the same failure the reconciler's refresh records"
    );
    assert!(f.rt.containers().is_empty(), "its container is removed");

    // The stream breaks: reads stop trusting records until it reopens and catches up.
    f.rt.break_events(RuntimeError::Unavailable {
        address: "fake://docker".to_owned(),
        cause: DockerFault::new("connection reset"),
    });
    until("the break is seen", || watch.trust() == Trust::Nothing).await;
    until("reopened and caught up", || {
        f.rt.event_streams_opened() == 2 && watch.trust() == Trust::RunningRecords
    })
    .await;
    stop.cancel();
    task.await.unwrap();
    assert_eq!(watch.trust(), Trust::Nothing, "stopped: nothing is trusted");
}
