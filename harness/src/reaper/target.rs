//! What a sweep is about: one harness run, named by its run id, its aima instance and its
//! ports. The run marker records it, the reaper's command line carries it.

/// What a sweep is about: one harness run.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args, serde::Serialize, serde::Deserialize)]
pub(crate) struct Target {
    /// The run id, as in the run's `AIMA_HARNESS_RUN_ID` and `aima-harness.run` label.
    #[arg(long)]
    pub run_id: String,
    /// The `aima.instance` label of the run's aima data dir.
    #[arg(long)]
    pub instance: String,
    /// Ports the run used (service port, daemon port): checked to be free afterwards.
    #[arg(long = "port")]
    pub ports: Vec<u16>,
    /// Filesystems the run mounted (a chaos run's tmpfs data dir): unmounted by the sweep.
    #[arg(long = "unmount")]
    #[serde(default)]
    pub mounts: Vec<std::path::PathBuf>,
}

impl Target {
    /// The command line of `harness reaper` for this target.
    pub(crate) fn reaper_args(&self) -> Vec<String> {
        let mut args = vec![
            "reaper".to_owned(),
            "--run-id".to_owned(),
            self.run_id.clone(),
            "--instance".to_owned(),
            self.instance.clone(),
        ];
        for port in &self.ports {
            args.extend(["--port".to_owned(), port.to_string()]);
        }
        for mount in &self.mounts {
            args.extend(["--unmount".to_owned(), mount.display().to_string()]);
        }
        args
    }
}
