//! The environment a run happened in: which aima (version, commit), which Docker, which host.
//! The scenario runner collects it (`crate::scenario`); the report carries it.

use std::collections::BTreeMap;

use serde::Serialize;

/// Facts about the system under test and the machine.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Environment {
    pub aima_bin: String,
    /// First line of `aima --version`.
    pub aima_version: String,
    /// `git rev-parse HEAD` of the workspace, when available.
    pub commit: Option<String>,
    /// True when the workspace had uncommitted changes: the commit alone does not name the
    /// code that ran.
    pub dirty_tree: bool,
    pub sim_bin: String,
    pub docker_server_version: String,
    pub docker_api_version: String,
    pub kernel: String,
    pub host: String,
    pub harness_version: String,
    /// The isolated environment every aima command ran with.
    pub aima_env: BTreeMap<String, String>,
    /// `aima.instance` label value of the run's data dir.
    pub instance: String,
}
