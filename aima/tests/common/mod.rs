//! Shared helpers of the integration tests: an `aima` with its own data dir, a runner whose
//! failures carry the evidence (command, exit code, elapsed time, stdout, stderr), snapshot
//! redactions, ports, and Docker helpers.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of these helpers"
)]

pub mod docker;
pub mod snapshot;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const AIMA: &str = env!("CARGO_BIN_EXE_aima");
/// No aima command of these tests should take this long; a hang fails instead of blocking CI.
const COMMAND_LIMIT: Duration = Duration::from_secs(180);

/// An `aima` CLI bound to a fresh data dir, with the simulator-friendly engine settings.
pub struct Aima {
    _tmp: tempfile::TempDir,
    data_dir: PathBuf,
    env: Vec<(String, String)>,
}

impl Aima {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().expect("create a temp dir");
        let data_dir = tmp.path().join("data");
        Self::at(tmp, data_dir)
    }

    /// An `aima` whose `AIMA_DATA_DIR` is `data_dir` (which may not be usable on purpose).
    pub fn at(tmp: tempfile::TempDir, data_dir: PathBuf) -> Self {
        Aima {
            _tmp: tmp,
            data_dir,
            env: vec![("AIMA_VLLM_GPU".into(), "false".into())],
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The command, with the inherited `AIMA_*` settings dropped so the test alone decides.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(AIMA);
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("AIMA_")) {
            cmd.env_remove(key);
        }
        cmd.env("AIMA_DATA_DIR", &self.data_dir)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(args);
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Outcome {
        self.run_env(&[], args)
    }

    /// Runs with extra environment variables, e.g. a broken `DOCKER_HOST`.
    pub fn run_env(&self, env: &[(&str, &str)], args: &[&str]) -> Outcome {
        let mut cmd = self.command(args);
        cmd.envs(env.iter().copied());
        let mut cmd = assert_cmd::Command::from_std(cmd);
        cmd.timeout(COMMAND_LIMIT);
        let mut shown: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        shown.push("aima".into());
        shown.extend(args.iter().map(|a| a.to_string()));
        Outcome::of(cmd, shown.join(" "))
    }

    /// The reference scenario's set-up: registers `port-test-model`, returns its id.
    pub fn create_model(&self) -> String {
        self.run(&[
            "model",
            "create",
            "--name",
            "port-test-model",
            "--source",
            "ollama",
            "--repo",
            "tinyllama",
        ])
        .success();
        let list = self
            .run(&["model", "list", "--output", "json"])
            .success()
            .json();
        string_at(&list, "/items/-1/id")
    }

    /// `service create --model-id MODEL --engine-type vllm EXTRA…`, returns the new id.
    pub fn create_service(&self, model: &str, extra: &[&str]) -> String {
        let mut args = vec![
            "service",
            "create",
            "--model-id",
            model,
            "--engine-type",
            "vllm",
        ];
        args.extend_from_slice(extra);
        let created = self.run(&args).success();
        let id = string_at(&created.json_or_detail(), "/id");
        assert!(id.starts_with("svc-"), "{created}");
        id
    }

    /// The service as `service list --output json` shows it (the list refreshes stale states).
    pub fn listed_service(&self, id: &str) -> Value {
        let list = self
            .run(&["service", "list", "--output", "json"])
            .success()
            .json();
        list["items"]
            .as_array()
            .and_then(|items| items.iter().find(|s| s["id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("{id} is not in the list: {list:#}"))
    }

    /// Everything the store holds, as the JSON lists show it: to prove a command changed nothing.
    pub fn store_contents(&self) -> (Value, Value) {
        let models = self.run(&["model", "list", "-o", "json"]).success().json();
        let services = self
            .run(&["service", "list", "-o", "json"])
            .success()
            .json();
        (models, services)
    }
}

/// `value[pointer]` as a string; `-1` as the last index, as jq's `.items[-1]`.
pub fn string_at(value: &Value, pointer: &str) -> String {
    let mut cur = value;
    for part in pointer.split('/').skip(1) {
        cur = match (part, cur) {
            ("-1", Value::Array(items)) => items.last().unwrap_or(&Value::Null),
            (key, Value::Array(items)) => key
                .parse()
                .ok()
                .and_then(|i: usize| items.get(i))
                .unwrap_or(&Value::Null),
            (key, obj) => &obj[key],
        };
    }
    cur.as_str()
        .unwrap_or_else(|| panic!("no string at {pointer} in {value:#}"))
        .to_owned()
}

/// What one command did, printed in full whenever an expectation fails.
pub struct Outcome {
    pub command: String,
    pub code: Option<i32>,
    pub elapsed: Duration,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    fn of(mut cmd: assert_cmd::Command, command: String) -> Self {
        let began = Instant::now();
        let out = cmd.output().expect("cannot run aima");
        Outcome {
            command,
            code: out.status.code(),
            elapsed: began.elapsed(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(self.code, Some(0), "expected success\n{self}");
        self
    }

    #[track_caller]
    pub fn failure(self, code: i32) -> Self {
        assert_eq!(self.code, Some(code), "expected exit code {code}\n{self}");
        self
    }

    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Self {
        use predicates::prelude::*;
        let pred = predicates::str::contains(needle);
        assert!(pred.eval(&self.stderr), "stderr lacks {needle:?}\n{self}");
        self
    }

    #[track_caller]
    pub fn stdout_is_empty(self) -> Self {
        assert!(
            self.stdout.trim().is_empty(),
            "stdout should be empty\n{self}"
        );
        self
    }

    /// stdout as the one JSON document it must be.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e})\n{self}"))
    }

    /// The record from `-o json` output, or `{"id": …}` read from a table detail view.
    fn json_or_detail(&self) -> Value {
        if let Ok(v) = serde_json::from_str(&self.stdout) {
            return v;
        }
        let id = self
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("id:"))
            .unwrap_or_else(|| panic!("no id in the output\n{self}"));
        serde_json::json!({ "id": id.trim() })
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.code.map_or(
            "killed by a signal (or the test's time limit)".into(),
            |c| c.to_string(),
        );
        writeln!(f, "--- command: {}", self.command)?;
        writeln!(f, "--- exit code: {code}, elapsed: {:?}", self.elapsed)?;
        writeln!(f, "--- stdout:\n{}", self.stdout)?;
        writeln!(f, "--- stderr:\n{}", self.stderr)
    }
}

/// A port nobody listens on right now (the OS picks it; it may be taken again later).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().unwrap().port()
}

/// True when a program could bind `port` on every IPv4 address, as Docker's proxy must.
pub fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("0.0.0.0", port)).is_ok()
}

/// Polls `ready` every 100 ms until it holds or `limit` passes; panics naming `what`.
#[track_caller]
pub fn wait_until(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
