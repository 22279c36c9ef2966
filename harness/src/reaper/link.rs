//! The harness's side of the dead-man's switch: launching the reaper and telling it, over its
//! stdin pipe, which process groups exist. The pipe's write end lives only in the harness
//! (pipes are close-on-exec), so the kernel closes it when the harness ends in any way.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use os_pipe::PipeWriter;

use crate::exec::RUN_ENV;
use crate::exec::group::{GroupWatch, watch_groups};

use super::target::Target;

/// The current run's pipe to its reaper (one run at a time per harness process).
static LINK: Mutex<Option<PipeWriter>> = Mutex::new(None);

/// How long a finished run waits for the reaper's final check.
const FINISH_WAIT: Duration = Duration::from_secs(30);

fn send(line: &str) {
    if let Ok(mut link) = LINK.lock()
        && let Some(pipe) = link.as_mut()
    {
        // A reaper that is gone cannot be told; the environment scan still finds the processes.
        let _ = writeln!(pipe, "{line}");
    }
}

/// Tells the reaper about a new process group.
pub(crate) fn announce(pgid: u32, what: &str) {
    send(&format!("group {pgid} {what}"));
}

/// Tells the reaper that a process group was stopped and verified empty.
pub(crate) fn retire(pgid: u32) {
    send(&format!("ended {pgid}"));
}

/// The running reaper of this run.
#[derive(Debug)]
pub(crate) struct Reaper {
    handle: Option<duct::Handle>,
    pub pid: u32,
}

impl Reaper {
    /// Starts `harness reaper` for `target` in its own process group, connects the pipe and
    /// has every process group the harness starts announced over it; the reaper writes
    /// `reaper.json` into `run_dir`.
    pub(crate) fn launch(target: &Target, run_dir: &Path) -> anyhow::Result<Self> {
        watch_groups(GroupWatch { announce, retire });
        let exe = std::env::current_exe().context("locating the harness executable")?;
        let (stdin, pipe) = os_pipe::pipe().context("creating the reaper's pipe")?;
        let mut args: Vec<OsString> = target.reaper_args().into_iter().map(Into::into).collect();
        args.extend(["--run-dir".into(), run_dir.as_os_str().to_owned()]);
        let expression = duct::cmd(exe, args)
            .env_remove(RUN_ENV)
            .stdin_file(stdin)
            .stdout_null()
            .stderr_null()
            .unchecked()
            .before_spawn(|command| {
                std::os::unix::process::CommandExt::process_group(command, 0);
                Ok(())
            });
        let handle = expression.start().context("starting the reaper")?;
        drop(expression);
        let pid = handle.pids().first().copied().unwrap_or_default();
        if let Ok(mut link) = LINK.lock() {
            *link = Some(pipe);
        }
        Ok(Self {
            handle: Some(handle),
            pid,
        })
    }

    /// The run ended normally: says so, closes the pipe and waits for the reaper's final check.
    /// Returns a problem to report when the reaper did not finish in time or failed.
    pub(crate) fn finish(mut self) -> Option<String> {
        send("done");
        close_link();
        let handle = self.handle.take()?;
        match handle.wait_timeout(FINISH_WAIT) {
            Ok(Some(output)) if output.status.success() => None,
            Ok(Some(output)) => Some(format!("the reaper failed ({})", output.status)),
            Ok(None) => Some(format!(
                "the reaper (pid {}) was still busy after {}s; it finishes on its own",
                self.pid,
                FINISH_WAIT.as_secs()
            )),
            Err(err) => Some(format!("waiting for the reaper: {err}")),
        }
    }
}

fn close_link() {
    if let Ok(mut link) = LINK.lock() {
        link.take();
    }
}

impl Drop for Reaper {
    /// A run that ends early (an error) closes the pipe, so the reaper cleans up after it.
    fn drop(&mut self) {
        if self.handle.is_some() {
            close_link();
        }
    }
}
