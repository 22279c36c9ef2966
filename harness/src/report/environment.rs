//! The environment a run happened in: which aima (version, commit), which Docker, which host.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::Path;

use serde::Serialize;

use crate::reaper::RUN_ENV;
use crate::scenario::context::RunContext;

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

/// The first line a quick program prints, run in its own process group with the run's id in
/// its environment like every process the harness starts.
fn first_line(program: &Path, args: &[&str], cwd: &Path, run_id: &str) -> Option<String> {
    let output = duct::cmd(program.as_os_str(), args)
        .dir(cwd)
        .env(RUN_ENV, run_id)
        .stdin_null()
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .before_spawn(|command| {
            command.process_group(0);
            Ok(())
        })
        .run()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .next()
        .map(|l| l.trim().to_owned())
}

fn proc_text(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

impl Environment {
    pub fn collect(ctx: &RunContext) -> Self {
        let server = ctx.docker.server().unwrap_or_default();
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        Environment {
            aima_bin: ctx.bins.aima.display().to_string(),
            aima_version: first_line(&ctx.bins.aima, &["--version"], &ctx.run_dir, &ctx.run_id)
                .unwrap_or_else(|| "unknown (aima --version failed)".into()),
            commit: first_line(
                Path::new("git"),
                &["rev-parse", "HEAD"],
                &workspace,
                &ctx.run_id,
            ),
            dirty_tree: first_line(
                Path::new("git"),
                &["status", "--porcelain", "--untracked-files=no"],
                &workspace,
                &ctx.run_id,
            )
            .is_some_and(|line| !line.is_empty()),
            sim_bin: ctx.bins.sim.display().to_string(),
            docker_server_version: server.version,
            docker_api_version: server.api_version,
            kernel: proc_text("/proc/sys/kernel/osrelease"),
            host: proc_text("/proc/sys/kernel/hostname"),
            harness_version: env!("CARGO_PKG_VERSION").to_owned(),
            aima_env: ctx.base_env.iter().cloned().collect(),
            instance: ctx.instance.clone(),
        }
    }
}
