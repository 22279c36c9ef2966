//! Judging scenario 25: the kill (C1), the daemon's death (C4), the stop during backoff (C5)
//! and policy `no` (C7) here; the crash loop, the port and the hang in [`super::judge_loop`].

use serde_json::Value;

use crate::scenario::judging::{Checks, Judged, Observed, results, skip};
use crate::verdict::CriterionResult;

use super::criteria::CRITERIA;
use super::judge_loop::{c2, c3, c6};
use super::probe::summary;
use super::steps::{KILL_BOUND, Observations, STOP_WINDOW_MS};

pub fn judge(obs: &Observations) -> Vec<CriterionResult> {
    results(
        &CRITERIA,
        vec![
            c1(obs),
            c2(obs),
            c3(obs),
            c4(obs),
            c5(obs),
            c6(obs),
            c7(obs),
        ],
    )
}

/// The final read of service `name` (A, B, D or E).
pub fn final_of<'a>(obs: &'a Observations, name: &str) -> &'a Option<Value> {
    const NONE: &Option<Value> = &None;
    obs.finals
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(NONE, |(_, v)| v)
}

/// Cites the watcher: how often it listed, and its listing count.
pub fn cite_watcher(checks: &mut Checks, obs: &Observations) {
    checks.note(obs.samples.describe());
    checks.expect(!obs.samples.samples.is_empty(), || {
        "the watcher saw no listing, so one container at a time cannot be shown".into()
    });
}

/// Expects no container of `service` to have appeared after `after_ms`.
pub fn none_after(
    checks: &mut Checks,
    obs: &Observations,
    name: &str,
    service: &str,
    after_ms: u64,
) {
    let late = obs.samples.appeared_after(service, after_ms);
    checks.docker(late.iter().map(|l| {
        format!(
            "{name}: container {} seen from {}ms to {}ms",
            &l.id[..12.min(l.id.len())],
            l.first_ms,
            l.last_ms
        )
    }));
    checks.expect(late.is_empty(), || {
        format!(
            "{} container(s) of {name} appeared after {after_ms}ms",
            late.len()
        )
    });
}

fn c1(obs: &Observations) -> Judged {
    let Some(kill) = &obs.a_kill else {
        return skip(obs.unstaged_reason("the kill of A"));
    };
    let a = &obs.fleet.a;
    let mut checks = Checks::new();
    cite_watcher(&mut checks, obs);
    checks.read_back(format!(
        "docker kill {} at {}ms",
        &kill.container[..12.min(kill.container.len())],
        kill.at_ms
    ));
    match obs.a_healthy_ms {
        Some(ms) => {
            checks.figure("restart_after_kill_ms", ms);
            checks.read_back(format!("A's engine answered 200 {ms}ms after the kill"));
            checks.expect(ms <= KILL_BOUND.as_millis() as u64, || {
                format!(
                    "A was healthy again only {ms}ms after the kill (bound {}s)",
                    KILL_BOUND.as_secs()
                )
            });
        }
        None => {
            checks.problem("A's engine never answered 200 again after the kill");
        }
    }
    checks.read_back(summary("A", &obs.a_after));
    let after = obs.a_after.as_ref();
    checks.expect(after.is_some_and(|r| r["status"] == "running"), || {
        "A does not read running after the kill".into()
    });
    checks.expect(
        after.is_some_and(|r| r["restarts"].as_u64().is_some_and(|n| n >= 1)),
        || "A's restarts did not count the restart".into(),
    );
    let end = obs.a_stop.as_ref().map_or(u64::MAX, |s| s.done_ms);
    let (most, at) = obs.samples.most_at_once(&a.id, kill.at_ms, end);
    checks.read_back(format!(
        "at most {most} container(s) of A at once between the kill and its stop"
    ));
    checks.expect(most <= 1, || {
        format!("the watcher saw {most} containers of A at {at}ms")
    });
    checks.done()
}

fn c4(obs: &Observations) -> Judged {
    let Some(revive) = &obs.revive else {
        return skip(obs.unstaged_reason("the daemon's SIGKILL and restart"));
    };
    let mut checks = Checks::new();
    cite_watcher(&mut checks, obs);
    checks.note(format!("the killed daemon {}", revive.daemon_kill));
    checks.read_back(format!(
        "F's engine killed at {}ms while no daemon ran; a new daemon healthy at {}ms",
        revive.killed.at_ms, revive.restarted_ms
    ));
    match revive.healthy_ms {
        Some(ms) => {
            checks.figure("resume_after_daemon_restart_ms", ms);
            checks.read_back(format!(
                "F's engine answered 200 {ms}ms after the new daemon"
            ));
        }
        None => {
            checks.problem("F's engine never answered 200 after the daemon's restart");
        }
    }
    checks.read_back(summary("F", &revive.after));
    checks.expect(
        revive
            .after
            .as_ref()
            .is_some_and(|r| r["status"] == "running"),
        || "F does not read running after the daemon's restart".into(),
    );
    let stops = [
        ("A", &obs.fleet.a.id, obs.a_stop.as_ref()),
        ("D", &obs.fleet.d.id, obs.d_stop.as_ref()),
    ];
    for (name, id, stopped) in stops {
        let read = final_of(obs, name);
        checks.read_back(format!("at the end: {}", summary(name, read)));
        checks.expect(
            read.as_ref().is_some_and(|r| r["status"] == "stopped"),
            || format!("{name}, stopped by the operator, does not read stopped at the end"),
        );
        if let Some(stopped) = stopped {
            none_after(&mut checks, obs, name, id, stopped.done_ms);
        }
    }
    checks.done()
}

fn c5(obs: &Observations) -> Judged {
    let Some(stop) = &obs.d_stop else {
        return skip(obs.skip_reason("the stop of D"));
    };
    let d = &obs.fleet.d;
    let mut checks = Checks::new();
    cite_watcher(&mut checks, obs);
    checks.read_back(format!("before the stop: {}", summary("D", &obs.d_before)));
    checks.expect(
        obs.d_before
            .as_ref()
            .is_some_and(|r| r["status"] == "backoff"),
        || "D never read backoff before the stop (its crash was not followed by a backoff)".into(),
    );
    checks.succeeded("the stop", &stop.command);
    checks.expect(stop.command.stdout.contains("stopped"), || {
        "the stop's output does not say stopped".into()
    });
    let read = final_of(obs, "D");
    let waited = obs.finals_ms.saturating_sub(stop.done_ms);
    checks.read_back(format!("{waited}ms after the stop: {}", summary("D", read)));
    checks.expect(waited >= STOP_WINDOW_MS, || {
        format!("D was read back only {waited}ms after the stop")
    });
    checks.expect(
        read.as_ref().is_some_and(|r| r["status"] == "stopped"),
        || "D does not read stopped 30 s after the stop".into(),
    );
    none_after(&mut checks, obs, "D", &d.id, stop.done_ms);
    checks.done()
}

fn c7(obs: &Observations) -> Judged {
    let Some(kill) = &obs.e_kill else {
        return skip(obs.unstaged_reason("the kill of E"));
    };
    let e = &obs.fleet.e;
    let mut checks = Checks::new();
    cite_watcher(&mut checks, obs);
    let read = final_of(obs, "E");
    checks.read_back(format!(
        "{}ms after the kill: {}",
        obs.finals_ms.saturating_sub(kill.at_ms),
        summary("E", read)
    ));
    checks.expect(
        read.as_ref().is_some_and(|r| r["status"] == "failed"),
        || "E does not read failed at the end".into(),
    );
    checks.expect(read.as_ref().is_some_and(|r| r["restarts"] == 0), || {
        "E's restarts is not 0".into()
    });
    if let Some(Ok(changes)) = &obs.changes {
        let restarted: Vec<String> = changes
            .iter()
            .filter(|c| c.service == e.id && c.to == "starting")
            .map(|c| c.line())
            .collect();
        checks.read_back(format!("E's starts in the change log: {}", restarted.len()));
        checks.expect(restarted.len() <= 1, || {
            format!("E was started again: {}", restarted.join("; "))
        });
    }
    none_after(&mut checks, obs, "E", &e.id, kill.at_ms);
    checks.done()
}
