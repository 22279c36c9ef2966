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
use crate::domain::{EngineSpec, Gpus, HostPort, Phase, Service};
use crate::error::{Detail, Kind};
use crate::host::{GpuReport, PortHolder};
use crate::runtime::{ContainerInfo, GpuRequest, Runtime};

/// Where the engine is to run, as far as the start knows before it runs.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Target<'a> {
    /// The Swarm node asked for (`--node`); `None`: any node (or the one Docker host).
    pub node: Option<&'a str>,
    /// This machine's Swarm node name, when it runs on a Swarm.
    pub this_node: Option<&'a str>,
}

/// What preflight settled: the GPUs to request, and lines worth showing about them.
pub(super) struct Cleared {
    pub gpus: Option<GpuRequest>,
    pub notes: Vec<String>,
}

/// `others`: the data dir's services as recorded when this start claimed its own;
/// `host_check` is this machine's port probe, `None` when the engine cannot run here.
pub(super) async fn preflight(
    deps: &Deps,
    rt: &dyn Runtime,
    svc: &Service,
    spec: &EngineSpec,
    others: &[Service],
    host_check: Option<JoinHandle<Option<PortHolder>>>,
    target: Target<'_>,
) -> Result<Cleared, Failure> {
    let fail = |e| Failure::from_runtime(e, Phase::Preflight);
    // A policy verdict, before anything of the host or Docker is looked at.
    super::quota::check(deps, rt, svc, others).await?;
    let port = svc.port;
    let addr = super::published_address(&deps.config, svc);
    let holder_checked = host_check.is_some();
    let holder = match host_check {
        None => None,
        Some(check) => match check.await {
            Ok(holder) => holder,
            // The probe panicked: probe again here, where a panic is reported as one.
            Err(_) => deps.host.port_blocked(addr),
        },
    };
    // A program of the host holds the port: the verdict needs no container list. Only a
    // container runtime's port proxy (or a holder the OS does not name) leaves the naming to
    // Docker's list below.
    if let Some(holder) = holder.as_ref().filter(|h| !may_be_a_container(h)) {
        return Err(held_by(port, holder, target.this_node));
    }
    let wanted = spec.default_gpus();
    if let Some((holder, theirs)) = gpus::holder(svc, &wanted, others, &deps.config) {
        return Err(gpus::held_by(svc, &wanted, holder, &theirs));
    }

    let removed = remove_leftovers(deps, rt, svc).await?;
    let containers = rt.list(&[]).await.map_err(fail)?;
    if let Some(c) = containers
        .iter()
        .find(|c| c.published_ports.contains(&port) && may_collide(c, target))
    {
        return Err(taken_by_container(port, c, &deps.config));
    }
    // A leftover just removed may have been what held the port: look again.
    let holder = if removed > 0 && holder_checked {
        deps.host.port_blocked(addr)
    } else {
        holder
    };
    if let Some(holder) = holder {
        return Err(held_by(port, &holder, target.this_node));
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
pub(super) fn describe(port: HostPort, gpus: &Gpus, image: &str) -> String {
    match gpus {
        Gpus::None => format!("checking port {port} and image {image}"),
        some => format!("checking port {port}, GPUs {some} and image {image}"),
    }
}

/// Whether a container (or Swarm service) publishing the port stands in the way: on plain
/// Docker always; on a Swarm when it runs on the node asked for, or when no node was asked for
/// (the Swarm may choose its node).
fn may_collide(c: &ContainerInfo, target: Target<'_>) -> bool {
    match (c.node.as_deref(), target.node) {
        (Some(theirs), Some(ours)) => theirs == ours,
        _ => true,
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
fn held_by(port: HostPort, holder: &PortHolder, this_node: Option<&str>) -> Failure {
    let mut failure = Failure::fatal(
        Kind::PortInUse,
        Phase::Preflight,
        match this_node {
            Some(node) => format!("port {port} is in use on Swarm node {node} by {holder}"),
            None => format!("port {port} is in use by {holder}"),
        },
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
fn taken_by_container(port: HostPort, c: &ContainerInfo, config: &Config) -> Failure {
    let in_use = |by: String| {
        Failure::fatal(
            Kind::PortInUse,
            Phase::Preflight,
            format!("port {port} is in use by {by}"),
        )
    };
    let service = c.labels.get(labels::SERVICE);
    // On a Swarm: the service, and the node its task publishes the port on.
    let (what, on) = match &c.node {
        Some(node) => ("Swarm service", format!(" on node {node}")),
        None => ("container", String::new()),
    };
    let same_instance = c
        .labels
        .get(labels::INSTANCE)
        .is_some_and(|i| config.owns_instance(i));
    let elsewhere = "or create this service on another port with --port";
    match service {
        Some(other) if same_instance => {
            in_use(format!("aima service {other} ({what} {}{on})", c.name)).help(format!(
                "stop that service first (`aima service stop {other}`), {elsewhere}"
            ))
        }
        Some(other) => in_use(format!(
            "aima service {other} of another aima data dir ({what} {}{on})",
            c.name
        ))
        .help(format!("stop it with the aima that owns it, {elsewhere}")),
        None => {
            let remove = match c.node {
                Some(_) => "docker service rm",
                None => "docker rm -f",
            };
            in_use(format!(
                "{what} {}{on} (image {}), which aima does not manage",
                c.name, c.image
            ))
            .help(format!(
                "remove it if it is yours (`{remove} {}`), {elsewhere}",
                c.name
            ))
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn publisher(node: Option<&str>) -> ContainerInfo {
        ContainerInfo {
            id: "s1".into(),
            name: "web".into(),
            image: "nginx".into(),
            state: "running".into(),
            labels: Default::default(),
            published_ports: vec![HostPort::from(8000)],
            node: node.map(str::to_owned),
        }
    }

    #[test]
    fn a_publisher_on_another_node_than_the_one_asked_for_is_no_conflict() {
        let on = |node| Target {
            node,
            this_node: None,
        };
        assert!(may_collide(&publisher(None), on(None)));
        assert!(may_collide(&publisher(None), on(Some("gpu-1"))));
        assert!(
            may_collide(&publisher(Some("gpu-1")), on(None)),
            "the Swarm may choose gpu-1"
        );
        assert!(may_collide(&publisher(Some("gpu-1")), on(Some("gpu-1"))));
        assert!(!may_collide(&publisher(Some("gpu-2")), on(Some("gpu-1"))));
    }

    #[test]
    fn a_swarm_publisher_is_named_with_its_node() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::load(dir.path(), crate::config::Env::default()).unwrap();
        let failure = taken_by_container(HostPort::from(8000), &publisher(Some("gpu-2")), &config);
        assert_eq!(
            failure.reason(),
            "port 8000 is in use by Swarm service web on node gpu-2 (image nginx), which aima does not manage"
        );
        assert!(
            failure
                .error
                .help
                .unwrap()
                .contains("docker service rm web")
        );
    }
}
