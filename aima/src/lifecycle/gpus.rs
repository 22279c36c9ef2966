//! The GPU part of preflight: a device held by another starting or running service of this
//! data dir refuses the start at once, naming that service; Docker must offer a GPU path; and,
//! where the host runs `nvidia-smi`, a device with less free memory than the engine needs
//! refuses it too, naming the processes on it. Never retried: the holder is still there.

use super::failure::Failure;
use crate::config::Config;
use crate::domain::{EngineSpec, Gpus, Phase, Service, Status, size_text};
use crate::error::Kind;
use crate::host::GpuReport;
use crate::host::gpus::{GpuApp, GpuDevice};
use crate::runtime::{GpuPath, GpuRequest, GpuSupport};

/// The GPUs `svc` gets: its own choice, or for services from before choices were stored, its
/// engine's configured default.
pub(crate) fn of(svc: &Service, config: &Config) -> Gpus {
    svc.gpus
        .clone()
        .unwrap_or_else(|| config.engine(svc.engine_type).default_gpus())
}

/// The first other service, starting or running, whose GPUs may be the same devices.
pub(super) fn holder<'a>(
    svc: &Service,
    gpus: &Gpus,
    services: &'a [Service],
    config: &Config,
) -> Option<(&'a Service, Gpus)> {
    services
        .iter()
        .filter(|other| other.id != svc.id)
        .filter(|other| matches!(other.status, Status::Starting | Status::Running))
        .map(|other| (other, of(other, config)))
        .find(|(_, theirs)| gpus.overlaps(theirs))
}

/// Refuses `gpus` when `holder` has them, in the words of a port conflict.
pub(super) fn held_by(svc: &Service, gpus: &Gpus, holder: &Service, theirs: &Gpus) -> Failure {
    let by = format!(
        "aima service {} ({}, {}, GPUs {theirs})",
        holder.id,
        holder.name,
        holder.status.as_str()
    );
    let reason = match (gpus, theirs) {
        (Gpus::Devices(mine), Gpus::Devices(held)) => {
            let shared: Vec<&str> = mine
                .iter()
                .filter(|d| held.contains(d))
                .map(String::as_str)
                .collect();
            match shared.as_slice() {
                [one] => format!("GPU {one} is in use by {by}"),
                many => format!("GPUs {} are in use by {by}", many.join(",")),
            }
        }
        _ => format!(
            "this service's GPUs ({gpus}) may be those of {by}: Docker picks the devices of `all` and `count=N` itself"
        ),
    };
    Failure::fatal(Kind::GpuInUse, Phase::Preflight, reason)
        .help(format!(
            "stop that service first (`aima service stop {}`), or run {} on other GPUs: create it with --gpus naming devices that service does not use",
            holder.id, svc.id
        ))
        .cause("gpu_in_use")
}

/// The device request to send, given what Docker offers; refused when it offers no GPU path.
/// (Failures are boxed here: these plain functions hand them up through `?`.)
pub(super) fn request(
    gpus: &Gpus,
    support: &GpuSupport,
    spec: &EngineSpec,
    docker: &str,
) -> Result<Option<GpuRequest>, Box<Failure>> {
    if gpus.is_none() {
        return Ok(None);
    }
    let Some(path) = support.path() else {
        let var = format!("{}_GPUS", spec.engine.env_prefix());
        return Err(Box::new(Failure::fatal(
            Kind::StartFailed,
            Phase::Preflight,
            format!(
                "this service asks for GPUs ({gpus}), but Docker at {docker} has no usable GPU path: {}",
                support.describe()
            ),
        )
        .help(format!(
            "install the NVIDIA container toolkit (or enable CDI with NVIDIA's device specs), or run without GPUs: create the service with --gpus none, or set {var}=none for new services"
        ))
        .cause("no_gpu_runtime")));
    };
    if let (GpuPath::Cdi, Gpus::Count(n)) = (path, gpus) {
        return Err(Box::new(Failure::fatal(
            Kind::StartFailed,
            Phase::Preflight,
            format!("Docker at {docker} offers GPUs only through CDI, which names devices: it cannot take count={n}"),
        )
        .help("create the service with --gpus all or with device indexes (--gpus 0,1)")
        .cause("no_gpu_runtime")));
    }
    Ok(Some(GpuRequest {
        gpus: gpus.clone(),
        path,
    }))
}

/// Checks the host's view of the devices: they exist, and hold the free memory the engine
/// needs. Returns lines worth showing (what else runs there, what was not checked).
pub(super) fn check_host(
    gpus: &Gpus,
    report: &GpuReport,
    need: Option<u64>,
    engine: &str,
) -> Result<Vec<String>, Box<Failure>> {
    let (devices, apps) = match report {
        GpuReport::NoTooling(why) | GpuReport::Failed(why) => {
            return Ok(vec![format!("GPU memory and processes not checked: {why}")]);
        }
        GpuReport::Read { devices, apps } => (devices, apps),
    };
    let chosen: Vec<&GpuDevice> = match gpus {
        Gpus::None => return Ok(Vec::new()),
        Gpus::All => devices.iter().collect(),
        Gpus::Count(n) => devices.iter().take(*n as usize).collect(),
        Gpus::Devices(ids) => {
            let mut chosen = Vec::new();
            for id in ids {
                let Some(device) = devices.iter().find(|d| d.is(id)) else {
                    let have: Vec<&str> = devices.iter().map(|d| d.index.as_str()).collect();
                    return Err(Box::new(
                        Failure::fatal(
                            Kind::StartFailed,
                            Phase::Preflight,
                            format!(
                                "GPU {id} does not exist on this host (nvidia-smi lists: {})",
                                list_or_none(&have)
                            ),
                        )
                        .help("create the service with --gpus naming a device nvidia-smi lists")
                        .cause("no_such_gpu"),
                    ));
                };
                chosen.push(device);
            }
            chosen
        }
    };
    let mut notes = Vec::new();
    for device in chosen {
        let users: Vec<&GpuApp> = apps.iter().filter(|a| a.gpu_uuid == device.uuid).collect();
        let named = users
            .iter()
            .map(|a| {
                format!(
                    "pid {} ({}, {})",
                    a.pid,
                    a.process,
                    size_text(a.used_memory)
                )
            })
            .collect::<Vec<_>>();
        if let Some(need) = need.filter(|need| device.memory_free < *need) {
            let by = if named.is_empty() {
                String::new()
            } else {
                format!("; in use by {}", named.join(", "))
            };
            return Err(Box::new(Failure::fatal(
                Kind::GpuInUse,
                Phase::Preflight,
                format!(
                    "GPU {} ({}) has {} free of {}, engine {engine} needs {}{by}",
                    device.index,
                    device.name,
                    size_text(device.memory_free),
                    size_text(device.memory_total),
                    size_text(need)
                ),
            )
            .help("free the GPU (stop the processes named), choose another with --gpus, or lower the engine's gpu_memory")
            .cause("gpu_memory")));
        }
        if !named.is_empty() {
            notes.push(format!(
                "GPU {} is also used by {}",
                device.index,
                named.join(", ")
            ));
        }
    }
    Ok(notes)
}

fn list_or_none(items: &[&str]) -> String {
    if items.is_empty() {
        "no GPU".to_owned()
    } else {
        items.join(", ")
    }
}
