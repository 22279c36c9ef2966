//! The reaper's side: wait for the harness's pipe to close, then sweep the run — stop its
//! processes (the announced process groups, and every process whose environment names the run),
//! remove the containers labelled for it, check its ports — and record what that took. The same
//! sweep cleans up after a run whose reaper died too ([`sweep_stale`], found by its marker).

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::time::Duration;

use rustix::process::{Pid, Signal};

use crate::exec::RUN_ENV;
use crate::exec::group::{members_of, stop_group};
use crate::exec::procfs::{Process, has_env, live_processes, process};
use crate::fixtures::census::DockerView;
use crate::fixtures::port_check::check_port;

use super::marker::{self, stale_markers};
use super::record::ReapRecord;
use super::target::Target;

/// How long the processes of a dead run get to stop after SIGTERM before SIGKILL.
const GRACE: Duration = Duration::from_secs(3);

/// `harness reaper`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ReaperArgs {
    #[command(flatten)]
    pub target: Target,
    /// The run's report folder: `reaper.json` is written there too, when it still exists.
    #[arg(long)]
    pub run_dir: Option<PathBuf>,
}

/// Reads the pipe until it closes, then sweeps and records.
pub(crate) fn run_reaper(args: &ReaperArgs) -> anyhow::Result<()> {
    let mut groups: BTreeMap<u32, String> = BTreeMap::new();
    let mut goodbye = false;
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let mut words = line.splitn(3, ' ');
        match (words.next(), words.next().and_then(|w| w.parse().ok())) {
            (Some("group"), Some(pgid)) => {
                groups.insert(pgid, words.next().unwrap_or("process").to_owned());
            }
            (Some("ended"), Some(pgid)) => {
                groups.remove(&pgid);
            }
            (Some("done"), _) => goodbye = true,
            _ => {}
        }
    }
    let actions = sweep(&args.target, &groups);
    ReapRecord::new(&args.target, goodbye, actions).save(args.run_dir.as_deref())?;
    Ok(())
}

/// Stops the run's processes, removes its containers and checks its ports; one line per thing
/// that had to be done (nothing when the run had cleaned up after itself).
pub(crate) fn sweep(target: &Target, announced: &BTreeMap<u32, String>) -> Vec<String> {
    let mut actions = Vec::new();
    // A second pass catches what a dying process started, or a process that was still
    // exec'ing (its environment not yet readable) during the first.
    actions.extend(stop_processes(target, announced));
    actions.extend(stop_processes(target, &BTreeMap::new()));
    actions.extend(remove_containers(target));
    for mount in &target.mounts {
        actions.extend(crate::fixtures::tmpfs::unmount(mount));
    }
    for port in &target.ports {
        let check = check_port(*port);
        if !check.is_free() {
            actions.push(format!(
                "after the sweep, {} (not the run's)",
                check.describe()
            ));
        }
    }
    marker::remove(&target.run_id);
    actions
}

/// Sweeps the runs whose harness and reaper are both gone; one record per swept run.
pub(crate) fn sweep_stale() -> Vec<ReapRecord> {
    stale_markers()
        .into_iter()
        .map(|m| {
            let mut actions = sweep(&m.target, &BTreeMap::new());
            actions.insert(0, "its harness and reaper were both gone".to_owned());
            ReapRecord::new(&m.target, false, actions)
        })
        .collect()
}

fn remove_containers(target: &Target) -> Vec<String> {
    let docker = match DockerView::connect() {
        Ok(docker) => docker,
        Err(err) => return vec![format!("could not check containers: {err:#}")],
    };
    let mut actions: Vec<String> = docker
        .owned_by_run(&target.instance, &target.run_id)
        .into_iter()
        .map(|container| match docker.remove(&container.id) {
            Ok(()) => format!("removed container {}", container.line()),
            Err(err) => format!("could not remove container {}: {err:#}", container.name),
        })
        .collect();
    actions.extend(docker.remove_instance_volumes(&target.instance));
    actions
}

/// Stops the announced groups that still have members, the groups led by a process carrying
/// the run id, and (one by one) tagged processes that left their group.
fn stop_processes(target: &Target, announced: &BTreeMap<u32, String>) -> Vec<String> {
    let mut actions = Vec::new();
    let me = std::process::id();
    let tagged: Vec<Process> = live_processes()
        .into_iter()
        .filter(|p| p.pid != me && has_env(p.pid, RUN_ENV, &target.run_id))
        .collect();
    // An announced group counts only while a member still carries the run id: once a group
    // has emptied, the kernel may hand its id to an unrelated process (pids wrap), and the
    // reaper must never signal someone else's processes.
    let mut groups: BTreeMap<u32, String> = announced
        .iter()
        .filter(|(pgid, _)| {
            members_of(**pgid)
                .iter()
                .any(|m| has_env(m.pid, RUN_ENV, &target.run_id))
        })
        .map(|(pgid, what)| (*pgid, what.clone()))
        .collect();
    for p in tagged.iter().filter(|p| p.pid == p.pgid) {
        groups.entry(p.pgid).or_insert_with(|| p.program.clone());
    }
    groups.remove(&group_of(me));
    for (pgid, what) in &groups {
        let stopped = stop_group(*pgid, what, GRACE, &mut || None, &|| None);
        if stopped.was_running {
            actions.push(format!("stopped {what}: {}", stopped.describe()));
        }
    }
    for p in tagged {
        let alive = process(p.pid).is_some_and(|now| !now.zombie && now.start == p.start);
        if groups.contains_key(&p.pgid) || !alive {
            continue;
        }
        if let Some(id) = i32::try_from(p.pid).ok().and_then(Pid::from_raw) {
            let _ = rustix::process::kill_process(id, Signal::KILL);
            actions.push(format!(
                "killed pid {} ({}), outside any process group of the run",
                p.pid, p.program
            ));
        }
    }
    actions
}

/// The process group of `pid` (never signalled by the sweep).
fn group_of(pid: u32) -> u32 {
    process(pid).map(|p| p.pgid).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::CommandExt;

    use super::*;

    fn target(run_id: &str) -> Target {
        Target {
            run_id: run_id.to_owned(),
            instance: "none".to_owned(),
            ports: vec![],
            mounts: vec![],
        }
    }

    /// A process group leader started outside any run, as another program on the machine
    /// whose group id happens to equal one the run once announced.
    fn stranger(env: Option<(&str, &str)>) -> std::process::Child {
        let mut command = std::process::Command::new("sleep");
        command.arg("30").env_remove(RUN_ENV).process_group(0);
        if let Some((key, value)) = env {
            command.env(key, value);
        }
        command.spawn().expect("start sleep")
    }

    fn wait_for_env(pid: u32, run_id: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !has_env(pid, RUN_ENV, run_id) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn an_announced_group_id_now_used_by_a_stranger_is_left_alone() {
        let mut child = stranger(None);
        let pgid = child.id();
        let announced = BTreeMap::from([(pgid, "aima daemon".to_owned())]);
        let actions = stop_processes(&target("run-reaper-test-stranger"), &announced);
        let still_running = child.try_wait().expect("try_wait").is_none();
        let _ = child.kill();
        let _ = child.wait();
        assert!(still_running, "the stranger was stopped: {actions:?}");
        assert!(actions.is_empty(), "{actions:?}");
    }

    #[test]
    fn an_announced_group_of_the_run_is_stopped() {
        let run_id = "run-reaper-test-own";
        let mut child = stranger(Some((RUN_ENV, run_id)));
        let pgid = child.id();
        wait_for_env(pgid, run_id);
        let announced = BTreeMap::from([(pgid, "blocker".to_owned())]);
        let actions = stop_processes(&target(run_id), &announced);
        let status = child.wait().expect("wait");
        assert!(!status.success(), "{status}");
        assert!(
            actions.iter().any(|a| a.starts_with("stopped blocker")),
            "{actions:?}"
        );
    }
}
