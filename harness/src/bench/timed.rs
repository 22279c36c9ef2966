//! A command timed from spawn to exit, with a deadline: the bench's unit of measurement. It
//! bypasses the scenario runner's recording (log files, process-group checks), which would
//! add milliseconds to every figure; what a run needs as evidence is kept in memory.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// One timed run of a command.
#[derive(Debug, Clone)]
pub(crate) struct Timed {
    pub ms: f64,
    /// Exit code; `None` when killed at the deadline or by a signal.
    pub code: Option<i32>,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Timed {
    /// The figure as shown: `?` for a deadline hit.
    pub(crate) fn outcome(&self) -> String {
        match (self.code, self.timed_out) {
            (_, true) => "killed at the deadline".to_owned(),
            (Some(code), _) => format!("exit {code}"),
            (None, _) => "killed by a signal".to_owned(),
        }
    }
}

/// Runs `program args` with `env` added, and kills it once `deadline` passes.
pub(crate) fn run(
    program: &Path,
    args: &[&str],
    env: &[(String, String)],
    deadline: Duration,
) -> anyhow::Result<Timed> {
    let mut command = Command::new(program);
    command
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("running {}", program.display()))?;
    let mut stdout = child.stdout.take().context("stdout")?;
    let mut stderr = child.stderr.take().context("stderr")?;
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let (status, timed_out) = loop {
        if let Some(status) = child.try_wait()? {
            break (status, false);
        }
        if started.elapsed() >= deadline {
            let _ = child.kill();
            break (child.wait()?, true);
        }
        std::thread::sleep(Duration::from_micros(200));
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(Timed {
        ms,
        code: status.code(),
        timed_out,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}
