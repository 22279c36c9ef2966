//! Judging scenario 25's crash loop (C2), taken port (C3) and hung engine (C6).

use crate::scenario::judging::{Checks, Judged, Observed, skip};

use super::changelog::backoff_waits;
use super::judge::{cite_watcher, final_of, none_after};
use super::probe::summary;
use super::steps::Observations;

/// The restarts B's policy (`on-failure:3`) allows.
const LOOP_LIMIT: usize = 3;

pub fn c2(obs: &Observations) -> Judged {
    let b = &obs.fleet.b;
    if b.id.is_empty() {
        return skip(obs.skip_reason("B's crash loop"));
    }
    let mut checks = Checks::new();
    cite_watcher(&mut checks, obs);
    let read = final_of(obs, "B");
    checks.read_back(format!("at the end: {}", summary("B", read)));
    let reason = read
        .as_ref()
        .and_then(|r| r["last_error"].as_str())
        .unwrap_or_default();
    checks.expect(
        read.as_ref().is_some_and(|r| r["status"] == "failed"),
        || "B does not read failed at the end".into(),
    );
    let want = format!("crash loop: {LOOP_LIMIT} restarts, last: ");
    checks.expect(reason.starts_with(&want), || {
        format!("B's reason is {reason:?}, expected it to start with {want:?}")
    });
    match &obs.changes {
        Some(Ok(changes)) => {
            let mine: Vec<String> = changes
                .iter()
                .filter(|c| c.service == b.id)
                .map(|c| c.line())
                .collect();
            checks.read_back(format!("B's changes: {}", mine.join("; ")));
            let waits = backoff_waits(changes, &b.id);
            checks.read_back(format!("B's waits in backoff (ms): {waits:?}"));
            for (i, ms) in waits.iter().enumerate() {
                checks.figure(&format!("backoff_wait_{}_ms", i + 1), (*ms).max(0) as u64);
            }
            checks.expect(waits.len() == LOOP_LIMIT, || {
                format!(
                    "B waited in backoff {} time(s), expected {LOOP_LIMIT}",
                    waits.len()
                )
            });
            checks.expect(waits.windows(2).all(|w| w[1] > w[0]), || {
                format!("B's waits do not grow: {waits:?}")
            });
        }
        Some(Err(err)) => {
            checks.problem(format!("the change log could not be read: {err}"));
        }
        None => {
            checks.problem("the change log was not read");
        }
    }
    let lives = obs.samples.lifetimes(&b.id);
    checks.docker(lives.iter().map(|l| {
        format!(
            "B: container {} seen from {}ms to {}ms",
            &l.id[..12.min(l.id.len())],
            l.first_ms,
            l.last_ms
        )
    }));
    checks.expect(lives.len() == LOOP_LIMIT + 1, || {
        format!(
            "the watcher saw {} container(s) of B, expected {} (the start and {LOOP_LIMIT} restarts)",
            lives.len(),
            LOOP_LIMIT + 1
        )
    });
    let (most, at) = obs.samples.most_at_once(&b.id, 0, u64::MAX);
    checks.expect(most <= 1, || {
        format!("the watcher saw {most} containers of B at {at}ms")
    });
    checks.done()
}

pub fn c3(obs: &Observations) -> Judged {
    let Some(port) = &obs.port else {
        return skip(obs.unstaged_reason("the taken port"));
    };
    let c = &obs.fleet.c;
    let Some((pid, program, taken_ms)) = &port.holder else {
        return skip("the blocker never held C's port");
    };
    let mut checks = Checks::new();
    cite_watcher(&mut checks, obs);
    checks.read_back(format!(
        "C's engine killed at {}ms; {program} (pid {pid}) held port {} from {taken_ms}ms",
        port.killed.at_ms, c.port
    ));
    checks.read_back(format!("while held: {}", summary("C", &port.named)));
    checks.expect(port.named_ms.is_some(), || {
        format!("C's record never named the holder (pid {pid}) while it held the port")
    });
    let left_ms = port.left_ms.unwrap_or(u64::MAX);
    let made: Vec<_> = obs
        .samples
        .appeared_after(&c.id, *taken_ms)
        .into_iter()
        .filter(|l| l.first_ms < left_ms)
        .collect();
    checks.docker(made.iter().map(|l| {
        format!(
            "C: container {} seen from {}ms to {}ms while the port was held",
            &l.id[..12.min(l.id.len())],
            l.first_ms,
            l.last_ms
        )
    }));
    checks.expect(made.is_empty(), || {
        format!(
            "{} container(s) of C were made while the port was held",
            made.len()
        )
    });
    checks.note(format!("the blocker: {}", port.left));
    match port.healthy_ms {
        Some(ms) => {
            checks.figure("back_after_holder_left_ms", ms);
            checks.read_back(format!(
                "C's engine answered 200 {ms}ms after the holder left"
            ));
        }
        None => {
            checks.problem("C never came back after the holder left");
        }
    }
    checks.read_back(format!("after: {}", summary("C", &port.after)));
    checks.expect(
        port.after
            .as_ref()
            .is_some_and(|r| r["status"] == "running"),
        || "C does not read running after the holder left".into(),
    );
    checks.done()
}

pub fn c6(obs: &Observations) -> Judged {
    let Some(hang) = &obs.hang else {
        return skip(obs.unstaged_reason("the hung engine"));
    };
    let h = &hang.h;
    let mut checks = Checks::new();
    cite_watcher(&mut checks, obs);
    let Some(silent_ms) = hang.silent_ms else {
        checks.problem("H's engine never stopped answering, so its hang was not staged");
        return checks.done();
    };
    let state = hang.state_when_silent.as_deref().unwrap_or("gone");
    checks.read_back(format!(
        "H's engine silent at {silent_ms}ms; its container {} was {state}",
        &hang.first[..12.min(hang.first.len())]
    ));
    checks.expect(state == "running", || {
        format!("H's container was {state} when its engine fell silent, not a hang")
    });
    match &hang.replaced {
        Some((container, ms)) => {
            checks.figure("restart_after_hang_ms", *ms);
            checks.read_back(format!(
                "a new container {} of H answered 200 {ms}ms after the silence",
                &container[..12.min(container.len())]
            ));
        }
        None => {
            checks.problem("H was not restarted: no new container of H answered 200");
        }
    }
    checks.read_back(format!("after: {}", summary("H", &hang.after)));
    if let Some(stop) = &hang.stop {
        checks.command(stop);
        none_after(
            &mut checks,
            obs,
            "H",
            &h.id,
            stop.started_at_ms + stop.duration_ms,
        );
    }
    let (most, at) = obs.samples.most_at_once(&h.id, 0, u64::MAX);
    checks.expect(most <= 1, || {
        format!("the watcher saw {most} containers of H at {at}ms")
    });
    checks.done()
}
