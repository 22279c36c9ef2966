//! `harness chaos` cases: a short seeded run against aima must pass, and the same kind of run
//! against a faulty aima must fail with the rule that faulty aima breaks. Each runs the harness
//! binary in isolation (its own reports dir, data dir, ports).

use std::process::Command;
use std::time::Duration;

use libtest_mimic::{Completion, Failed, Trial};
use serde_json::Value;

use super::cases::{binaries, docker, faulty_dir, remove_fault_containers, without_docker};
use super::leftovers::wait_until_clean;

/// One chaos case: `wrapper` (a faulty aima) or the real one, the harness's arguments, and the
/// rules that must be broken (none: the run must pass).
pub fn chaos_case(
    name: &str,
    wrapper: Option<&'static str>,
    args: &'static [&'static str],
    broken: &'static [&'static str],
) -> Trial {
    let label = name.replace("::", "-");
    Trial::ignorable_test(name, move || {
        if let Some(done) = without_docker() {
            return done;
        }
        run(&label, wrapper, args, broken).map(|()| Completion::Completed)
    })
}

fn run(label: &str, wrapper: Option<&str>, args: &[&str], broken: &[&str]) -> Result<(), Failed> {
    let bins = binaries()?;
    let reports = tempfile::Builder::new()
        // Short: the daemon's socket path inside must stay under 100 bytes.
        .prefix("chaos-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let fault_label = format!("{label}-{}", std::process::id());
    let aima = match wrapper {
        Some(script) => faulty_dir().join(script),
        None => bins.aima.clone(),
    };
    let output = Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("chaos")
        .args(args)
        .arg("--quiet")
        .arg("--aima-bin")
        .arg(&aima)
        .arg("--sim-bin")
        .arg(&bins.sim)
        .arg("--reports")
        .arg(reports.path())
        .env("AIMA_REAL_BIN", &bins.aima)
        .env("HARNESS_FAULT_LABEL", &fault_label)
        .output()
        .map_err(|e| e.to_string())?;
    remove_fault_containers(&fault_label);
    let verdict = judge(reports.path(), &output, broken);
    if verdict.is_err() {
        let kept = reports.keep();
        eprintln!("reports kept in {}", kept.display());
    }
    verdict
}

fn judge(
    reports: &std::path::Path,
    output: &std::process::Output,
    broken: &[&str],
) -> Result<(), Failed> {
    let context = format!(
        "harness exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let run_dir = std::fs::read_dir(reports)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.join("summary.json").exists())
        .ok_or_else(|| format!("no summary.json written\n{context}"))?;
    for file in ["summary.md", "history.jsonl"] {
        if !run_dir.join(file).exists() {
            return Err(format!("{file} missing in {}\n{context}", run_dir.display()).into());
        }
    }
    let summary: Value = serde_json::from_slice(
        &std::fs::read(run_dir.join("summary.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let rules: Vec<&str> = summary["violations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["rule"].as_str())
        .collect();
    let mut wrong = Vec::new();
    if broken.is_empty() && !rules.is_empty() {
        wrong.push(format!("expected no violation, got {rules:?}"));
    }
    for rule in broken {
        if !rules.contains(rule) {
            wrong.push(format!("expected a violation of {rule}, got {rules:?}"));
        }
    }
    let exit_ok = (output.status.code() == Some(0)) == broken.is_empty();
    if !exit_ok {
        wrong.push(format!(
            "harness exit {:?} does not match the verdict",
            output.status.code()
        ));
    }
    // Whatever the verdict, the run leaves nothing behind.
    let run_id = summary["run_id"].as_str().unwrap_or_default();
    let instance = summary["instance"].as_str().unwrap_or_default();
    for port in summary["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
    {
        if let Err(left) = wait_until_clean(run_id, instance, port as u16, Duration::from_secs(5)) {
            wrong.push(left);
            break;
        }
    }
    let bystanders = docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=aima-harness.run={run_id}"),
    ])
    .unwrap_or_default();
    if !bystanders.trim().is_empty() {
        wrong.push(format!("containers of the run left: {bystanders}"));
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n{context}", wrong.join("\n")).into())
    }
}

/// `--faults` with an unknown name is a usage error naming the faults.
pub fn refuses_an_unknown_fault() -> Result<(), Failed> {
    let output = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["chaos", "--faults", "kill-everything"])
        .output()
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() != Some(2)
        || !stderr.contains("kill-everything")
        || !stderr.contains("kill-daemon")
    {
        return Err(format!(
            "expected exit 2 naming the fault and the known ones, got {:?}: {stderr}",
            output.status.code()
        )
        .into());
    }
    Ok(())
}
