//! Docker's event stream as the lifecycle sees it: containers that died, were OOM-killed or
//! were removed, each with its labels, so the daemon can tell which service it concerns.

use std::collections::HashMap;

use futures_util::stream::BoxStream;

use super::RuntimeResult;
use crate::domain::ContainerId;

/// What happened to a container, of the events aima follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerAction {
    /// Its main process exited (on its own, killed, or with Docker).
    Die,
    /// The kernel's OOM killer hit it (a `die` follows).
    Oom,
    /// It was removed.
    Destroy,
}

impl ContainerAction {
    /// The actions followed, in Docker's words (the stream's `event` filter).
    pub const FOLLOWED: [&'static str; 3] = ["die", "oom", "destroy"];

    /// Docker's word for an action; `None` for one aima does not follow.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "die" => Some(ContainerAction::Die),
            "oom" => Some(ContainerAction::Oom),
            "destroy" => Some(ContainerAction::Destroy),
            _ => None,
        }
    }
}

/// One event about a container.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerEvent {
    pub container: ContainerId,
    pub action: ContainerAction,
    /// The container's labels (Docker sends them with each event).
    pub labels: HashMap<String, String>,
    /// For `die`: the main process's exit code.
    pub exit_code: Option<i64>,
}

/// Events as they come; an `Err` item or the end means the stream broke.
pub type EventStream = BoxStream<'static, RuntimeResult<ContainerEvent>>;
