//! One external command, run with a deadline and recorded with everything a reviewer needs:
//! the command line with its environment overrides, exit code, duration, stdout and stderr.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::group::{ProcessGroup, describe_members};

/// A command to run: program, arguments, the environment it runs in and a deadline.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// Short label used in the console and report (for example `aima`).
    pub label: String,
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Environment shared by every command of a run (isolation); reported once per run.
    pub base_env: Vec<(String, String)>,
    /// Environment set for this command only (fault injection); shown with the command.
    pub overrides: Vec<(String, String)>,
    /// The command is killed when it runs longer than this.
    pub deadline: Duration,
}

/// What happened when an [`Invocation`] ran.
#[derive(Debug, Clone, Serialize)]
pub struct CommandRecord {
    /// Position in the run, starting at 1; the report refers to commands by this number.
    pub index: usize,
    /// The scenario step that ran the command.
    pub step: String,
    /// Shell-like rendering: `KEY=value label arg ...` with the per-command overrides.
    pub display: String,
    /// Exit code; `None` when the process was killed or ended by a signal.
    pub exit_code: Option<i32>,
    /// True when the harness killed the command at its deadline.
    pub timed_out: bool,
    pub deadline_ms: u64,
    pub duration_ms: u64,
    /// Milliseconds since the start of the run when the command started.
    pub started_at_ms: u64,
    pub stdout: String,
    pub stderr: String,
    /// Raw log files relative to the run's report directory.
    pub stdout_log: Option<String>,
    pub stderr_log: Option<String>,
}

impl CommandRecord {
    /// True when the command ended on its own with exit code 0.
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// Standard output and standard error together, for message checks.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Human summary of the outcome, e.g. `exit 5 after 120ms`.
    pub fn outcome(&self) -> String {
        match (self.timed_out, self.exit_code) {
            (true, _) => format!("killed at the {}ms deadline", self.deadline_ms),
            (false, Some(code)) => format!("exit {code} after {}ms", self.duration_ms),
            (false, None) => format!("ended by a signal after {}ms", self.duration_ms),
        }
    }
}

impl Invocation {
    /// Renders the command line with its overrides, as a person would type it.
    pub fn display(&self) -> String {
        let mut parts: Vec<String> = self
            .overrides
            .iter()
            .map(|(k, v)| format!("{k}={}", quote(v)))
            .collect();
        parts.push(self.label.clone());
        parts.extend(self.args.iter().map(|a| quote(a)));
        parts.join(" ")
    }

    /// Runs the command to completion or to its deadline in its own process group, with stdout
    /// and stderr written to `logs/NN-step.{stdout,stderr}` under `run_dir`; never fails: a spawn
    /// error becomes a record with no exit code and the error on stderr. Whatever the command
    /// leaves running in its group is stopped and named in the record.
    pub fn run(
        &self,
        index: usize,
        step: &str,
        run_start: Instant,
        run_dir: &Path,
    ) -> CommandRecord {
        let started = Instant::now();
        let mut record = CommandRecord {
            index,
            step: step.to_owned(),
            display: self.display(),
            exit_code: None,
            timed_out: false,
            deadline_ms: millis(self.deadline),
            duration_ms: 0,
            started_at_ms: millis(started.duration_since(run_start)),
            stdout: String::new(),
            stderr: String::new(),
            stdout_log: None,
            stderr_log: None,
        };
        let base = format!("logs/{index:02}-{}", slug(step));
        let (stdout_log, stderr_log) = (format!("{base}.stdout"), format!("{base}.stderr"));
        if let Err(err) = std::fs::create_dir_all(run_dir.join("logs")) {
            record.stderr = format!("harness: cannot create {}/logs: {err}", run_dir.display());
            return record;
        }
        let mut expression = duct::cmd(self.program.as_os_str(), &self.args)
            .stdin_null()
            .stdout_path(run_dir.join(&stdout_log))
            .stderr_path(run_dir.join(&stderr_log));
        // duct lets the first setting of a variable win, so an override must be the only one.
        let base = self
            .base_env
            .iter()
            .filter(|(key, _)| !self.overrides.iter().any(|(o, _)| o == key));
        for (key, value) in base.chain(&self.overrides) {
            expression = expression.env(key, value);
        }
        let group = match ProcessGroup::start(&expression, &format!("command #{index}")) {
            Ok(group) => group,
            Err(err) => {
                record.stderr = format!("harness: cannot start {}: {err}", self.program.display());
                return record;
            }
        };
        let status = group.wait_until(started + self.deadline);
        record.duration_ms = millis(started.elapsed());
        record.timed_out = status.is_none();
        record.exit_code = status.and_then(|s| s.code());
        let leftovers = group.members();
        let stopped = (record.timed_out || !leftovers.is_empty())
            .then(|| group.stop(Duration::ZERO, &|| None));
        record.stdout = std::fs::read_to_string(run_dir.join(&stdout_log)).unwrap_or_default();
        record.stderr = std::fs::read_to_string(run_dir.join(&stderr_log)).unwrap_or_default();
        record.stdout_log = Some(stdout_log);
        record.stderr_log = Some(stderr_log);
        if let Some(stopped) = stopped {
            let why = if record.timed_out {
                "killed at its deadline".to_owned()
            } else {
                format!("left {} running", describe_members(&leftovers))
            };
            record.stderr.push_str(&format!(
                "\n(harness: the command {why}: {})",
                stopped.describe()
            ));
        }
        record
    }
}

fn quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Lowercase words joined by dashes, for file names.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(40).collect()
}

/// Whole milliseconds, saturating.
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Invented records for the judges' unit tests.
#[cfg(test)]
impl CommandRecord {
    pub(crate) fn invented(exit_code: Option<i32>, stdout: &str, duration_ms: u64) -> Self {
        CommandRecord {
            index: 1,
            step: "invented".into(),
            display: "aima".into(),
            exit_code,
            timed_out: false,
            deadline_ms: 60_000,
            duration_ms,
            started_at_ms: 0,
            stdout: stdout.into(),
            stderr: String::new(),
            stdout_log: None,
            stderr_log: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invocation(program: &str, args: &[&str], deadline_ms: u64) -> Invocation {
        Invocation {
            label: program.to_owned(),
            program: program.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            base_env: vec![],
            overrides: vec![("DOCKER_HOST".into(), "tcp://127.0.0.1:99999".into())],
            deadline: Duration::from_millis(deadline_ms),
        }
    }

    #[test]
    fn records_exit_code_and_output() {
        let dir = tempfile::tempdir().unwrap();
        let record = invocation("sh", &["-c", "echo out; echo err >&2; exit 5"], 5000).run(
            1,
            "step",
            Instant::now(),
            dir.path(),
        );
        assert_eq!(record.exit_code, Some(5), "{record:?}");
        assert_eq!(record.stdout.trim(), "out");
        assert_eq!(record.stderr.trim(), "err");
        assert!(!record.timed_out);
        assert!(
            record
                .display
                .starts_with("DOCKER_HOST=tcp://127.0.0.1:99999 sh -c 'echo")
        );
    }

    #[test]
    fn an_override_beats_the_base_environment() {
        let dir = tempfile::tempdir().unwrap();
        let mut inv = invocation("sh", &["-c", "echo $DOCKER_HOST"], 5000);
        inv.base_env = vec![("DOCKER_HOST".into(), "unix:///base.sock".into())];
        let record = inv.run(1, "step", Instant::now(), dir.path());
        assert_eq!(record.stdout.trim(), "tcp://127.0.0.1:99999", "{record:?}");
    }

    #[test]
    fn kills_a_command_at_its_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let record = invocation("sleep", &["5"], 200).run(1, "step", Instant::now(), dir.path());
        assert!(record.timed_out);
        assert_eq!(record.exit_code, None);
        assert!(record.duration_ms < 2000, "took {}ms", record.duration_ms);
    }

    #[test]
    fn a_background_child_left_in_the_group_is_stopped_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let record = invocation("sh", &["-c", "sleep 30 & echo started"], 5000).run(
            2,
            "leaky",
            Instant::now(),
            dir.path(),
        );
        assert_eq!(record.exit_code, Some(0));
        assert!(record.stderr.contains("left pid"), "{}", record.stderr);
        // Named by its program: `sleep`, or `sh` when it is seen between its fork and its exec.
        assert!(
            record.stderr.contains("(sleep)") || record.stderr.contains("(sh)"),
            "{}",
            record.stderr
        );
        assert!(record.stderr.contains("verified"), "{}", record.stderr);
        assert_eq!(record.stdout_log.as_deref(), Some("logs/02-leaky.stdout"));
    }

    #[test]
    fn slugs_are_file_friendly() {
        assert_eq!(slug("Test 1: service start"), "test-1-service-start");
    }
}
