//! Real Docker, resources of one engine: an engine that allocates past its `--memory` is
//! killed by the kernel and reported "out of memory" naming the limit, once, with nothing
//! left; a started engine's container carries the limit (`docker inspect`); and the device
//! request aima sends for `--gpus` is exactly the one asked for.
//!
//! This host has no GPU, so a container asking for one cannot start (Docker refuses at start:
//! no `nvidia` device driver) and aima's own preflight refuses the start before that. The
//! device request is therefore checked at the runtime boundary: the real Docker runtime
//! creates the container from the spec the lifecycle builds, and `docker inspect` reads back
//! what Docker stored, before any start.

use std::collections::HashMap;

use aima::domain::{Gpus, HostPort};
use aima::runtime::{
    ContainerLimits, ContainerSpec, DockerEndpoint, GpuPath, GpuRequest, docker_at,
};

use crate::support::containers::Cleanup;
use crate::support::docker::{inspect, sim_image};
use crate::support::lab::Lab;
use crate::support::ports::free_port;

#[test]
fn an_engine_over_its_memory_limit_fails_out_of_memory_once_and_leaves_nothing() {
    // The simulator writes every page of 256 MiB before it answers /health.
    let lab = Lab::new(&["AIMA_SIM_ALLOC_MIB=256"]);
    let model = lab.create_model();
    let port = free_port().to_string();
    let svc = lab.create_service(&model, &["--port", &port, "--memory", "64m"]);

    lab.run(&["service", "start", &svc, "--wait", "--timeout", "60"])
        .failure(7)
        .stderr_has("1 start attempt(s)")
        .stderr_has("out of memory: the kernel's OOM killer stopped the engine at its memory limit of 64m (exit code 137)")
        .stderr_has("help: the engine needs more than 64m");

    let listed = lab.listed_service(&svc);
    assert_eq!(listed["status"], "failed", "{listed:#}");
    assert_eq!(listed["memory_bytes"], 64 << 20, "{listed:#}");
    let attempts = listed["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "{listed:#}");
    assert_eq!(attempts[0]["code"], "out_of_memory", "{listed:#}");
    assert!(
        listed["last_error"]
            .as_str()
            .unwrap()
            .contains("memory limit of 64m"),
        "{listed:#}"
    );
    assert!(lab.containers().is_empty(), "left: {:?}", lab.containers());
}

#[test]
fn a_started_engine_carries_its_memory_limit_and_no_device_request() {
    let lab = Lab::new(&[]);
    let model = lab.create_model();
    let port = free_port().to_string();
    let svc = lab.create_service(
        &model,
        &["--port", &port, "--memory", "96m", "--gpus", "none"],
    );
    lab.bring_up("start", &svc, &[]);

    let host_config = inspect(&lab.container_of(&svc), "{{json .HostConfig}}");
    let host: serde_json::Value = serde_json::from_str(&host_config).unwrap();
    assert_eq!(host["Memory"], 96 << 20, "{host}");
    assert_eq!(host["MemorySwap"], 96 << 20, "{host}");
    assert!(host["DeviceRequests"].is_null(), "{host}");
    lab.run(&["service", "stop", &svc]).success();
}

/// The spec the lifecycle builds for attempt 1 of a service with `gpus`, labelled for cleanup.
fn spec_with(gpus: &str, instance: &str, image: &str) -> ContainerSpec {
    ContainerSpec {
        name: format!(
            "aima-gpu-request-{instance}-{}",
            gpus.replace([',', '='], "-")
        ),
        image: image.to_owned(),
        args: vec!["--model".into(), "m".into(), "--port".into(), "8000".into()],
        env: Vec::new(),
        labels: HashMap::from([("aima.instance".to_owned(), instance.to_owned())]),
        host_ip: "127.0.0.1".parse().unwrap(),
        host_port: HostPort::from(free_port()),
        container_port: 8000,
        gpus: Some(GpuRequest {
            gpus: Gpus::parse(gpus).unwrap(),
            path: GpuPath::Nvidia,
        }),
        limits: ContainerLimits {
            memory_bytes: 64 << 20,
            pids: 64,
            log_max_bytes: 1 << 20,
            log_max_files: 1,
        },
        mount: None,
        cache: None,
        shm_bytes: None,
        placement: Vec::new(),
        stop_secs: 10,
    }
}

#[test]
fn docker_stores_exactly_the_device_request_asked_for() {
    let image = sim_image(&[]);
    let instance = format!("gpureq{}", std::process::id());
    let _cleanup = Cleanup {
        instance: instance.clone(),
        extra: Vec::new(),
    };
    let rt =
        docker_at(DockerEndpoint::parse(std::env::var("DOCKER_HOST").ok().as_deref()).unwrap())
            .unwrap();
    let tokio = tokio::runtime::Runtime::new().unwrap();

    let cases = [
        (
            "0,1",
            serde_json::json!([{"Driver": "nvidia", "Count": 0, "DeviceIDs": ["0", "1"],
                "Capabilities": [["gpu"]], "Options": null}]),
        ),
        (
            "count=2",
            serde_json::json!([{"Driver": "nvidia", "Count": 2, "DeviceIDs": null,
                "Capabilities": [["gpu"]], "Options": null}]),
        ),
        (
            "all",
            serde_json::json!([{"Driver": "nvidia", "Count": -1, "DeviceIDs": null,
                "Capabilities": [["gpu"]], "Options": null}]),
        ),
    ];
    for (gpus, want) in cases {
        let spec = spec_with(gpus, &instance, &image);
        let id = tokio.block_on(rt.create(&spec)).unwrap();
        let stored = inspect(id.as_str(), "{{json .HostConfig.DeviceRequests}}");
        let stored: serde_json::Value = serde_json::from_str(&stored).unwrap();
        assert_eq!(stored, want, "--gpus {gpus}");
    }

    // What makes the boundary the place to check: on this GPU-less host Docker refuses to
    // start such a container. (Where a GPU exists, it would start: nothing is asserted then.)
    let spec = spec_with("0", &instance, &image);
    let id = tokio.block_on(rt.create(&spec)).unwrap();
    let no_gpu = std::process::Command::new("nvidia-smi").output().is_err();
    if no_gpu {
        let started = tokio.block_on(rt.start(&id, spec.host_port));
        assert!(
            started.is_err(),
            "a GPU container started on a host without nvidia-smi"
        );
    }
    tokio.block_on(rt.stop_and_remove(&id, true)).unwrap();
}
