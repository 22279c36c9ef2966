//! Process groups: every program the harness starts (aima commands, the daemon, blockers, the
//! simulator's image build) leads its own process group, so stopping it also reaches what it
//! started — a wrapper script's real aima, a shell's children. Stopping signals the group,
//! verifies the effect (no live member left, plus a caller's check such as "the listen port is
//! closed") and escalates to SIGKILL, keeping the evidence of every step.

use std::os::unix::process::CommandExt;
use std::process::ExitStatus;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};
use serde::Serialize;

use crate::interrupt::{self, InterruptGuard};

use super::procfs::live_processes;

/// How long SIGKILL may take to show its effect before the stop counts as unverified.
const KILL_GRACE: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(20);
/// How long a leader seen gone may take to be reaped.
const REAP_WITHIN: Duration = Duration::from_secs(1);

/// A live process of a group: pid and program name (`/proc/<pid>/comm`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    pub pid: u32,
    pub program: String,
}

/// Live (not zombie) processes whose process group is `pgid`.
pub(crate) fn members_of(pgid: u32) -> Vec<Member> {
    live_processes()
        .into_iter()
        .filter(|p| p.pgid == pgid)
        .map(|p| Member {
            pid: p.pid,
            program: p.program,
        })
        .collect()
}

/// `pid 12 (aima), pid 13 (sh)` for evidence.
pub(crate) fn describe_members(members: &[Member]) -> String {
    members
        .iter()
        .map(|m| format!("pid {} ({})", m.pid, m.program))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sends `signal` to every process of group `pgid`; a group that is already gone is no error.
pub(crate) fn signal_group(pgid: u32, signal: Signal) {
    if let Some(pid) = i32::try_from(pgid).ok().and_then(Pid::from_raw) {
        let _ = rustix::process::kill_process_group(pid, signal);
    }
}

/// What stopping a group did and saw.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Stopped {
    /// Every member is gone and the caller's check holds.
    pub verified: bool,
    /// Something was still running when the stop began (else there was nothing to do).
    pub was_running: bool,
    /// SIGTERM was not enough: SIGKILL was sent.
    pub escalated: bool,
    /// The leader's exit code, when the harness could reap it and it exited normally.
    pub exit_code: Option<i32>,
    pub waited_ms: u64,
    /// One line per step: what was sent, what was seen.
    pub evidence: Vec<String>,
}

impl Stopped {
    pub(crate) fn describe(&self) -> String {
        self.evidence.join("; ")
    }
}

/// Signals group `pgid` with SIGTERM, waits up to `grace` for it to empty and for `still_up` to
/// return `None`, then escalates to SIGKILL. `reap` collects the leader's exit status when the
/// caller is its parent (a zombie is not a member, but reaping keeps the process table clean).
pub(crate) fn stop_group(
    pgid: u32,
    what: &str,
    grace: Duration,
    reap: &mut dyn FnMut() -> Option<ExitStatus>,
    still_up: &dyn Fn() -> Option<String>,
) -> Stopped {
    let started = Instant::now();
    let mut stopped = Stopped {
        verified: false,
        was_running: false,
        escalated: false,
        exit_code: None,
        waited_ms: 0,
        evidence: Vec::new(),
    };
    let mut status = reap();
    let before = members_of(pgid);
    if before.is_empty() && still_up().is_none() {
        stopped.verified = true;
        stopped.exit_code = status.and_then(|s| s.code());
        stopped.evidence.push(format!("{what} had already ended"));
        return stopped;
    }
    stopped.was_running = true;
    signal_group(pgid, Signal::TERM);
    stopped.evidence.push(format!(
        "SIGTERM to process group {pgid} of the {what} ({})",
        describe_members(&before)
    ));
    let mut why = wait_gone(pgid, grace, &mut status, reap, still_up);
    if let Some(reason) = &why {
        stopped.escalated = true;
        stopped.evidence.push(format!(
            "not stopped after {}ms: {reason}; SIGKILL to the group",
            crate::exec::millis(started.elapsed())
        ));
        signal_group(pgid, Signal::KILL);
        why = wait_gone(pgid, KILL_GRACE, &mut status, reap, still_up);
    }
    stopped.waited_ms = crate::exec::millis(started.elapsed());
    stopped.exit_code = status.and_then(|s| s.code());
    match why {
        None => {
            stopped.verified = true;
            stopped.evidence.push(format!(
                "verified after {}ms: no process left in group {pgid}{}",
                stopped.waited_ms,
                status.map(|s| format!(", leader {s}")).unwrap_or_default()
            ));
        }
        Some(reason) => stopped.evidence.push(format!(
            "NOT verified after {}ms: {reason}",
            stopped.waited_ms
        )),
    }
    stopped
}

/// Polls until the group has no live member and `still_up` is satisfied; `Some(reason)` when
/// `limit` passed first.
fn wait_gone(
    pgid: u32,
    limit: Duration,
    status: &mut Option<ExitStatus>,
    reap: &mut dyn FnMut() -> Option<ExitStatus>,
    still_up: &dyn Fn() -> Option<String>,
) -> Option<String> {
    let deadline = Instant::now() + limit;
    loop {
        if status.is_none() {
            *status = reap();
        }
        let members = members_of(pgid);
        let why = if members.is_empty() {
            still_up()
        } else {
            Some(format!("still running: {}", describe_members(&members)))
        };
        if why.is_none() || Instant::now() >= deadline {
            return why;
        }
        std::thread::sleep(POLL);
    }
}

/// Who hears about the groups the harness starts and verifiably stops: the run's reaper, which
/// installs itself when it launches (this layer does not know it), so that the groups of a
/// harness that dies are still stopped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GroupWatch {
    /// A new group: its id and what it runs.
    pub announce: fn(u32, &str),
    /// A group stopped and verified empty.
    pub retire: fn(u32),
}

static WATCH: OnceLock<GroupWatch> = OnceLock::new();

/// Installs the watcher of every process group started from now on (the first one stays).
pub(crate) fn watch_groups(watch: GroupWatch) {
    let _ = WATCH.set(watch);
}

fn announce(pgid: u32, what: &str) {
    if let Some(watch) = WATCH.get() {
        (watch.announce)(pgid, what);
    }
}

fn retire(pgid: u32) {
    if let Some(watch) = WATCH.get() {
        (watch.retire)(pgid);
    }
}

/// A program the harness started as the leader of its own process group.
#[derive(Debug)]
pub(crate) struct ProcessGroup {
    handle: duct::Handle,
    pgid: u32,
    what: String,
    _interrupt: InterruptGuard,
}

impl ProcessGroup {
    /// Starts `expression` (one program, not a pipeline) in a new process group, announces the
    /// group to its watcher (the run's reaper) and registers a Ctrl-C cleanup.
    pub(crate) fn start(expression: &duct::Expression, what: &str) -> std::io::Result<Self> {
        let handle = expression
            .before_spawn(|command| {
                command.process_group(0);
                Ok(())
            })
            .unchecked()
            .start()?;
        let pgid = handle.pids().first().copied().unwrap_or_default();
        announce(pgid, what);
        let label = what.to_owned();
        let guard = interrupt::guard(format!("{what} (process group {pgid})"), move || {
            stop_group(pgid, &label, Duration::from_secs(2), &mut || None, &|| None);
        });
        Ok(Self {
            handle,
            pgid,
            what: what.to_owned(),
            _interrupt: guard,
        })
    }

    /// The leader's pid, which is also the group id.
    pub(crate) fn pid(&self) -> u32 {
        self.pgid
    }

    /// The leader's exit status once it ended (non-blocking).
    pub(crate) fn try_status(&self) -> Option<ExitStatus> {
        self.handle.try_wait().ok().flatten().map(|o| o.status)
    }

    /// Waits for the leader until `deadline`; `None` when it is still running then.
    pub(crate) fn wait_until(&self, deadline: Instant) -> Option<ExitStatus> {
        self.handle
            .wait_deadline(deadline)
            .ok()
            .flatten()
            .map(|o| o.status)
    }

    /// Live members of the group right now.
    pub(crate) fn members(&self) -> Vec<Member> {
        members_of(self.pgid)
    }

    /// Stops the whole group with verification (see [`stop_group`]); once verified, the watcher
    /// (the reaper) no longer needs to watch it.
    pub(crate) fn stop(&self, grace: Duration, still_up: &dyn Fn() -> Option<String>) -> Stopped {
        let mut stopped = stop_group(
            self.pgid,
            &self.what,
            grace,
            &mut || self.try_status(),
            still_up,
        );
        if stopped.verified && stopped.exit_code.is_none() {
            // The leader may have ended between the last reap and the look at the group (a
            // zombie is no member, and its threads may still be going): collect it now.
            let status = self.wait_until(Instant::now() + REAP_WITHIN);
            stopped.exit_code = status.and_then(|s| s.code());
        }
        if stopped.verified {
            retire(self.pgid);
        }
        stopped
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if self.try_status().is_none() || !self.members().is_empty() {
            self.stop(Duration::from_secs(2), &|| None);
        } else {
            retire(self.pgid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopping_a_wrapper_reaches_its_child_and_is_verified() {
        // A shell that runs a child without exec and ignores SIGTERM itself: only a group
        // signal and the escalation reach both.
        let shell = duct::cmd!("sh", "-c", "trap '' TERM; sleep 30 & wait");
        let group = ProcessGroup::start(&shell.stdout_null(), "wrapper").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while group.members().len() < 2 && Instant::now() < deadline {
            std::thread::sleep(POLL);
        }
        assert_eq!(group.members().len(), 2, "{:?}", group.members());
        let stopped = group.stop(Duration::from_millis(300), &|| None);
        assert!(stopped.verified, "{}", stopped.describe());
        assert!(stopped.escalated, "{}", stopped.describe());
        assert!(group.members().is_empty());
        assert!(stopped.describe().contains("SIGKILL"));
    }

    #[test]
    fn a_check_that_never_holds_leaves_the_stop_unverified() {
        let group = ProcessGroup::start(&duct::cmd!("sleep", "30"), "sleeper").unwrap();
        let stopped = group.stop(Duration::from_millis(100), &|| {
            Some("port still open".into())
        });
        assert!(!stopped.verified);
        assert!(
            stopped.describe().contains("port still open"),
            "{stopped:?}"
        );
        assert!(group.members().is_empty());
    }
}
