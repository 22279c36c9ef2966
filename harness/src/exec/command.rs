//! One external command, run with a deadline and recorded with everything a reviewer needs:
//! the command line with its environment overrides, exit code, duration, stdout and stderr.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;

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

    /// Runs the command to completion or to its deadline; never fails: a spawn error becomes a
    /// record with no exit code and the error on stderr.
    pub fn run(&self, index: usize, step: &str, run_start: Instant) -> CommandRecord {
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
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .envs(self.base_env.iter().cloned())
            .envs(self.overrides.iter().cloned())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Own process group, so a deadline kill also reaches what a wrapper script started.
            .process_group(0);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(err) => {
                record.stderr = format!("harness: cannot start {}: {err}", self.program.display());
                return record;
            }
        };
        let pgid = child.id();
        let _guard =
            crate::fixtures::interrupt::guard(format!("command {}", record.display), move || {
                kill_group(pgid)
            });
        let stdout = child.stdout.take().map(drain);
        let stderr = child.stderr.take().map(drain);
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if started.elapsed() >= self.deadline => {
                    record.timed_out = true;
                    // Killing may race with a natural exit; either way we wait below.
                    kill_group(child.id());
                    let _ = child.kill();
                    break child.wait().ok();
                }
                Ok(None) => thread::sleep(Duration::from_millis(5)),
                Err(_) => break None,
            }
        };
        record.duration_ms = millis(started.elapsed());
        if !record.timed_out {
            record.exit_code = status.and_then(|s| s.code());
        }
        record.stdout = stdout.map(join_text).unwrap_or_default();
        record.stderr = stderr.map(join_text).unwrap_or_default();
        record
    }
}

/// Saves a record's output next to the report and remembers the relative paths.
pub fn save_logs(record: &mut CommandRecord, run_dir: &Path) -> std::io::Result<()> {
    let logs = run_dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    let base = format!("{:02}-{}", record.index, slug(&record.step));
    for (ext, text) in [("stdout", &record.stdout), ("stderr", &record.stderr)] {
        let rel = format!("logs/{base}.{ext}");
        std::fs::write(run_dir.join(&rel), text)?;
        match ext {
            "stdout" => record.stdout_log = Some(rel),
            _ => record.stderr_log = Some(rel),
        }
    }
    Ok(())
}

/// Sends SIGKILL to a whole process group through the `kill` utility (no unsafe code needed).
fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn drain<R: Read + Send + 'static>(mut pipe: R) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        // A read error just truncates the evidence; the exit code still tells the story.
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn join_text(handle: thread::JoinHandle<String>) -> String {
    handle.join().unwrap_or_default()
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
pub fn slug(text: &str) -> String {
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
        let record = invocation("sh", &["-c", "echo out; echo err >&2; exit 5"], 5000).run(
            1,
            "step",
            Instant::now(),
        );
        assert_eq!(record.exit_code, Some(5));
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
    fn kills_a_command_at_its_deadline() {
        let record = invocation("sleep", &["5"], 200).run(1, "step", Instant::now());
        assert!(record.timed_out);
        assert_eq!(record.exit_code, None);
        assert!(record.duration_ms < 2000, "took {}ms", record.duration_ms);
    }

    #[test]
    fn slugs_are_file_friendly() {
        assert_eq!(slug("Test 1: service start"), "test-1-service-start");
    }
}
