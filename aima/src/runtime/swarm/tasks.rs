//! Reading a Swarm's task list: how far an engine's task has come, why it failed, and on which
//! node. Pure functions over plain views of tasks and nodes, so that several nodes, placement
//! and node naming are tested without a Swarm.

use std::net::IpAddr;

use crate::domain::{ContainerId, HostPort};
use crate::runtime::{DockerFault, Placement, RuntimeError};

/// A node as aima needs it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct NodeView {
    pub id: String,
    pub hostname: String,
    /// The address the node's published ports are reached on (`Status.Addr`).
    pub addr: String,
}

/// A task as aima needs it.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct TaskView {
    pub id: String,
    pub service_id: String,
    pub node_id: Option<String>,
    /// Swarm's task state: `pending`, `running`, `failed`, `rejected`, …
    pub state: String,
    pub desired: String,
    /// Why it failed (or why it is still pending), in Swarm's words.
    pub err: Option<String>,
    pub exit_code: Option<i64>,
    pub container_id: Option<ContainerId>,
    /// Swarm's version index: the newest task has the highest.
    pub version: u64,
}

/// The states in which a task holds (or is about to hold) its node's port.
const ACTIVE: [&str; 7] = [
    "assigned",
    "accepted",
    "preparing",
    "ready",
    "starting",
    "running",
    "pending",
];

impl TaskView {
    pub fn is_active(&self) -> bool {
        ACTIVE.contains(&self.state.as_str())
    }
}

/// How far a freshly created engine task has come.
#[derive(Debug, PartialEq)]
pub(super) enum Progress {
    /// Not placed or not started yet.
    Waiting,
    /// Its container runs.
    Running,
    /// Its container ran and exited: the engine's own failure, read like a container's.
    Exited,
    /// Swarm could not run it (or will not place it): the classified reason.
    Failed(RuntimeError),
}

/// The node's name as people know it: its hostname, else its id (shortened).
pub(super) fn node_name(nodes: &[NodeView], node_id: &str) -> String {
    nodes
        .iter()
        .find(|n| n.id == node_id && !n.hostname.is_empty())
        .map(|n| n.hostname.clone())
        .unwrap_or_else(|| node_id[..node_id.len().min(12)].to_owned())
}

/// The service's newest task.
pub(super) fn newest<'t>(tasks: &'t [TaskView], service_id: &str) -> Option<&'t TaskView> {
    tasks
        .iter()
        .filter(|t| t.service_id == service_id)
        .max_by_key(|t| t.version)
}

/// Where a task runs: its node's name and published address.
pub(super) fn placement_of(task: &TaskView, nodes: &[NodeView]) -> Option<Placement> {
    let node_id = task.node_id.as_deref()?;
    let node = nodes.iter().find(|n| n.id == node_id)?;
    let address = node.addr.parse::<IpAddr>().ok()?;
    Some(Placement {
        node: node_name(nodes, node_id),
        address,
    })
}

/// Reads the newest task of an engine that publishes `port` from `image`.
pub(super) fn progress(
    task: Option<&TaskView>,
    nodes: &[NodeView],
    port: HostPort,
    image: &str,
) -> Progress {
    let Some(task) = task else {
        return Progress::Waiting;
    };
    let node = task.node_id.as_deref().map(|id| node_name(nodes, id));
    match task.state.as_str() {
        "running" => Progress::Running,
        // Swarm keeps a task it cannot place pending, with the reason ("no suitable node
        // (scheduling constraints not satisfied on 2 nodes)"); waiting does not help.
        "pending" => match &task.err {
            Some(err) if !err.is_empty() => Progress::Failed(RuntimeError::Task {
                node,
                message: err.clone(),
            }),
            _ => Progress::Waiting,
        },
        "complete" => Progress::Exited,
        "failed" | "rejected" | "shutdown" | "orphaned" | "remove" => {
            let err = task.err.clone().unwrap_or_default();
            if err.contains("non-zero exit") {
                Progress::Exited
            } else {
                Progress::Failed(classify(&err, &task.state, node, port, image))
            }
        }
        _ => Progress::Waiting,
    }
}

/// A failed task's reason, in the one classification every runtime shares.
pub(super) fn classify(
    err: &str,
    state: &str,
    node: Option<String>,
    port: HostPort,
    image: &str,
) -> RuntimeError {
    let lower = err.to_ascii_lowercase();
    if lower.contains("address already in use") || lower.contains("port is already allocated") {
        RuntimeError::PortConflict {
            port,
            node,
            cause: DockerFault::new(err),
        }
    } else if lower.contains("no such image")
        || lower.contains("pull access denied")
        || lower.contains("manifest unknown")
    {
        RuntimeError::ImageMissing {
            image: image.to_owned(),
            node,
        }
    } else {
        let message = if err.is_empty() {
            format!("its task ended {state} without a reason")
        } else {
            err.to_owned()
        };
        RuntimeError::Task { node, message }
    }
}

/// The nodes an engine placed by `constraints` may land on, as far as its `node.hostname` and
/// `node.id` equality constraints tell; other constraints are left to the Swarm, so every
/// node stays a candidate for them.
pub(super) fn candidates<'n>(nodes: &'n [NodeView], constraints: &[String]) -> Vec<&'n NodeView> {
    nodes
        .iter()
        .filter(|n| {
            constraints.iter().all(|c| {
                let Some((attribute, value)) = c.split_once("==") else {
                    return true;
                };
                match attribute.trim() {
                    "node.hostname" => n.hostname == value.trim(),
                    "node.id" => n.id == value.trim(),
                    _ => true,
                }
            })
        })
        .collect()
}

/// A `node.hostname==NAME` constraint naming no node of the Swarm: its name.
pub(super) fn unknown_node<'c>(nodes: &[NodeView], constraints: &'c [String]) -> Option<&'c str> {
    constraints.iter().find_map(|c| {
        let (attribute, value) = c.split_once("==")?;
        let name = value.trim();
        (attribute.trim() == "node.hostname" && !nodes.iter().any(|n| n.hostname == name))
            .then_some(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes() -> Vec<NodeView> {
        vec![
            NodeView {
                id: "n1aaaaaaaaaaaaaaaa".into(),
                hostname: "gpu-1".into(),
                addr: "10.0.0.1".into(),
            },
            NodeView {
                id: "n2bbbbbbbbbbbbbbbb".into(),
                hostname: "gpu-2".into(),
                addr: "10.0.0.2".into(),
            },
        ]
    }

    fn task(service: &str, node: &str, state: &str, err: &str, version: u64) -> TaskView {
        TaskView {
            id: format!("t{version}"),
            service_id: service.into(),
            node_id: (!node.is_empty()).then(|| node.into()),
            state: state.into(),
            desired: "running".into(),
            err: (!err.is_empty()).then(|| err.into()),
            version,
            ..TaskView::default()
        }
    }

    const PROXY: &str = "starting container failed: driver failed programming external connectivity on endpoint x: Error starting userland proxy: listen tcp4 0.0.0.0:18124: bind: address already in use";

    #[test]
    fn a_port_failure_names_the_node_the_task_ran_on() {
        let nodes = nodes();
        let failed = task("s", "n2bbbbbbbbbbbbbbbb", "failed", PROXY, 3);
        let Progress::Failed(e) = progress(Some(&failed), &nodes, HostPort::from(18124), "sim") else {
            panic!("not a failure");
        };
        assert_eq!(
            e,
            RuntimeError::PortConflict {
                port: HostPort::from(18124),
                node: Some("gpu-2".into()),
                cause: PROXY.into(),
            }
        );
        assert!(e.to_string().contains("port 18124 on node gpu-2"), "{e}");
    }

    #[test]
    fn a_missing_image_and_an_unknown_reason_are_told_apart() {
        let nodes = nodes();
        let missing = task(
            "s",
            "n1aaaaaaaaaaaaaaaa",
            "rejected",
            "No such image: sim:1",
            1,
        );
        assert_eq!(
            progress(Some(&missing), &nodes, HostPort::from(1), "sim:1"),
            Progress::Failed(RuntimeError::ImageMissing {
                image: "sim:1".into(),
                node: Some("gpu-1".into())
            })
        );
        let mount = task(
            "s",
            "n1aaaaaaaaaaaaaaaa",
            "rejected",
            "invalid mount config",
            1,
        );
        let Progress::Failed(RuntimeError::Task { node, message }) =
            progress(Some(&mount), &nodes, HostPort::from(1), "sim:1")
        else {
            panic!("not a task failure");
        };
        assert_eq!(
            (node.as_deref(), message.as_str()),
            (Some("gpu-1"), "invalid mount config")
        );
    }

    #[test]
    fn an_engine_that_ran_and_exited_is_left_to_the_lifecycle() {
        let exited = task(
            "s",
            "n1aaaaaaaaaaaaaaaa",
            "failed",
            "task: non-zero exit (137)",
            1,
        );
        assert_eq!(progress(Some(&exited), &nodes(), HostPort::from(1), "i"), Progress::Exited);
    }

    #[test]
    fn an_unplaceable_task_fails_at_once_and_a_placeable_one_is_waited_for() {
        let nodes = nodes();
        let stuck = task(
            "s",
            "",
            "pending",
            "no suitable node (scheduling constraints not satisfied on 2 nodes)",
            1,
        );
        assert!(matches!(
            progress(Some(&stuck), &nodes, HostPort::from(1), "i"),
            Progress::Failed(RuntimeError::Task { node: None, .. })
        ));
        let fresh = task("s", "", "pending", "", 1);
        assert_eq!(progress(Some(&fresh), &nodes, HostPort::from(1), "i"), Progress::Waiting);
        assert_eq!(progress(None, &nodes, HostPort::from(1), "i"), Progress::Waiting);
        let up = task("s", "n1aaaaaaaaaaaaaaaa", "running", "", 1);
        assert_eq!(progress(Some(&up), &nodes, HostPort::from(1), "i"), Progress::Running);
    }

    #[test]
    fn the_newest_task_of_the_service_decides_and_gives_the_placement() {
        let nodes = nodes();
        let tasks = [
            task("s", "n1aaaaaaaaaaaaaaaa", "failed", PROXY, 4),
            task("s", "n2bbbbbbbbbbbbbbbb", "running", "", 9),
            task("other", "n1aaaaaaaaaaaaaaaa", "running", "", 12),
        ];
        let newest = newest(&tasks, "s").unwrap();
        assert_eq!(newest.version, 9);
        assert_eq!(
            placement_of(newest, &nodes),
            Some(Placement {
                node: "gpu-2".into(),
                address: "10.0.0.2".parse().unwrap()
            })
        );
    }

    #[test]
    fn nodes_are_named_by_hostname_else_by_short_id() {
        let nodes = nodes();
        assert_eq!(node_name(&nodes, "n1aaaaaaaaaaaaaaaa"), "gpu-1");
        assert_eq!(node_name(&nodes, "zzzzzzzzzzzzzzzzzzzz"), "zzzzzzzzzzzz");
    }

    #[test]
    fn pinning_constraints_narrow_the_candidates_and_others_keep_all() {
        let nodes = nodes();
        let names = |c: &[&str]| {
            let c: Vec<String> = c.iter().map(|s| s.to_string()).collect();
            candidates(&nodes, &c)
                .iter()
                .map(|n| n.hostname.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&["node.hostname==gpu-2"]), ["gpu-2"]);
        assert_eq!(names(&["node.id==n1aaaaaaaaaaaaaaaa"]), ["gpu-1"]);
        assert_eq!(names(&["node.labels.gpu==true"]), ["gpu-1", "gpu-2"]);
        assert_eq!(names(&["node.hostname==gpu-3"]), Vec::<String>::new());
        let asked = |c: &str| vec![c.to_owned()];
        assert_eq!(
            unknown_node(&nodes, &asked("node.hostname==gpu-3")),
            Some("gpu-3")
        );
        assert_eq!(unknown_node(&nodes, &asked("node.hostname==gpu-2")), None);
        assert_eq!(unknown_node(&nodes, &asked("node.labels.x==gpu-3")), None);
    }
}
