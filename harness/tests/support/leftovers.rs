//! "Nothing outlives a run", checked from outside the way an operator would: `pgrep` for the
//! run id (blockers and the reaper carry it in their command line), the process table for the
//! run id in environments (every process the harness starts carries `AIMA_HARNESS_RUN_ID`),
//! `docker ps` for the run's labels, and the run's port.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use harness::{check_port, free_port};
use libtest_mimic::{Completion, Failed, Trial};
use serde_json::Value;

use super::cases::{docker, docker_missing};

/// How long a killed run's reaper may take to leave nothing behind ("within a few seconds").
const CLEAN_WITHIN: Duration = Duration::from_secs(10);

/// Processes of the run: `pid (program)` of every live process whose environment carries the
/// run id, and every line `pgrep -af RUN_ID` prints.
fn run_processes(run_id: &str) -> Vec<String> {
    let wanted = format!("AIMA_HARNESS_RUN_ID={run_id}");
    let mut found: Vec<String> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == wanted.as_bytes()))
        })
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let state = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .next()?
                .to_owned();
            (state != "Z").then(|| format!("pid {pid} with {wanted}: {}", stat.trim()))
        })
        .collect();
    let pgrep = Command::new("pgrep").args(["-af", run_id]).output();
    if let Ok(out) = pgrep {
        found.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(|l| format!("pgrep -af {run_id}: {l}")),
        );
    }
    found
}

/// `docker ps -a` lines of containers labelled for the run (its run id or its aima instance).
fn run_containers(run_id: &str, instance: &str) -> Vec<String> {
    [
        format!("label=aima-harness.run={run_id}"),
        format!("label=aima.instance={instance}"),
    ]
    .iter()
    .flat_map(|filter| {
        let args = [
            "ps",
            "-a",
            "--filter",
            filter,
            "--format",
            "{{.Names}} {{.Status}}",
        ];
        let out = docker(&args).unwrap_or_else(|e| format!("docker ps failed: {e}"));
        out.lines()
            .map(|l| format!("docker ps ({filter}): {l}"))
            .collect::<Vec<_>>()
    })
    .collect()
}

/// Waits up to `limit` until no process, no container of the run and nothing on `port` is
/// left; returns how long that took, or everything still there.
pub fn wait_until_clean(
    run_id: &str,
    instance: &str,
    port: u16,
    limit: Duration,
) -> Result<Duration, String> {
    let started = Instant::now();
    loop {
        let mut left = run_processes(run_id);
        left.extend(run_containers(run_id, instance));
        let check = check_port(port);
        if !check.is_free() {
            left.push(check.describe());
        }
        if left.is_empty() {
            return Ok(started.elapsed());
        }
        if started.elapsed() >= limit {
            return Err(format!(
                "after {limit:?}, run {run_id} left:\n{}",
                left.join("\n")
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn json(path: &Path) -> Result<Value, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// `kill -9` of the harness once its console shows `pattern`; then nothing of the run may be
/// left within a few seconds, and the reaper must say it found the harness gone. The case
/// that kills during the cycles also runs the scenario again (same private markers folder)
/// and expects that run to report the killed run's leftovers as a warning.
pub fn kill9_case(name: &str, pattern: &'static str, then_rerun: bool) -> Trial {
    Trial::ignorable_test(name, move || {
        if let Some(why) = docker_missing() {
            if std::env::var_os("CI").is_some() {
                return Err(format!("Docker is required in CI: {why}").into());
            }
            return Ok(Completion::ignored_with(format!("no Docker: {why}")));
        }
        kill9(pattern, then_rerun).map(|()| Completion::Completed)
    })
}

fn kill9(pattern: &str, then_rerun: bool) -> Result<(), Failed> {
    let reports = tempfile::Builder::new()
        .prefix("harness-kill9-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    // A private markers folder, so no concurrent run reports (and consumes) our leftovers.
    let tmp = reports.path().join("tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let port = free_port().map_err(|e| e.to_string())?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["scenario", "20", "--port", &port.to_string(), "--reports"])
        .arg(reports.path())
        .env("TMPDIR", &tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut run_dir: Option<PathBuf> = None;
    let mut console = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .map_err(|_| format!("never saw {pattern:?}; console:\n{}", console.join("\n")))?;
        if let Some((_, dir)) = line.split_once(" -> ") {
            run_dir.get_or_insert_with(|| PathBuf::from(dir.trim()));
        }
        let seen = line.contains(pattern);
        console.push(line);
        if seen {
            break;
        }
    }
    child.kill().map_err(|e| e.to_string())?; // SIGKILL
    let killed_at = Instant::now();
    let _ = child.wait();
    let run_dir = run_dir.ok_or("the harness never printed its run folder")?;
    let run_id = run_dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("run folder without a name")?
        .to_owned();
    // The reaper writes reaper.json when it is done; it names the instance to look for.
    let reaper_json = run_dir.join("reaper.json");
    while !reaper_json.exists() && killed_at.elapsed() < CLEAN_WITHIN {
        std::thread::sleep(Duration::from_millis(50));
    }
    let record = json(&reaper_json)?;
    let instance = record["instance"].as_str().unwrap_or_default().to_owned();
    let left = killed_at.elapsed();
    let clean = wait_until_clean(&run_id, &instance, port, CLEAN_WITHIN.saturating_sub(left))
        .map_err(|e| format!("{e}\nreaper.json: {record}"))?;
    eprintln!(
        "killed at {pattern:?}: nothing of run {run_id} left {:?} after SIGKILL; reaper: {}",
        left + clean,
        record["actions"]
    );
    if record["harness_said_done"] != false || record["instance"].as_str().is_none_or(str::is_empty)
    {
        return Err(format!("reaper.json should say the harness vanished: {record}").into());
    }
    if then_rerun {
        rerun_reports_leftovers(reports.path(), &tmp, &run_id)?;
    }
    Ok(())
}

/// A second run in the same markers folder warns about the killed run, naming its id.
fn rerun_reports_leftovers(reports: &Path, tmp: &Path, killed: &str) -> Result<(), Failed> {
    let port = free_port().map_err(|e| e.to_string())?;
    let output = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["scenario", "20", "--quiet", "--port", &port.to_string()])
        .arg("--reports")
        .arg(reports)
        .env("TMPDIR", tmp)
        .output()
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warned = stderr
        .lines()
        .any(|l| l.starts_with("warning: leftovers of an earlier run: run ") && l.contains(killed));
    let report = std::fs::read_dir(reports)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path().join("report.json"))
        .find(|p| p.exists())
        .ok_or_else(|| format!("the second run wrote no report.json; stderr:\n{stderr}"))?;
    let report = json(&report)?;
    let listed = report["leftovers_of_earlier_runs"]
        .as_array()
        .is_some_and(|l| {
            l.iter()
                .any(|v| v.as_str().is_some_and(|s| s.contains(killed)))
        });
    if !warned || !listed {
        return Err(format!(
            "the next run did not report run {killed}'s leftovers (console: {warned}, \
             report: {listed}); stderr:\n{stderr}"
        )
        .into());
    }
    Ok(())
}
