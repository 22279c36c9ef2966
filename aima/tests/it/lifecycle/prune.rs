//! `aima service prune` against real Docker: it removes this data dir's containers that belong
//! to no live service, and leaves a running service's container, another instance's container
//! and a container with only `aima.engine` alone.

use crate::support::containers::Cleanup;
use crate::support::docker::{docker, sim_image};
use crate::support::lab::Lab;

/// `docker create`s a container of the simulator image with `labels`; returns its id.
pub(crate) fn plant(image: &str, labels: &[String]) -> String {
    let mut args = vec!["create"];
    for label in labels {
        args.extend(["--label", label.as_str()]);
    }
    args.push(image);
    let out = docker(&args);
    assert!(
        out.status.success(),
        "docker create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub(crate) fn exists(container: &str) -> bool {
    docker(&["inspect", container]).status.success()
}

#[test]
fn prune_removes_only_this_instances_orphans() {
    let lab = Lab::new(&[]);
    let image = sim_image(&[]);
    let (service, _port) = lab.service();
    let started = lab.run_waiting("start", &service, "60", &[]).success();
    let live = started.json()["container_id"].as_str().unwrap().to_owned();

    let own = |svc: &str, instance: &str| {
        vec![
            "aima.managed=true".to_owned(),
            "aima.engine=vllm".to_owned(),
            format!("aima.service={svc}"),
            format!("aima.instance={instance}"),
        ]
    };
    let orphan = plant(&image, &own("svc-deadbeef", &lab.instance()));
    let other_instance = format!("other-{}", std::process::id());
    let other = plant(&image, &own("svc-deadbeef", &other_instance));
    let engine_only = plant(&image, &["aima.engine=vllm".to_owned()]);
    let _cleanup = Cleanup {
        instance: other_instance,
        extra: vec![other.clone(), engine_only.clone()],
    };

    let pruned = lab.run(&["service", "prune", "-o", "json"]).success();
    let json = pruned.json();
    let ids: Vec<&str> = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["container_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [orphan.as_str()], "{pruned}");
    assert_eq!(json["items"][0]["service"], "svc-deadbeef", "{pruned}");
    assert!(!exists(&orphan), "the orphan is still there");
    assert!(exists(&live), "the running service's container was removed");
    assert!(exists(&other), "another instance's container was removed");
    assert!(exists(&engine_only), "a foreign container was removed");
    assert_eq!(lab.containers().len(), 1, "{:?}", lab.containers());

    let again = lab.run(&["service", "prune"]).success();
    assert!(again.stdout.contains("no orphaned container"), "{again}");
    let listed = lab.run(&["service", "list", "-o", "json"]).success();
    assert_eq!(listed.json()["items"][0]["status"], "running", "{listed}");
}
