//! Who acted, as the store records it: the owner at create, the starter at a start (kept by
//! the supervisor's restarts), and each change's actor in the change log, deletions included.

use super::tests::{new_service, set_status, store_with_model};
use crate::domain::{EngineType, Status};

#[test]
fn owner_starter_and_actors_are_recorded_for_the_connections_user() {
    let (mut store, model) = store_with_model();
    store.act_as(Some("alice"));
    let svc = store
        .create_service(new_service(&model, EngineType::Vllm, None))
        .unwrap();
    assert_eq!(svc.created_by.as_deref(), Some("alice"));
    assert_eq!(svc.started_by, None, "never started");

    store.act_as(Some("bob"));
    assert!(set_status(&mut store, &svc.id, Status::Created, Status::Starting));
    assert!(set_status(&mut store, &svc.id, Status::Starting, Status::Failed));
    let svc = store.get_service(&svc.id).unwrap();
    assert_eq!(svc.created_by.as_deref(), Some("alice"), "the owner stays");
    assert_eq!(svc.started_by.as_deref(), Some("bob"));

    // The supervisor's restart: backoff, then its claim (tagged), made by the daemon.
    store.act_as(Some("aima"));
    let seen = svc.updated_at;
    store.set_desired(&svc.id, crate::domain::Desired::Running, &Status::ALL).unwrap();
    store.schedule_restart(&svc.id, seen, 1, 0).unwrap().unwrap();
    let claim = super::Change {
        to: Status::Starting,
        last_error: None,
        attempts: Vec::new(),
        container_id: None,
        owner: None,
    };
    store.claim_restart(&svc.id, claim).unwrap().unwrap();
    let svc = store.get_service(&svc.id).unwrap();
    assert_eq!(svc.started_by.as_deref(), Some("bob"), "a restart keeps the starter");

    assert!(set_status(&mut store, &svc.id, Status::Starting, Status::Stopped));
    store.act_as(Some("carol"));
    store.delete_service(&svc.id).unwrap();

    let actors: Vec<(String, Option<String>)> = store
        .events_after(0, 100)
        .unwrap()
        .into_iter()
        .map(|e| (e.to, e.actor))
        .collect();
    let want = [
        ("created", "alice"),
        ("starting", "bob"),
        ("failed", "bob"),
        ("backoff", "aima"),
        ("starting", "aima"),
        ("stopped", "aima"),
        ("deleted", "carol"),
    ];
    let want: Vec<(String, Option<String>)> = want
        .iter()
        .map(|(to, by)| (to.to_string(), Some(by.to_string())))
        .collect();
    assert_eq!(actors, want);
}

/// A store with a service alice created and started (now `starting`), acting as alice.
fn alices_service_starting() -> (super::Store, crate::domain::Service) {
    let (mut store, model) = store_with_model();
    store.act_as(Some("alice"));
    let svc = store
        .create_service(new_service(&model, EngineType::Vllm, None))
        .unwrap();
    assert!(set_status(&mut store, &svc.id, Status::Created, Status::Starting));
    (store, svc)
}

#[test]
fn a_refused_delete_names_nobody() {
    let (mut store, svc) = alices_service_starting();
    store.act_as(Some("mallory"));
    assert!(store.delete_service(&svc.id).is_err(), "a starting service stays");
    store.act_as(Some("alice"));
    assert!(set_status(&mut store, &svc.id, Status::Starting, Status::Stopped));
    let last = store.events_after(0, 100).unwrap().pop().unwrap();
    assert_eq!(last.actor.as_deref(), Some("alice"));
}

#[test]
fn a_model_records_who_registered_it() {
    let mut store = super::Store::open_in_memory().unwrap();
    store.act_as(Some("alice"));
    let dir = tempfile::tempdir().unwrap();
    let config = crate::config::Config::load(dir.path(), Default::default()).unwrap();
    let req = crate::ops::CreateModel {
        name: "m".into(),
        source: crate::domain::ModelSource::Ollama,
        repo: "tinyllama".into(),
        path: None,
        model_type: None,
    };
    let model = crate::ops::create_model(&config, &mut store, req).unwrap();
    assert_eq!(model.created_by.as_deref(), Some("alice"));
    let read = store.get_model(&model.id).unwrap();
    assert_eq!(read.created_by.as_deref(), Some("alice"));
}

#[test]
fn a_change_a_reader_observed_is_recorded_as_aimas() {
    let (mut store, svc) = alices_service_starting();
    // bob's `service list` finds alice's starter dead and records the failure: aima's finding.
    store.act_as(Some("bob"));
    let failed = super::Change {
        to: Status::Failed,
        last_error: Some("start interrupted: its starter is gone".into()),
        attempts: Vec::new(),
        container_id: None,
        owner: None,
    };
    let changed = store
        .change_observed(&svc.id, &[Status::Starting], failed)
        .unwrap();
    assert_eq!(changed.map(|s| s.status), Some(Status::Failed));
    assert_eq!(store.acting(), Some("bob"), "the connection still acts for bob");
    let last = store.events_after(0, 100).unwrap().pop().unwrap();
    assert_eq!(
        (last.to.as_str(), last.actor.as_deref()),
        ("failed", Some("aima"))
    );
}
