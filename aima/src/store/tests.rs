//! Store rules that the CLI contract rests on: port assignment, creation order, conditional
//! status changes, and model deletion while services use the model.

use super::{Change, NewService, Store};
use crate::domain::{
    EngineSpec, EngineType, HostPort, Model, ModelId, ModelSource, ServiceId, Status,
};
use crate::error::Kind;

pub(super) fn store_with_model() -> (Store, ModelId) {
    let mut store = Store::open_in_memory().unwrap();
    let model = Model {
        id: ModelId::generate(),
        name: "port-test-model".into(),
        source: ModelSource::Ollama,
        repo: "tinyllama".into(),
        path: None,
        model_type: "llm".into(),
        status: "registered",
        created_at: crate::clock::now_ms(),
        created_by: None,
    };
    store.insert_model(&model).unwrap();
    (store, model.id)
}

/// The service `aima service create` would ask the store for: `engine` on `model`, with its
/// default port unless `port` is given, on loopback, no GPUs, no memory limit.
pub(super) fn new_service(model: &ModelId, engine: EngineType, port: Option<u16>) -> NewService {
    NewService {
        model_id: model.clone(),
        engine_type: engine,
        name: None,
        port: port.map(HostPort::from),
        default_port: EngineSpec::builtin(engine).default_port,
        port_range: None,
        bind: std::net::Ipv4Addr::LOCALHOST.into(),
        gpus: crate::domain::Gpus::None,
        memory_bytes: None,
        restart: crate::domain::RestartPolicy::No,
        settings: Default::default(),
    }
}

fn create(
    store: &mut Store,
    model: &ModelId,
    engine: EngineType,
    port: Option<u16>,
) -> crate::error::Result<u16> {
    store
        .create_service(new_service(model, engine, port))
        .map(|s| s.port.get())
}

/// [`create`], which must succeed: the port the service got.
#[track_caller]
fn add(store: &mut Store, model: &ModelId, engine: EngineType, port: Option<u16>) -> u16 {
    create(store, model, engine, port).unwrap()
}

pub(super) fn set_status(store: &mut Store, id: &ServiceId, from: Status, to: Status) -> bool {
    let change = Change {
        to,
        last_error: None,
        attempts: Vec::new(),
        container_id: None,
        owner: None,
    };
    store.change_service(id, &[from], change).unwrap().is_some()
}

/// [`set_status`], which must apply.
#[track_caller]
fn assert_moved(store: &mut Store, id: &ServiceId, from: Status, to: Status) {
    assert!(set_status(store, id, from, to));
}

/// The ports of the services, in creation order.
fn ports(store: &Store) -> Vec<u16> {
    store
        .list_services()
        .unwrap()
        .iter()
        .map(|s| s.port.get())
        .collect()
}

#[test]
fn default_ports_skip_ports_held_by_other_services() {
    let (mut store, model) = store_with_model();
    let vllm: Vec<u16> = (0..3)
        .map(|_| add(&mut store, &model, EngineType::Vllm, None))
        .collect();
    assert_eq!(vllm, [8000, 8001, 8002]);
    assert_eq!(add(&mut store, &model, EngineType::Ollama, None), 11434);
    assert_eq!(add(&mut store, &model, EngineType::Llamacpp, None), 8080);
}

#[test]
fn a_default_port_skips_an_explicitly_taken_one() {
    let (mut store, model) = store_with_model();
    add(&mut store, &model, EngineType::Vllm, Some(8000));
    assert_eq!(add(&mut store, &model, EngineType::Vllm, None), 8001);
}

#[test]
fn failed_and_stopped_services_do_not_hold_their_port() {
    let (mut store, model) = store_with_model();
    add(&mut store, &model, EngineType::Vllm, None);
    add(&mut store, &model, EngineType::Vllm, None);
    let [first, second] = store.list_services().unwrap().try_into().unwrap();
    assert_moved(&mut store, &first.id, Status::Created, Status::Failed);
    assert_moved(&mut store, &second.id, Status::Created, Status::Stopped);

    assert_eq!(add(&mut store, &model, EngineType::Vllm, None), 8000);
    assert_eq!(add(&mut store, &model, EngineType::Vllm, Some(8001)), 8001);
    // The stopped and failed services keep their port number: it is theirs when they start.
    assert_eq!(ports(&store), [8000, 8001, 8000, 8001]);
}

#[test]
fn an_explicit_port_held_by_an_active_service_is_a_conflict() {
    let (mut store, model) = store_with_model();
    add(&mut store, &model, EngineType::Vllm, Some(9001));
    let holder = store.list_services().unwrap()[0].id.clone();

    for state in [Status::Created, Status::Starting, Status::Running] {
        let from = store.get_service(&holder).unwrap().status;
        set_status(&mut store, &holder, from, state);
        let err = create(&mut store, &model, EngineType::Ollama, Some(9001)).unwrap_err();
        assert_eq!(err.code, Kind::Conflict, "while {state:?}");
        assert!(
            err.message.contains(&format!(
                "port 9001 is already assigned to service {holder}"
            )),
            "{}",
            err.message
        );
    }
    assert_eq!(store.list_services().unwrap().len(), 1, "nothing was added");
}

#[test]
fn a_service_of_an_unknown_model_is_not_created() {
    let (mut store, _) = store_with_model();
    let err = create(&mut store, &ModelId::generate(), EngineType::Vllm, None).unwrap_err();
    assert_eq!(err.code, Kind::NotFound);
    assert!(store.list_services().unwrap().is_empty());
}

#[test]
fn lists_are_in_creation_order() {
    let (mut store, model) = store_with_model();
    for port in [9300, 9100, 9200] {
        add(&mut store, &model, EngineType::Vllm, Some(port));
    }
    assert_eq!(ports(&store), [9300, 9100, 9200]);
}

#[test]
fn a_status_change_from_an_unexpected_state_is_not_applied() {
    let (mut store, model) = store_with_model();
    add(&mut store, &model, EngineType::Vllm, None);
    let id = store.list_services().unwrap()[0].id.clone();

    assert!(!set_status(
        &mut store,
        &id,
        Status::Running,
        Status::Stopped
    ));
    assert_eq!(store.get_service(&id).unwrap().status, Status::Created);
    assert_moved(&mut store, &id, Status::Created, Status::Starting);
    assert!(
        !set_status(&mut store, &id, Status::Created, Status::Starting),
        "one claim only"
    );
}

#[test]
fn a_model_in_use_is_deleted_only_with_force() {
    let (mut store, model) = store_with_model();
    add(&mut store, &model, EngineType::Vllm, None);

    let err = store.delete_model(&model, false).unwrap_err();
    assert_eq!(err.code, Kind::Conflict);
    assert!(
        err.message.contains("is used by service(s) svc-"),
        "{}",
        err.message
    );
    assert!(err.help.unwrap().contains("--force"));
    assert!(store.get_model(&model).is_ok(), "refused means unchanged");

    store.delete_model(&model, true).unwrap();
    assert_eq!(store.get_model(&model).unwrap_err().code, Kind::NotFound);
    assert!(
        store.list_services().unwrap().is_empty(),
        "its services went with it"
    );
}

#[test]
fn a_model_with_an_active_service_is_kept_even_with_force() {
    let (mut store, model) = store_with_model();
    add(&mut store, &model, EngineType::Vllm, None);
    let id = store.list_services().unwrap()[0].id.clone();
    set_status(&mut store, &id, Status::Created, Status::Running);

    let err = store.delete_model(&model, true).unwrap_err();

    assert_eq!(err.code, Kind::Conflict);
    assert!(
        err.help
            .unwrap()
            .contains(&format!("aima service stop {id}"))
    );
    assert_eq!(store.list_services().unwrap().len(), 1);
}

#[test]
fn an_unused_model_is_deleted() {
    let (mut store, model) = store_with_model();
    store.delete_model(&model, false).unwrap();
    assert!(store.list_models().unwrap().is_empty());
}

#[test]
fn active_services_cannot_be_deleted() {
    let (mut store, model) = store_with_model();
    add(&mut store, &model, EngineType::Vllm, None);
    let id = store.list_services().unwrap()[0].id.clone();
    set_status(&mut store, &id, Status::Created, Status::Starting);

    let err = store.delete_service(&id).unwrap_err();
    assert_eq!(err.code, Kind::Conflict);
    assert!(err.message.contains("is starting"), "{}", err.message);

    set_status(&mut store, &id, Status::Starting, Status::Failed);
    store.delete_service(&id).unwrap();
    assert!(store.list_services().unwrap().is_empty());
}

/// Every status change lands in the change log, from whichever writer; a change that keeps the
/// status (a detached start handing over) does not.
#[test]
fn status_changes_are_logged_in_order() {
    use crate::domain::{Attempt, Phase};
    let (mut store, model) = store_with_model();
    let new = NewService {
        name: Some("logged".into()),
        ..new_service(&model, EngineType::Vllm, Some(18_000))
    };
    let id = store.create_service(new).unwrap().id;
    assert_moved(&mut store, &id, Status::Created, Status::Starting);
    assert_moved(&mut store, &id, Status::Starting, Status::Starting);
    let attempt = Attempt {
        number: 1,
        phase: Phase::Preflight,
        elapsed_ms: 5,
        reason: "port 18000 is in use".into(),
        code: Some("port_in_use".into()),
        log_tail: vec![],
    };
    let failed = Change {
        to: Status::Failed,
        last_error: Some("cannot start".to_owned()),
        attempts: vec![attempt.clone()],
        container_id: None,
        owner: None,
    };
    store
        .change_service(&id, &[Status::Starting], failed)
        .unwrap();
    store.delete_service(&id).unwrap();

    let events = store.events_after(0, 100).unwrap();
    let steps: Vec<(Option<&str>, &str)> = events
        .iter()
        .map(|e| (e.from.as_deref(), e.to.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            (None, "created"),
            (Some("created"), "starting"),
            (Some("starting"), "failed"),
            (Some("failed"), "deleted"),
        ]
    );
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(events.iter().all(|e| e.name == "logged"));
    let end = &events[2];
    assert_eq!(end.attempt.as_ref(), Some(&attempt));
    assert_eq!(end.last_error.as_deref(), Some("cannot start"));
    assert_eq!(end.began_at, Some(events[1].at));
    assert_eq!(store.last_event_seq().unwrap(), events[3].seq);
    assert_eq!(
        store.events_after(events[1].seq, 1).unwrap()[0].seq,
        end.seq
    );
}

#[test]
fn services_are_counted_by_status() {
    let (mut store, model) = store_with_model();
    add(&mut store, &model, EngineType::Vllm, None);
    add(&mut store, &model, EngineType::Vllm, None);
    let counts = store.count_by_status().unwrap();
    assert_eq!(counts.len(), Status::ALL.len());
    assert_eq!(counts[0], (Status::Created, 2));
    assert!(counts[1..].iter().all(|(_, n)| *n == 0));
}

/// The race behind "model deleted while a service is created": the model is read, another
/// process deletes it, then the insert runs. That is a conflict, not a storage failure.
#[test]
fn a_model_deleted_before_the_insert_is_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aima.db");
    let mut store = Store::open(&db).unwrap();
    let (seed, model) = store_with_model();
    let m = seed.get_model(&model).unwrap();
    store.insert_model(&m).unwrap();
    let new = new_service(&model, EngineType::Vllm, None);
    let read = store.get_model(&model).unwrap();
    let mut other = Store::open(&db).unwrap();
    other.delete_model(&model, false).unwrap();
    let err = store
        .insert_service(&read, &new, &ServiceId::generate())
        .unwrap_err();
    assert_eq!(err.code, Kind::Conflict, "{}", err.message);
    assert!(err.message.contains("was deleted"), "{}", err.message);
    assert!(store.list_services().unwrap().is_empty());
}

#[test]
fn models_are_read_a_page_at_a_time() {
    let (mut store, first) = store_with_model();
    let more: Vec<ModelId> = (0..2)
        .map(|_| {
            let mut m = store.get_model(&first).unwrap();
            m.id = ModelId::generate();
            store.insert_model(&m).unwrap();
            m.id
        })
        .collect();
    let (page, total) = store.models_after(None, 2).unwrap().unwrap();
    assert_eq!(total, 3);
    assert_eq!([&page[0].id, &page[1].id], [&first, &more[0]]);
    let (rest, _) = store.models_after(Some(&more[0]), 2).unwrap().unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].id, more[1]);
    let unknown = ModelId::parse("model-00000000").unwrap();
    assert!(store.models_after(Some(&unknown), 2).unwrap().is_none());
}

#[test]
fn services_are_paged_in_creation_order() {
    let (mut store, model) = store_with_model();
    for port in 18_200..18_205 {
        add(&mut store, &model, EngineType::Vllm, Some(port));
    }
    let all: Vec<ServiceId> = store
        .list_services()
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let (first, total) = store.services_after(None, 2).unwrap().unwrap();
    assert_eq!(total, 5);
    assert_eq!([&first[0].id, &first[1].id], [&all[0], &all[1]]);
    let (rest, _) = store.services_after(Some(&all[2]), 10).unwrap().unwrap();
    let rest: Vec<&ServiceId> = rest.iter().map(|s| &s.id).collect();
    assert_eq!(rest, [&all[3], &all[4]]);
    let unknown = ServiceId::parse("svc-00000000").unwrap();
    assert!(store.services_after(Some(&unknown), 2).unwrap().is_none());
}

#[test]
fn a_services_recent_events_are_its_own_newest_first() {
    let (mut store, model) = store_with_model();
    add(&mut store, &model, EngineType::Vllm, Some(18_100));
    add(&mut store, &model, EngineType::Vllm, Some(18_101));
    let services = store.list_services().unwrap();
    let (mine, other) = (&services[0].id, &services[1].id);
    assert_moved(&mut store, mine, Status::Created, Status::Starting);
    assert_moved(&mut store, other, Status::Created, Status::Starting);
    assert_moved(&mut store, mine, Status::Starting, Status::Running);

    let recent = store.recent_events_of(mine.as_str(), 10).unwrap();
    let steps: Vec<&str> = recent.iter().map(|e| e.to.as_str()).collect();
    assert_eq!(steps, ["running", "starting", "created"]);
    assert!(recent.iter().all(|e| e.service_id == mine.as_str()));
    assert_eq!(store.recent_events_of(mine.as_str(), 1).unwrap().len(), 1);
    assert!(
        store
            .recent_events_of("svc-00000000", 10)
            .unwrap()
            .is_empty()
    );
}
