//! Quotas at start and create: the owner is held to their own limits before any container
//! exists; someone acting for them is not; the port of a new service stays inside the range.

use super::*;
use crate::domain::{Actor, PortRange, Quota, Via};
use crate::error::Kind;

fn person(name: &str, admin: bool) -> Actor {
    Actor {
        name: name.into(),
        groups: vec!["ml".into()],
        admin,
        via: Via::Token { name: name.into() },
    }
}

/// A fixture whose further services bob creates, with `quota` as the `ml` group's table.
fn fixture(quota: Quota) -> Fixture {
    let mut f = Fixture::new();
    f.deps.config.quotas.groups.insert("ml".into(), quota);
    f.deps.acting = Some(person("bob", false));
    f.store.sync().act_as(Some("bob"));
    f
}

#[tokio::test]
async fn a_start_past_max_running_is_refused_before_any_container() {
    let mut f = fixture(Quota {
        max_running: Some(1),
        ..Quota::default()
    });
    let a = f.add_service(NewService::default());
    let b = f.add_service(NewService::default());
    let first = f.start_service(&a).await.unwrap();
    let made = f.rt.containers().len();

    let err = f.start_service(&b).await.unwrap_err();
    assert_eq!(err.code, Kind::QuotaExceeded);
    assert_has(
        &err.message,
        &format!(
            "quota exceeded: user bob may run 1 service ([quota.group.ml] max_running = 1); running now: {}",
            first.name
        ),
    );
    assert_has(&err.help.clone().unwrap_or_default(), &format!("aima service stop {a}"));
    assert_eq!(f.rt.containers().len(), made, "no container for the refused start");
    let b_row = f.store.sync().get_service(&b).unwrap();
    assert_eq!(b_row.status, Status::Failed);

    // An admin acting for bob is not held to bob's quota.
    f.deps.acting = Some(person("root", true));
    f.start_service(&b).await.unwrap();
}

#[tokio::test]
async fn a_lower_limit_stops_nothing_and_the_next_start_is_refused() {
    let mut f = fixture(Quota {
        max_running: Some(2),
        ..Quota::default()
    });
    let a = f.add_service(NewService::default());
    let b = f.add_service(NewService::default());
    f.start_service(&a).await.unwrap();
    f.deps.config.quotas.groups.get_mut("ml").unwrap().max_running = Some(0);
    let a_now = super::super::refresh(&f.deps, &f.store, &a).await.unwrap();
    assert_eq!(a_now.status, Status::Running);
    let err = f.start_service(&b).await.unwrap_err();
    assert_eq!(err.code, Kind::QuotaExceeded, "{}", err.message);
    // Nobody acting (the daemon's supervisor): not held to anyone's quota.
    f.deps.acting = None;
    f.start_service(&b).await.unwrap();
}

#[tokio::test]
async fn memory_limits_of_the_owners_services_add_up() {
    let mut f = fixture(Quota {
        memory: Some(3 << 30),
        ..Quota::default()
    });
    let a = f.add_service(NewService {
        memory: Some("2g"),
        ..NewService::default()
    });
    let b = f.add_service(NewService {
        memory: Some("2g"),
        ..NewService::default()
    });
    f.start_service(&a).await.unwrap();
    let err = f.start_service(&b).await.unwrap_err();
    assert_has(&err.message, "may hold 3g of memory limits ([quota.group.ml] memory = \"3g\"); held now: 2g");
}

#[tokio::test]
async fn new_services_get_ports_of_the_range_and_one_outside_is_refused() {
    let mut f = fixture(Quota {
        ports: Some(PortRange::parse("18100-18101").unwrap()),
        ..Quota::default()
    });
    let a = f.add_service(NewService::default());
    let b = f.add_service(NewService::default());
    let port = |f: &Fixture, id| f.store.sync().get_service(id).unwrap().port.get();
    assert_eq!((port(&f, &a), port(&f, &b)), (18100, 18101));

    let model = f.store.sync().get_service(&a).unwrap().model_id;
    let req = |port| CreateService {
        model_id: model.to_string(),
        engine_type: EngineType::Vllm,
        port,
        name: Some(format!("svc-{port:?}")),
        bind: None,
        gpus: None,
        memory: None,
        restart: None,
        settings: Default::default(),
    };
    let outside = ops::create_service(&f.deps, &mut f.store.sync(), req(Some(8000))).unwrap_err();
    assert_eq!(outside.code, Kind::QuotaExceeded);
    assert_has(&outside.message, "may publish on ports 18100-18101 ([quota.group.ml] ports = \"18100-18101\")");
    let full = ops::create_service(&f.deps, &mut f.store.sync(), req(None)).unwrap_err();
    assert_has(&full.message, "every port of your range 18100-18101 is held by a service");
}
