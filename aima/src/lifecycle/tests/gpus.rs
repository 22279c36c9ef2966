//! GPUs and memory at start: a GPU held by another service of the data dir refuses the start
//! at once naming it; different GPUs both run, each container asking for exactly its own;
//! the host's view (free memory, foreign processes) refuses what cannot load; the memory limit
//! reaches the container and an OOM kill is fatal and names it.

use super::*;
use crate::domain::{Gpus, Phase};
use crate::error::Kind;
use crate::host::gpus::{GpuApp, GpuDevice};
use crate::runtime::{GpuPath, GpuRequest};

/// The fixture plus services with these `--gpus`; returns their ids.
fn with_gpu_services(f: &mut Fixture, gpus: &[&str]) -> Vec<ServiceId> {
    gpus.iter()
        .map(|g| {
            f.add_service(NewService {
                gpus: Some(g),
                ..NewService::default()
            })
        })
        .collect()
}

fn gpu_requests(f: &Fixture) -> Vec<Option<GpuRequest>> {
    f.rt.specs().into_iter().map(|s| s.gpus).collect()
}

#[tokio::test]
async fn a_second_service_on_a_running_services_gpu_is_refused_naming_it() {
    let mut f = Fixture::new();
    let ids = with_gpu_services(&mut f, &["0", "0"]);
    let first = f.start_service(&ids[0]).await.unwrap();
    assert_eq!(first.status, Status::Running);

    let err = f.start_service(&ids[1]).await.unwrap_err();

    assert_eq!((err.code, err.code.exit_code()), (Kind::GpuInUse, 12));
    assert_has(
        &err.message,
        &format!("GPU 0 is in use by aima service {}", ids[0]),
    );
    let help = err.help.as_deref().unwrap();
    assert_has(help, &format!("aima service stop {}", ids[0]));
    assert_eq!(err.attempts.len(), 1);
    assert_eq!(err.attempts[0].phase, Phase::Preflight);
    assert_eq!(err.attempts[0].code.as_deref(), Some("gpu_in_use"));
    // Only the first service's container was ever created.
    assert_eq!(f.rt.created().len(), 1);
    assert_eq!(
        f.store.sync().get_service(&ids[1]).unwrap().status,
        Status::Failed
    );
}

#[tokio::test]
async fn services_on_different_gpus_both_run_each_with_exactly_its_devices() {
    let mut f = Fixture::new();
    let ids = with_gpu_services(&mut f, &["0", "1,2"]);

    for id in &ids {
        assert_eq!(f.start_service(id).await.unwrap().status, Status::Running);
    }

    let device = |ids: &[&str]| {
        Some(GpuRequest {
            gpus: Gpus::Devices(ids.iter().map(|d| (*d).to_owned()).collect()),
            path: GpuPath::Nvidia,
        })
    };
    assert_eq!(gpu_requests(&f), [device(&["0"]), device(&["1", "2"])]);
}

#[tokio::test]
async fn all_gpus_meet_any_other_gpu_service_and_none_meets_nothing() {
    let mut f = Fixture::new();
    let ids = with_gpu_services(&mut f, &["1", "all", "none"]);
    f.start_service(&ids[0]).await.unwrap();

    let err = f.start_service(&ids[1]).await.unwrap_err();
    assert_eq!(err.code, Kind::GpuInUse);
    assert!(
        err.message.starts_with("cannot start service"),
        "{}",
        err.message
    );
    assert_has(
        &err.message,
        "this service's GPUs (all) may be those of aima service",
    );

    let svc = f.start_service(&ids[2]).await.unwrap();
    assert_eq!(svc.status, Status::Running);
    assert_eq!(gpu_requests(&f).last(), Some(&None));
}

#[tokio::test]
async fn a_stopped_holder_frees_its_gpu() {
    let mut f = Fixture::new();
    let ids = with_gpu_services(&mut f, &["0", "0"]);
    f.start_service(&ids[0]).await.unwrap();
    f.stop_service(&ids[0]).await;

    assert_eq!(
        f.start_service(&ids[1]).await.unwrap().status,
        Status::Running
    );
}

fn smi(free_gib: u64, apps: Vec<GpuApp>) -> GpuReport {
    GpuReport::Read {
        devices: vec![GpuDevice {
            index: "0".into(),
            uuid: "GPU-aaaa".into(),
            name: "NVIDIA L4".into(),
            memory_free: free_gib << 30,
            memory_total: 24 << 30,
        }],
        apps,
    }
}

#[tokio::test]
async fn too_little_free_gpu_memory_is_refused_naming_the_foreign_process() {
    let mut f = Fixture::with_engine(|spec| spec.gpu_memory_bytes = Some(20 << 30));
    let foreign = GpuApp {
        gpu_uuid: "GPU-aaaa".into(),
        pid: 31337,
        process: "python3".into(),
        used_memory: 21 << 30,
    };
    *f.host.gpus.lock().unwrap() = Some(smi(3, vec![foreign]));
    let ids = with_gpu_services(&mut f, &["0"]);

    let err = f.start_service(&ids[0]).await.unwrap_err();

    assert_eq!(err.code, Kind::GpuInUse);
    for part in [
        "GPU 0 (NVIDIA L4) has 3g free of 24g",
        "needs 20g",
        "pid 31337 (python3, 21g)",
    ] {
        assert!(err.message.contains(part), "{part}: {}", err.message);
    }
    assert!(f.rt.created().is_empty());

    // Enough free memory: the start proceeds.
    *f.host.gpus.lock().unwrap() = Some(smi(22, Vec::new()));
    assert_eq!(
        f.start_service(&ids[0]).await.unwrap().status,
        Status::Running
    );
}

#[tokio::test]
async fn a_gpu_the_host_does_not_have_is_refused_and_no_tooling_is_said_plainly() {
    let mut f = Fixture::new();
    *f.host.gpus.lock().unwrap() = Some(smi(22, Vec::new()));
    let ids = with_gpu_services(&mut f, &["3"]);
    let err = f.start_service(&ids[0]).await.unwrap_err();
    assert_eq!(err.code, Kind::StartFailed);
    assert_has(
        &err.message,
        "GPU 3 does not exist on this host (nvidia-smi lists: 0)",
    );

    // Without nvidia-smi nothing about the host is checked, and the start says so.
    *f.host.gpus.lock().unwrap() = None;
    let notes = super::super::gpus::check_host(
        &Gpus::parse("3").unwrap(),
        &f.host.gpus(),
        Some(1 << 30),
        "vllm",
    )
    .unwrap();
    assert_eq!(
        notes,
        ["GPU memory and processes not checked: nvidia-smi is not installed on this host"]
    );
}

#[tokio::test]
async fn the_memory_limit_reaches_the_container_and_an_oom_kill_names_it_once() {
    let mut f = Fixture::new();
    let id = f.add_service(NewService {
        memory: Some("64m"),
        ..NewService::default()
    });
    f.rt.oom_killed_on_start();

    let err = f.start_service(&id).await.unwrap_err();

    assert_eq!(f.rt.specs()[0].limits.memory_bytes, 64 << 20);
    assert_eq!((err.code, err.code.exit_code()), (Kind::StartFailed, 7));
    assert_has(
        &err.message,
        "out of memory: the kernel's OOM killer stopped the engine at its memory limit of 64m (exit code 137)",
    );
    assert!(err.help.as_deref().unwrap().contains("--memory"), "{err:?}");
    assert_eq!(err.attempts.len(), 1);
    assert_eq!(err.attempts[0].code.as_deref(), Some("out_of_memory"));
    assert!(f.rt.containers().is_empty());
}

#[tokio::test]
async fn a_detached_engine_killed_for_memory_later_is_failed_naming_its_limit() {
    let mut f = Fixture::new();
    let id = f.add_service(NewService {
        memory: Some("96m"),
        ..NewService::default()
    });
    f.host.set_healthy(false);
    let opts = StartOptions {
        wait: false,
        ..start_opts()
    };
    let svc = super::super::start(&f.deps, &f.store, &id, opts, std::future::pending())
        .await
        .unwrap();
    f.rt.oom_kill(&svc.container_id.unwrap());

    let svc = crate::lifecycle::refresh(&f.deps, &f.store, &id)
        .await
        .unwrap();

    assert_eq!(svc.status, Status::Failed);
    let error = svc.last_error.unwrap();
    assert_has(
        &error,
        "out of memory: the kernel's OOM killer stopped the engine at its memory limit of 96m",
    );
    assert!(f.rt.containers().is_empty());
}
