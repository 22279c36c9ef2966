//! An engine as a Swarm service: one replica, its port published in host mode on its node,
//! labelled like a container, and restarted by nobody — aima decides about another attempt.

use std::collections::HashMap;

use bollard::models::{
    EndpointPortConfig, EndpointPortConfigProtocolEnum, EndpointPortConfigPublishModeEnum,
    EndpointSpec, Limit, Mount, MountTmpfsOptions, MountType, ServiceSpec, ServiceSpecMode,
    ServiceSpecModeReplicated, TaskSpec, TaskSpecContainerSpec, TaskSpecLogDriver,
    TaskSpecPlacement, TaskSpecResources, TaskSpecRestartPolicy,
    TaskSpecRestartPolicyConditionEnum,
};

use crate::runtime::docker::{cache_volume, read_only_bind};
use crate::domain::HostPort;
use crate::runtime::{ContainerSpec, KEPT_CAPS};

const NANOS_PER_SEC: i64 = 1_000_000_000;

pub(super) fn service_spec(spec: &ContainerSpec) -> ServiceSpec {
    let mut mounts: Vec<Mount> = spec
        .mount
        .iter()
        .map(|dir| read_only_bind(dir))
        .chain(spec.cache.iter().map(cache_volume))
        .collect();
    // A Swarm task takes no shm size: a tmpfs of that size on /dev/shm is the same thing.
    if let Some(bytes) = spec.shm_bytes {
        mounts.push(Mount {
            target: Some("/dev/shm".to_owned()),
            typ: Some(MountType::TMPFS),
            tmpfs_options: Some(MountTmpfsOptions {
                size_bytes: Some(bytes as i64),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    let container = TaskSpecContainerSpec {
        image: Some(spec.image.clone()),
        // `args` replaces the image's CMD and keeps its entrypoint, as a container's `cmd`.
        args: Some(spec.args.clone()),
        env: Some(spec.env.clone()),
        labels: Some(spec.labels.clone()),
        mounts: Some(mounts),
        stop_grace_period: Some(i64::from(spec.stop_secs) * NANOS_PER_SEC),
        capability_drop: Some(vec!["ALL".to_owned()]),
        capability_add: Some(KEPT_CAPS.iter().map(|c| format!("CAP_{c}")).collect()),
        ..Default::default()
    };
    let task = TaskSpec {
        container_spec: Some(container),
        resources: Some(TaskSpecResources {
            limits: Some(Limit {
                memory_bytes: Some(spec.limits.memory_bytes as i64),
                pids: Some(i64::from(spec.limits.pids)),
                ..Default::default()
            }),
            ..Default::default()
        }),
        // One task, never replaced by the Swarm: a failed start is aima's to judge and retry.
        restart_policy: Some(TaskSpecRestartPolicy {
            condition: Some(TaskSpecRestartPolicyConditionEnum::NONE),
            max_attempts: Some(0),
            ..Default::default()
        }),
        placement: Some(TaskSpecPlacement {
            constraints: Some(spec.placement.clone()),
            ..Default::default()
        }),
        log_driver: Some(TaskSpecLogDriver {
            name: Some("json-file".to_owned()),
            options: Some(HashMap::from([
                ("max-size".to_owned(), spec.limits.log_max_bytes.to_string()),
                ("max-file".to_owned(), spec.limits.log_max_files.to_string()),
            ])),
        }),
        ..Default::default()
    };
    ServiceSpec {
        name: Some(spec.name.clone()),
        labels: Some(spec.labels.clone()),
        task_template: Some(task),
        mode: Some(ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated { replicas: Some(1) }),
            ..Default::default()
        }),
        endpoint_spec: Some(EndpointSpec {
            ports: Some(vec![EndpointPortConfig {
                protocol: Some(EndpointPortConfigProtocolEnum::TCP),
                target_port: Some(i64::from(spec.container_port)),
                published_port: Some(i64::from(spec.host_port.get())),
                // On the task's own node, not through the routing mesh on every node.
                publish_mode: Some(EndpointPortConfigPublishModeEnum::HOST),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The host ports a service publishes.
pub(super) fn published_ports(spec: Option<&ServiceSpec>) -> Vec<HostPort> {
    spec.and_then(|s| s.endpoint_spec.as_ref())
        .and_then(|e| e.ports.as_ref())
        .map(|ports| {
            ports
                .iter()
                .filter_map(|p| p.published_port)
                .filter_map(|p| u16::try_from(p).ok().and_then(HostPort::new))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::ContainerLimits;

    fn engine() -> ContainerSpec {
        ContainerSpec {
            name: "aima-svc-1-a1".into(),
            image: "sim:1".into(),
            args: vec!["--port".into(), "8000".into()],
            env: vec![],
            labels: HashMap::from([("aima.service".into(), "svc-1".into())]),
            host_ip: "127.0.0.1".parse().unwrap(),
            host_port: HostPort::from(18124),
            container_port: 8000,
            gpus: None,
            limits: ContainerLimits {
                memory_bytes: 1 << 30,
                pids: 512,
                log_max_bytes: 1 << 20,
                log_max_files: 3,
            },
            mount: None,
            cache: None,
            shm_bytes: Some(1 << 28),
            placement: vec!["node.hostname==gpu-2".into()],
            stop_secs: 7,
        }
    }

    #[test]
    fn one_replica_host_mode_port_no_restarts_and_the_placement_asked_for() {
        let spec = service_spec(&engine());
        assert_eq!(published_ports(Some(&spec)), [18124]);
        let port = &spec.endpoint_spec.as_ref().unwrap().ports.as_ref().unwrap()[0];
        assert_eq!(
            port.publish_mode,
            Some(EndpointPortConfigPublishModeEnum::HOST)
        );
        let replicated = spec.mode.as_ref().unwrap().replicated.as_ref().unwrap();
        assert_eq!(replicated.replicas, Some(1));
        let task = spec.task_template.as_ref().unwrap();
        let restart = task.restart_policy.as_ref().unwrap();
        assert_eq!(
            restart.condition,
            Some(TaskSpecRestartPolicyConditionEnum::NONE)
        );
        assert_eq!(
            task.placement.as_ref().unwrap().constraints.as_deref(),
            Some(&["node.hostname==gpu-2".to_owned()][..])
        );
        let container = task.container_spec.as_ref().unwrap();
        assert_eq!(container.stop_grace_period, Some(7 * NANOS_PER_SEC));
        assert_eq!(
            container.labels, spec.labels,
            "containers are labelled as the service"
        );
        let shm = container.mounts.as_ref().unwrap().last().unwrap();
        assert_eq!(shm.target.as_deref(), Some("/dev/shm"));
    }
}
