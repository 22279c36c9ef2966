//! Checks made before any container exists. Their failures are never retried: another attempt
//! would meet the same taken port or missing GPU. The image comes next ([`super::pull`]).
//!
//! The port comes first, and a port held by a program of the host is a verdict at once: that
//! is the common conflict, and the one a person waits on. Only when the port is free, or held
//! for a container, does preflight list containers (to remove this service's leftovers and to
//! name a container on the port); leftovers a conflict leaves are removed by the next start.

use tokio::task::JoinHandle;

use super::failure::Failure;
use super::{Deps, gpus, labels, sweep};
use crate::config::Config;
use crate::domain::{EngineSpec, Gpus, Phase, Service};
use crate::error::{Detail, Kind};
use crate::host::{GpuReport, PortHolder};
use crate::runtime::{ContainerInfo, GpuRequest, Runtime};

/// What preflight settled: the GPUs to request, and lines worth showing about them.
pub(super) struct Cleared {
    pub gpus: Option<GpuRequest>,
    pub notes: Vec<String>,
}

/// `others`: the data dir's services as recorded when this start claimed its own.
pub(super) async fn preflight(
    deps: &Deps,
    rt: &dyn Runtime,
    svc: &Service,
    spec: &EngineSpec,
    others: &[Service],
    host_check: JoinHandle<Option<PortHolder>>,
) -> Result<Cleared, Failure> {
    let fail = |e| Failure::from_runtime(e, Phase::Preflight);
    let port = svc.port;
    let addr = svc.published_address();
    let holder = match host_check.await {
        Ok(holder) => holder,
        // The probe panicked: probe again here, where a panic is reported as one.
        Err(_) => deps.host.port_blocked(addr),
    };
    // A program of the host holds the port: the verdict needs no container list. Only a
    // container runtime's port proxy (or a holder the OS does not name) leaves the naming to
    // Docker's list below.
    if let Some(holder) = holder.as_ref().filter(|h| !may_be_a_container(h)) {
        return Err(held_by(port, holder));
    }
    let wanted = spec.default_gpus();
    if let Some((holder, theirs)) = gpus::holder(svc, &wanted, others, &deps.config) {
        return Err(gpus::held_by(svc, &wanted, holder, &theirs));
    }

    let removed = remove_leftovers(deps, rt, svc).await?;
    let containers = rt.list(&[]).await.map_err(fail)?;
    if let Some(c) = containers
        .iter()
        .find(|c| c.published_ports.contains(&port))
    {
        return Err(taken_by_container(port, c, &deps.config));
    }
    // A leftover just removed may have been what held the port: look again.
    let holder = if removed > 0 {
        deps.host.port_blocked(addr)
    } else {
        holder
    };
    if let Some(holder) = holder {
        return Err(held_by(port, &holder));
    }

    if wanted.is_none() {
        return Ok(Cleared {
            gpus: None,
            notes: Vec::new(),
        });
    }
    let support = rt.gpu_support().await.map_err(fail)?;
    let request = gpus::request(&wanted, &support, spec, &rt.address()).map_err(|e| *e)?;
    let notes = gpus::check_host(
        &wanted,
        &host_gpus(deps, rt).await,
        spec.gpu_memory_bytes,
        spec.engine.as_str(),
    )
    .map_err(|e| *e)?;
    Ok(Cleared {
        gpus: request,
        notes,
    })
}

/// The host's GPUs, when Docker runs on this host: a remote Docker's GPUs are not ours to see.
async fn host_gpus(deps: &Deps, rt: &dyn Runtime) -> GpuReport {
    if rt.address().starts_with("tcp://") {
        return GpuReport::NoTooling(format!("Docker at {} is not on this host", rt.address()));
    }
    let host = deps.host.clone();
    tokio::task::spawn_blocking(move || host.gpus())
        .await
        .unwrap_or_else(|e| GpuReport::Failed(format!("the GPU probe failed: {e}")))
}

/// What preflight checks, for the progress line: the port, the GPUs if any, the image.
pub(super) fn describe(port: u16, gpus: &Gpus, image: &str) -> String {
    match gpus {
        Gpus::None => format!("checking port {port} and image {image}"),
        some => format!("checking port {port}, GPUs {some} and image {image}"),
    }
}

/// Programs that hold a port on behalf of a container: Docker's userland proxy, rootless
/// Docker's and Podman's port forwarders.
const CONTAINER_PROXIES: [&str; 3] = ["docker-proxy", "rootlesskit", "rootlessport"];

/// Whether the container list may name the holder better than the OS did: the holder is a
/// container's port proxy, or a process the OS does not name (a root-owned `docker-proxy`
/// seen by an unprivileged user looks like that).
fn may_be_a_container(holder: &PortHolder) -> bool {
    holder.pid.is_none()
        || holder
            .program
            .as_deref()
            .is_none_or(|p| CONTAINER_PROXIES.contains(&p))
}

/// The port is held by a process of the host: name it, and how to stop it.
fn held_by(port: u16, holder: &PortHolder) -> Failure {
    let mut failure = Failure::fatal(
        Kind::PortInUse,
        Phase::Preflight,
        format!("port {port} is in use by {holder}"),
    );
    if let Some(command) = &holder.command {
        failure.error = failure
            .error
            .caused_by(Detail(format!("the holder is running: {command}")));
    }
    let stop_it = holder
        .pid
        .map(|pid| format!("stop that program (`kill {pid}`)"))
        .unwrap_or_else(|| "free the port".to_owned());
    failure.help(format!(
        "{stop_it}, or create this service on another port with --port"
    ))
}

/// The port is published by a container: name it, and say what its owner can do.
fn taken_by_container(port: u16, c: &ContainerInfo, config: &Config) -> Failure {
    let in_use = |by: String| {
        Failure::fatal(
            Kind::PortInUse,
            Phase::Preflight,
            format!("port {port} is in use by {by}"),
        )
    };
    let service = c.labels.get(labels::SERVICE);
    let same_instance = c
        .labels
        .get(labels::INSTANCE)
        .is_some_and(|i| config.owns_instance(i));
    let elsewhere = "or create this service on another port with --port";
    match service {
        Some(other) if same_instance => {
            in_use(format!("aima service {other} (container {})", c.name)).help(format!(
                "stop that service first (`aima service stop {other}`), {elsewhere}"
            ))
        }
        Some(other) => in_use(format!(
            "aima service {other} of another aima data dir (container {})",
            c.name
        ))
        .help(format!("stop it with the aima that owns it, {elsewhere}")),
        None => in_use(format!(
            "container {} (image {}), which aima does not manage",
            c.name, c.image
        ))
        .help(format!(
            "remove it if it is yours (`docker rm -f {}`), {elsewhere}",
            c.name
        )),
    }
}

/// A crashed or killed earlier start may have left containers of this service: remove them all.
pub(super) async fn remove_leftovers(
    deps: &Deps,
    rt: &dyn Runtime,
    svc: &Service,
) -> Result<usize, Failure> {
    sweep::remove_all(deps, rt, &svc.id)
        .await
        .map_err(|e| Failure::from_runtime(e, Phase::Preflight))
}
