//! Building the test cases: run `harness scenario` as a child process against real or faulty
//! aima, then hold its `report.json` to the expected verdicts.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use harness::{
    BinaryPaths, SELF_TEST_PANIC_VAR, check_port, free_port, locate_binaries, workspace_binaries,
};
use libtest_mimic::{Completion, Failed, Trial};
use serde_json::Value;

use super::leftovers::wait_until_clean;

/// Which criteria must FAIL; every other one must PASS.
#[derive(Debug, Clone)]
pub struct Expectation {
    failing: Vec<String>,
}

impl Expectation {
    pub fn all_pass() -> Self {
        Self { failing: vec![] }
    }

    pub fn failing(ids: &[&str]) -> Self {
        Self {
            failing: ids.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn expected(&self, id: &str) -> &'static str {
        if self.failing.iter().any(|f| f == id) {
            "fail"
        } else {
            "pass"
        }
    }
}

/// The aima under test: `HARNESS_AIMA_BIN` (another build or a wrapper) or the workspace's,
/// as built before the tests ran.
pub fn binaries() -> Result<BinaryPaths, Failed> {
    let built = workspace_binaries().map_err(|e| format!("{e:#}"))?;
    match std::env::var_os("HARNESS_AIMA_BIN") {
        Some(real) => locate_binaries(Some(&PathBuf::from(real)), Some(&built.sim)),
        None => Ok(built),
    }
    .map_err(|e| format!("{e:#}").into())
}

pub fn faulty_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/faulty")
}

/// Docker is needed; without it a case is skipped locally and fails in CI.
pub fn docker_missing() -> Option<String> {
    docker(&["version", "--format", "{{.Server.Version}}"]).err()
}

/// Runs the docker CLI; `Err` carries why it failed.
pub fn docker(args: &[&str]) -> Result<String, String> {
    let output = Command::new("docker")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run docker: {e}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Docker is needed: `Some(completion)` to return at once when it is missing (ignored locally,
/// a failure under CI).
pub fn without_docker() -> Option<Result<Completion, Failed>> {
    let why = docker_missing()?;
    if std::env::var_os("CI").is_some() {
        return Some(Err(format!("Docker is required in CI: {why}").into()));
    }
    Some(Ok(Completion::ignored_with(format!("no Docker: {why}"))))
}

/// A case of scenario `number` against real aima (`wrapper: None`) or a faulty wrapper script.
pub fn scenario_case(
    name: &str,
    number: u32,
    wrapper: Option<&'static str>,
    expect: Expectation,
) -> Trial {
    let label = name.replace("::", "-");
    Trial::ignorable_test(name, move || {
        if let Some(done) = without_docker() {
            return done;
        }
        run_case(&label, number, wrapper, &expect).map(|()| Completion::Completed)
    })
}

/// [`scenario_case`] of a scenario that creates accounts (scenario 26): ignored, saying why,
/// unless the tests run as root.
pub fn root_scenario_case(
    name: &str,
    number: u32,
    wrapper: Option<&'static str>,
    expect: Expectation,
) -> Trial {
    if rustix::process::geteuid().is_root() {
        return scenario_case(name, number, wrapper, expect);
    }
    Trial::ignorable_test(name, move || {
        Ok(Completion::ignored_with(format!(
            "scenario {number} creates accounts and needs root; these tests run as uid {}",
            rustix::process::geteuid().as_raw()
        )))
    })
}

fn run_case(
    label: &str,
    number: u32,
    wrapper: Option<&str>,
    expect: &Expectation,
) -> Result<(), Failed> {
    let bins = binaries()?;
    let reports = tempfile::Builder::new()
        .prefix(&format!("harness-{label}-"))
        .tempdir()
        .map_err(|e| e.to_string())?;
    let fault_label = format!("{label}-{}", std::process::id());
    let aima = match wrapper {
        Some(script) => faulty_dir().join(script),
        None => bins.aima.clone(),
    };
    let port = free_port().map_err(|e| e.to_string())?;
    let output = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["scenario", &number.to_string(), "--quiet"])
        .args(["--port", &port.to_string()])
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
    let verdict = judge_report(reports.path(), &output, expect)
        .and_then(|report| nothing_left(&report, port));
    if verdict.is_err() {
        // Keep the reports of a failed case for inspection.
        let kept = reports.keep();
        eprintln!("reports kept in {}", kept.display());
    }
    verdict
}

/// Once the harness has exited, no process and no container of its run is left, and the port
/// is free (the reaper's final check is part of the run, so this holds at once).
fn nothing_left(report: &Value, port: u16) -> Result<(), Failed> {
    let run_id = report["run_id"].as_str().unwrap_or_default();
    let instance = report["environment"]["instance"]
        .as_str()
        .unwrap_or_default();
    if run_id.is_empty() || instance.is_empty() {
        return Err(format!("report.json lacks run_id or environment.instance: {report}").into());
    }
    wait_until_clean(run_id, instance, port, Duration::from_secs(3))?;
    Ok(())
}

fn judge_report(
    reports: &Path,
    output: &std::process::Output,
    expect: &Expectation,
) -> Result<Value, Failed> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let context = format!(
        "harness exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status.code()
    );
    let run_dir = std::fs::read_dir(reports)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.join("report.json").exists())
        .ok_or_else(|| format!("no report.json written\n{context}"))?;
    for file in ["report.md", "junit.xml"] {
        if !run_dir.join(file).exists() {
            return Err(format!("{file} missing in {}", run_dir.display()).into());
        }
    }
    let report: Value = serde_json::from_slice(
        &std::fs::read(run_dir.join("report.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let mut wrong = Vec::new();
    for criterion in report["criteria"].as_array().into_iter().flatten() {
        let id = criterion["id"].as_str().unwrap_or_default();
        let got = criterion["verdict"].as_str().unwrap_or_default();
        let want = expect.expected(id);
        if got != want {
            wrong.push(format!(
                "{id}: expected {want}, got {got} ({})",
                criterion["reason"]
            ));
        }
        if got == "fail"
            && criterion["evidence"]
                .as_object()
                .is_none_or(|e| e.is_empty())
        {
            wrong.push(format!("{id}: a FAIL without evidence"));
        }
    }
    let exit_ok = (output.status.code() == Some(0)) == expect.failing.is_empty();
    if !exit_ok {
        wrong.push(format!(
            "unexpected harness exit code {:?}",
            output.status.code()
        ));
    }
    if wrong.is_empty() {
        Ok(report)
    } else {
        Err(format!("{}\n{context}", wrong.join("\n")).into())
    }
}

pub fn remove_fault_containers(fault_label: &str) {
    let filter = format!("label=aima-harness.fault={fault_label}");
    let ids = docker(&["ps", "-aq", "--filter", &filter]).unwrap_or_default();
    for id in ids.split_whitespace() {
        let _ = docker(&["rm", "--force", "--volumes", id]);
    }
}

/// The blocker fixture runs as its own process, holds the port, and frees it when killed.
pub fn block_port_fixture() -> Result<(), Failed> {
    let port = free_port().map_err(|e| e.to_string())?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "fixture",
            "block-port",
            "--addr",
            "0.0.0.0",
            "--port",
            &port.to_string(),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    let stdout = child.stdout.take().ok_or("no stdout")?;
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
        .map_err(|e| e.to_string())?;
    let held = check_port(port);
    let _ = child.kill();
    let _ = child.wait();
    if !line.starts_with("blocking 0.0.0.0:") || held.is_free() {
        return Err(format!(
            "blocker did not hold the port: {line:?}, {}",
            held.describe()
        )
        .into());
    }
    // The kernel releases the port when the process is gone.
    let freed = check_port(port);
    if !freed.is_free() {
        return Err(format!("port not released: {}", freed.describe()).into());
    }
    Ok(())
}

/// A busy port is refused before anything runs: exit 2 and a message naming the port.
pub fn refuses_a_busy_port() -> Result<(), Failed> {
    let holder = std::net::TcpListener::bind(("0.0.0.0", 0)).map_err(|e| e.to_string())?;
    let port = holder.local_addr().map_err(|e| e.to_string())?.port();
    refused_run(
        &["scenario", "20", "--port", &port.to_string()],
        &format!("port {port}"),
    )
}

/// A scenario with no Swarm variant is refused on the Swarm runtime, before it needs Docker.
pub fn refuses_a_scenario_without_a_swarm_variant() -> Result<(), Failed> {
    refused_run(
        &["scenario", "7", "--runtime", "swarm"],
        "scenario 7 has no Swarm variant",
    )
}

/// `harness ARGS` exits 2 with `expected` in its stderr, and makes no run folder.
fn refused_run(args: &[&str], expected: &str) -> Result<(), Failed> {
    let reports = tempfile::tempdir().map_err(|e| e.to_string())?;
    let output = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .arg("--reports")
        .arg(reports.path())
        .output()
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() != Some(2) || !stderr.contains(expected) {
        return Err(format!(
            "expected exit 2 saying {expected:?}, got {:?}: {stderr}",
            output.status.code()
        )
        .into());
    }
    let leftovers = std::fs::read_dir(reports.path())
        .map_err(|e| e.to_string())?
        .count();
    if leftovers != 0 {
        return Err("a refused run must not create a run folder".into());
    }
    Ok(())
}

/// `harness scenario all` with the given manifest text (and environment); returns the exit code
/// and the catalog it wrote.
fn run_all(manifest: &str, env: &[(&str, &str)]) -> Result<(Option<i32>, Value, String), Failed> {
    let bins = binaries()?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let manifest_path = dir.path().join("manifest.txt");
    std::fs::write(&manifest_path, manifest).map_err(|e| e.to_string())?;
    let reports = dir.path().join("reports");
    let output = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["scenario", "all", "--quiet", "--manifest"])
        .arg(&manifest_path)
        .arg("--aima-bin")
        .arg(&bins.aima)
        .arg("--sim-bin")
        .arg(&bins.sim)
        .arg("--reports")
        .arg(&reports)
        .envs(env.iter().copied())
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let catalog = std::fs::read_dir(&reports)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path().join("catalog.json"))
        .find(|p| p.exists())
        .ok_or_else(|| format!("no catalog.json written; stdout:\n{stdout}"))?;
    let catalog: Value =
        serde_json::from_slice(&std::fs::read(catalog).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    Ok((output.status.code(), catalog, stdout))
}

/// A manifest that leaves out implemented scenarios fails `all` before anything runs.
pub fn all_fails_on_a_scenario_missing_from_the_manifest() -> Result<(), Failed> {
    let (code, catalog, stdout) = run_all("# every scenario removed\n", &[])?;
    let problems = catalog["manifest_problems"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names_one = problems.iter().any(|p| {
        p.as_str()
            .is_some_and(|p| p.contains("missing from the manifest"))
    });
    if code != Some(1) || catalog["outcome"] != "fail" || !names_one {
        return Err(format!(
            "expected exit 1 naming the left-out scenarios, got {code:?}:\n{stdout}"
        )
        .into());
    }
    Ok(())
}

/// A scenario that panics is reported as crashed and fails `all`.
pub fn all_fails_when_a_scenario_panics() -> Trial {
    Trial::ignorable_test("catalog::all_fails_when_a_scenario_panics", || {
        if let Some(done) = without_docker() {
            return done;
        }
        let (code, catalog, stdout) = run_all(
            "6 scenarios/06-lifecycle-stress.md\n",
            &[(SELF_TEST_PANIC_VAR, "6")],
        )?;
        let scenario = &catalog["scenarios"][0];
        let crashed = scenario["criteria"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|c| {
                c["verdicts"][0] == "skip"
                    && c["detail"].as_str().is_some_and(|d| d.contains("crashed"))
            });
        if code != Some(1) || scenario["outcome"] != "fail" || !crashed {
            return Err(format!(
                "expected a crashed, failing scenario 6 and exit 1, got {code:?}:\n{stdout}"
            )
            .into());
        }
        Ok(Completion::Completed)
    })
}
