//! `service prune` on a shared daemon: a user who is not an admin removes the orphaned
//! containers of their own services only, and is told how many others were left; an admin
//! removes them all. Real daemon, real containers (created, never run).

use serde_json::Value;

use super::sharing::{ADMIN_TOKEN, call, model_of, token};
use crate::lifecycle::prune::{exists, plant};
use crate::support::aima::Aima;
use crate::support::containers::{Cleanup, instance_of};
use crate::support::daemon::Daemon;
use crate::support::docker::sim_image;
use crate::support::ports::free_port;

/// A service of `who`'s (created, never started) on `model`: its id.
fn service_of(daemon: &Daemon, who: &str, model: &Value) -> String {
    let body =
        serde_json::json!({"model_id": model["id"], "engine_type": "vllm", "port": free_port()});
    let (code, svc) = call(
        daemon,
        who,
        "POST",
        "/api/v2/services",
        Some(&body.to_string()),
    );
    assert_eq!(code, 201, "{svc}");
    svc["id"].as_str().unwrap().to_owned()
}

/// The ids of the containers a prune removed.
fn pruned(answer: &Value) -> Vec<String> {
    answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["container_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_user_prunes_only_the_orphans_of_their_own_services() {
    let aima = Aima::new();
    let instance = instance_of(aima.data_dir());
    let _cleanup = Cleanup {
        instance: instance.clone(),
        extra: Vec::new(),
    };
    let image = sim_image(&[]);
    let alice = token(&aima, "alice");
    let bob = token(&aima, "bob");
    let daemon = Daemon::start(&aima, &[("AIMA_API_TOKEN", ADMIN_TOKEN)]);
    let model = model_of(&daemon, &alice);
    let alices = service_of(&daemon, &alice, &model);
    let bobs = service_of(&daemon, &bob, &model);
    // A container of each service that is not running (an orphan), and one of a service that
    // no longer exists: whose it was, nobody can tell.
    let orphan_of = |svc: &str| {
        plant(
            &image,
            &[
                "aima.managed=true".to_owned(),
                "aima.engine=vllm".to_owned(),
                format!("aima.service={svc}"),
                format!("aima.instance={instance}"),
            ],
        )
    };
    let (of_alice, of_bob, of_nobody) = (
        orphan_of(&alices),
        orphan_of(&bobs),
        orphan_of("svc-0123456789ab"),
    );

    let (code, answer) = call(&daemon, &bob, "POST", "/api/v2/services/prune", None);
    assert_eq!(code, 200, "{answer}");
    assert_eq!(pruned(&answer), [of_bob.as_str()], "{answer}");
    assert_eq!(answer["left"], 2, "{answer}");
    assert!(!exists(&of_bob), "bob's orphan is still there");
    assert!(exists(&of_alice), "bob removed alice's container");
    assert!(
        exists(&of_nobody),
        "bob removed a deleted service's container"
    );

    let (code, answer) = call(&daemon, ADMIN_TOKEN, "POST", "/api/v2/services/prune", None);
    assert_eq!(code, 200, "{answer}");
    let mut removed = pruned(&answer);
    removed.sort();
    let mut want = vec![of_alice.clone(), of_nobody.clone()];
    want.sort();
    assert_eq!(
        (removed, &answer["left"]),
        (want, &Value::from(0)),
        "{answer}"
    );
    assert!(!exists(&of_alice) && !exists(&of_nobody));
}
