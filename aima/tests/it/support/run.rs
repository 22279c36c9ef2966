//! Runs `aima` commands to completion under a time limit; an [`Outcome`] keeps the evidence
//! (command, exit code, elapsed time, stdout, stderr) and prints it whenever an expectation fails.

use std::fmt;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::aima::Aima;

/// No aima command of these tests should take this long; a hang fails instead of blocking CI.
const COMMAND_LIMIT: Duration = Duration::from_secs(180);

impl Aima {
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
    pub fn of(mut cmd: assert_cmd::Command, command: String) -> Self {
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

    /// stdout as the one JSON document it must be.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e})\n{self}"))
    }

    /// The record from `-o json` output, or `{"id": …}` read from a table detail view.
    pub fn json_or_detail(&self) -> Value {
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

/// Expectations on the exit code and the output.
impl Outcome {
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
