//! Which containers belong to no live service, and when they have been orphans long enough to
//! remove. Pure decisions, so they are tested without Docker.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::domain::{ContainerId, Service, Status};
use crate::lifecycle::labels::{INSTANCE, MANAGED, SERVICE};
use crate::runtime::ContainerInfo;

/// Containers of `instance` whose service is gone, or is not starting, running or stopping, or
/// is running from another container. Anything without this instance's labels is never picked,
/// whatever filter the caller listed with.
pub(crate) fn orphans<'a>(
    containers: &'a [ContainerInfo],
    services: &[Service],
    instance: &str,
) -> Vec<&'a ContainerInfo> {
    let by_id: HashMap<&str, &Service> = services.iter().map(|s| (s.id.as_str(), s)).collect();
    containers
        .iter()
        .filter(|c| {
            let label = |k: &str| c.labels.get(k).map(String::as_str);
            if label(MANAGED) != Some("true") || label(INSTANCE) != Some(instance) {
                return false;
            }
            let Some(svc) = label(SERVICE).and_then(|id| by_id.get(id)) else {
                return true;
            };
            match svc.status {
                // A start may be creating containers; stop is removing them.
                Status::Starting | Status::Stopping => false,
                Status::Running => svc.container_id.as_ref() != Some(&c.id),
                Status::Created | Status::Stopped | Status::Failed | Status::Backoff => true,
            }
        })
        .collect()
}

/// Remembers when each orphan was first seen, and releases it after the grace period.
/// A restarted daemon starts counting again: it errs towards keeping containers.
#[derive(Debug)]
pub(crate) struct Reaper {
    grace: Duration,
    first_seen: HashMap<ContainerId, Instant>,
}

impl Reaper {
    pub(crate) fn new(grace: Duration) -> Self {
        Reaper {
            grace,
            first_seen: HashMap::new(),
        }
    }

    /// Of the current orphans, those seen for at least the grace period; forgets the rest.
    pub(crate) fn due(&mut self, orphan_ids: &[&ContainerId], now: Instant) -> Vec<ContainerId> {
        self.first_seen.retain(|id, _| orphan_ids.contains(&id));
        orphan_ids
            .iter()
            .filter(|id| {
                let seen = *self.first_seen.entry((**id).clone()).or_insert(now);
                now.duration_since(seen) >= self.grace
            })
            .map(|id| (*id).clone())
            .collect()
    }

    /// Forgets a container once it has been removed.
    pub(crate) fn forget(&mut self, id: &ContainerId) {
        self.first_seen.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EngineType, HostPort, ModelId, ServiceId};

    fn container(id: &str, labels: &[(&str, &str)]) -> ContainerInfo {
        ContainerInfo {
            id: id.into(),
            name: id.to_owned(),
            image: "sim".to_owned(),
            state: "running".to_owned(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            published_ports: Vec::new(),
            node: None,
        }
    }

    fn ours(id: &str, service: &str) -> ContainerInfo {
        container(
            id,
            &[(MANAGED, "true"), (INSTANCE, "me"), (SERVICE, service)],
        )
    }

    fn service(id: &str, status: Status, container: Option<&str>) -> Service {
        Service {
            id: ServiceId::parse(id).unwrap(),
            name: "s".to_owned(),
            model_id: ModelId::parse("model-00000000").unwrap(),
            engine_type: EngineType::Vllm,
            port: HostPort::from(18000),
            bind: std::net::Ipv4Addr::LOCALHOST.into(),
            endpoint: "http://127.0.0.1:18000".to_owned(),
            gpus: None,
            memory_bytes: None,
            settings: Default::default(),
            desired: crate::domain::Desired::Stopped,
            restart: crate::domain::RestartPolicy::No,
            restarts: 0,
            next_restart_at: None,
            status,
            last_error: None,
            attempts: Vec::new(),
            container_id: container.map(ContainerId::from),
            owner: None,
            created_by: None,
            started_by: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn picked(containers: &[ContainerInfo], services: &[Service]) -> Vec<String> {
        orphans(containers, services, "me")
            .into_iter()
            .map(|c| c.id.to_string())
            .collect()
    }

    #[test]
    fn containers_of_live_services_stay() {
        let services = [
            service("svc-00000001", Status::Running, Some("c1")),
            service("svc-00000002", Status::Starting, None),
            service("svc-00000003", Status::Stopping, Some("c3")),
        ];
        let containers = [
            ours("c1", "svc-00000001"),
            ours("c2", "svc-00000002"),
            ours("c3", "svc-00000003"),
        ];
        assert!(picked(&containers, &services).is_empty());
    }

    #[test]
    fn containers_of_dead_or_missing_services_go() {
        let services = [
            service("svc-00000001", Status::Running, Some("c1")),
            service("svc-00000002", Status::Failed, None),
            service("svc-00000003", Status::Stopped, None),
        ];
        let containers = [
            ours("stale-attempt", "svc-00000001"),
            ours("c2", "svc-00000002"),
            ours("c3", "svc-00000003"),
            ours("c4", "svc-deadbeef"),
        ];
        assert_eq!(
            picked(&containers, &services),
            ["stale-attempt", "c2", "c3", "c4"]
        );
    }

    #[test]
    fn foreign_and_unlabelled_containers_are_never_picked() {
        let containers = [
            container(
                "other-instance",
                &[
                    (MANAGED, "true"),
                    (INSTANCE, "you"),
                    (SERVICE, "svc-deadbeef"),
                ],
            ),
            container("no-labels", &[]),
            container(
                "not-managed",
                &[(INSTANCE, "me"), (SERVICE, "svc-deadbeef")],
            ),
        ];
        assert!(picked(&containers, &[]).is_empty());
    }

    #[test]
    fn a_second_host_with_the_same_data_dir_path_picks_none_of_the_firsts_containers() {
        let dir = tempfile::tempdir().unwrap();
        let host_a =
            crate::config::Config::load(dir.path(), crate::config::Env::default()).unwrap();
        // Host B: same path, its own data dir (here: the same path after A's id is gone).
        std::fs::remove_file(dir.path().join(crate::instance::ID_FILE)).unwrap();
        let host_b =
            crate::config::Config::load(dir.path(), crate::config::Env::default()).unwrap();
        assert_ne!(host_a.instance, host_b.instance);
        let engine_of_a = container(
            "a1",
            &[
                (MANAGED, "true"),
                (INSTANCE, &host_a.instance),
                (SERVICE, "svc-deadbeef"),
            ],
        );
        let orphans_of_b = orphans(std::slice::from_ref(&engine_of_a), &[], &host_b.instance);
        assert!(orphans_of_b.is_empty());
        let orphans_of_a = orphans(std::slice::from_ref(&engine_of_a), &[], &host_a.instance);
        assert_eq!(orphans_of_a.len(), 1, "A still reaps its own orphan");
    }

    #[test]
    fn grace_period_counts_from_first_sight_and_resets_when_adopted() {
        let mut reaper = Reaper::new(Duration::from_secs(30));
        let t0 = Instant::now();
        let a = ContainerId::from("a");
        assert!(reaper.due(&[&a], t0).is_empty());
        assert!(reaper.due(&[&a], t0 + Duration::from_secs(29)).is_empty());
        assert_eq!(reaper.due(&[&a], t0 + Duration::from_secs(30)), vec![a.clone()]);
        // No longer an orphan for one pass: the count starts again.
        assert!(reaper.due(&[], t0 + Duration::from_secs(31)).is_empty());
        assert!(reaper.due(&[&a], t0 + Duration::from_secs(32)).is_empty());
    }
}
