//! Assembling a finished run's report (`crate::report`'s document) from the run's context:
//! counts, figures, the environment the run happened in (which aima, which Docker, which host),
//! the commands and the timeline. The scenario produces the data; the report only renders it.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::exec::RUN_ENV;
use crate::report::{Counts, Environment, Report, SCHEMA, ScenarioRef};
use crate::verdict::{CriterionResult, Verdict};

use super::ScenarioInfo;
use super::context::{Census, RunContext};

/// Assembles the report of a finished run.
pub(crate) fn build(
    ctx: &RunContext,
    info: &ScenarioInfo,
    criteria: Vec<CriterionResult>,
    orphans: &Census,
    started_at: SystemTime,
    wall: Duration,
) -> Report {
    let mut counts = Counts::default();
    let mut figures = BTreeMap::new();
    for result in &criteria {
        match result.verdict {
            Verdict::Pass => counts.pass += 1,
            Verdict::Fail(_) => counts.fail += 1,
            Verdict::Skip(_) => counts.skip += 1,
        }
        for (name, value) in &result.evidence.figures {
            figures.insert(format!("{}.{name}", result.id), *value);
        }
    }
    let outcome = if counts.pass == criteria.len() && !criteria.is_empty() {
        "pass"
    } else {
        "fail"
    };
    Report {
        schema: SCHEMA,
        run_id: ctx.run_id.clone(),
        scenario: ScenarioRef {
            number: info.number,
            title: info.title.to_owned(),
            document: info.document.to_owned(),
        },
        started_at: humantime::format_rfc3339_seconds(started_at).to_string(),
        wall_time_ms: crate::exec::millis(wall),
        outcome,
        crashed: None,
        counts,
        port: ctx.port,
        environment: environment(ctx),
        figures,
        criteria,
        orphans_at_end: orphans.counted.iter().map(|c| c.line()).collect(),
        commands: ctx.commands.clone(),
        timeline: ctx.timeline.events().to_vec(),
        leftovers_of_earlier_runs: ctx.leftovers.clone(),
    }
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

/// Collects the facts of the run `ctx` is about.
fn environment(ctx: &RunContext) -> Environment {
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
