//! Real Docker, real daemons: a data dir's identity is the random id in its `instance-id` file,
//! so two data dirs at the same path (two hosts sharing one Docker) never reap each other's
//! engines; containers labelled the old way (a hash of the path) are adopted by their service
//! and never reaped for their label.

use std::time::Duration;

use super::docker::{labelled_container, start_and_wait, state_of};
use crate::support::aima::Aima;
use crate::support::containers::{Cleanup, instance_of};
use crate::support::daemon::{Daemon, integrity_ok};
use crate::support::docker::sim_image;
use crate::support::ports::free_port;
use crate::support::setup::create_model_args;
use crate::support::wait::wait_until;

/// Reconcile passes every second, orphans removed after one second: the reaper is eager.
fn eager(aima: Aima, image: &str) -> Aima {
    aima.env("AIMA_VLLM_IMAGE", image)
        .env("AIMA_RECONCILE_SECS", "1")
        .env("AIMA_REAP_GRACE_SECS", "1")
}

#[test]
fn two_hosts_with_the_same_data_dir_path_never_reap_each_others_engines() {
    let image = sim_image(&[]);
    let aima = eager(Aima::new(), &image);
    let dir = aima.data_dir().to_owned();

    // Host A: a running service, then its daemon exits and leaves the engine running.
    let host_a = instance_of(&dir);
    let _a_cleanup = Cleanup {
        instance: host_a.clone(),
        extra: Vec::new(),
    };
    let mut daemon_a = Daemon::start(&aima, &[]);
    let service = daemon_a.create_service(free_port());
    let engine_a = start_and_wait(&daemon_a, &service);
    daemon_a.signal("TERM");
    assert!(daemon_a.wait_exit(Duration::from_secs(10)).success());
    assert!(integrity_ok(&aima));

    // Host B: another machine whose data dir has the very same path. Host A's files move
    // aside, so B starts from an empty data dir at that path.
    std::fs::rename(&dir, dir.with_extension("host-a")).unwrap();
    let host_b = instance_of(&dir);
    assert_ne!(host_a, host_b, "same path, yet the ids must differ");
    let own_orphan = labelled_container(&image, &host_b, "svc-deadbeef");
    let _b_cleanup = Cleanup {
        instance: host_b.clone(),
        extra: vec![own_orphan.clone()],
    };
    let _daemon_b = Daemon::start(&aima, &[]);

    // B's reaper is at work (it removes B's own orphan) and spares A's engine.
    wait_until(Duration::from_secs(15), "B to reap its own orphan", || {
        state_of(&own_orphan).is_none().then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(state_of(&engine_a).as_deref(), Some("running"));
}

#[test]
fn containers_with_the_old_path_label_are_adopted_and_never_reaped() {
    let image = sim_image(&[]);
    let aima = eager(Aima::new(), &image);
    // A data dir from before ids: it has a database, and no id yet.
    aima.run(&create_model_args("m", "ollama", "tinyllama", &[]))
        .success();
    let created = aima
        .run(&[
            "service",
            "create",
            "--engine-type",
            "vllm",
            "--model-id",
            &models_last_id(&aima),
            "-o",
            "json",
        ])
        .success();
    let service = created.json_or_detail()["id"].as_str().unwrap().to_owned();
    let dir = aima.data_dir().to_owned();
    std::fs::remove_file(dir.join("instance-id")).unwrap();
    let current = instance_of(&dir);
    let legacy = std::fs::read_to_string(dir.join("instance-legacy"))
        .expect("the old label is kept as legacy")
        .trim()
        .to_owned();
    assert_ne!(current, legacy);

    // Engines an older aima left: one of a known (stopped) service, one of a service gone.
    let of_service = labelled_container(&image, &legacy, &service);
    let of_nobody = labelled_container(&image, &legacy, "svc-deadbeef");
    let _cleanup = Cleanup {
        instance: legacy.clone(),
        extra: vec![of_service.clone(), of_nobody.clone()],
    };
    let _daemon = Daemon::start(&aima, &[]);
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(state_of(&of_service).as_deref(), Some("running"));
    assert_eq!(state_of(&of_nobody).as_deref(), Some("running"));

    // Its own service still knows it: `stop` removes it, as any container of that service.
    let stopped = aima
        .run(&["service", "stop", &service, "-o", "json"])
        .success();
    assert_eq!(stopped.json()["status"], "stopped", "{stopped}");
    assert_eq!(state_of(&of_service), None);
    assert_eq!(state_of(&of_nobody).as_deref(), Some("running"));
}

fn models_last_id(aima: &Aima) -> String {
    let list = aima.run(&["model", "list", "-o", "json"]).success().json();
    list["items"][0]["id"].as_str().unwrap().to_owned()
}
