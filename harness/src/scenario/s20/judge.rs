//! Turning scenario 20's observations into verdicts. Every check states what it expected, so a
//! FAIL explains itself; a criterion whose steps did not run is a SKIP, never a PASS.

use crate::exec::CommandRecord;
use crate::verdict::{CriterionResult, Evidence, Verdict};

use super::criteria::CRITERIA;
use super::observations::{Observations, StatusRead};
use crate::scenario::aima_json::{attempt_lines, words};
use crate::scenario::judging::Observed;

/// The scenario's target for detecting a foreign port holder.
pub const FAST_FAIL_TARGET_MS: u64 = 1000;
/// A start against an unreachable Docker daemon must end on its own within this bound.
pub const DOCKER_DOWN_BOUND_MS: u64 = 35_000;

/// Phrases of raw Docker errors that must not be the headline of aima's message.
const RAW_DOCKER_PHRASES: [&str; 4] = [
    "Error response from daemon",
    "driver failed programming external connectivity",
    "failed to set up container networking",
    "Bind for ",
];

/// Judges all seven criteria, in order.
pub fn judge(obs: &Observations) -> Vec<CriterionResult> {
    let judged = [c1, c2, c3, c4, c5, c6, c7].map(|check| check(obs));
    CRITERIA
        .iter()
        .zip(judged)
        .map(|(criterion, (verdict, evidence))| CriterionResult {
            id: criterion.id.to_owned(),
            title: criterion.title.to_owned(),
            verdict,
            evidence,
        })
        .collect()
}

type Judged = (Verdict, Evidence);

fn skip(reason: String) -> Judged {
    (Verdict::Skip(reason), Evidence::default())
}

fn with_command(evidence: &mut Evidence, record: &CommandRecord) {
    evidence.commands.push(record.index);
}

fn status_evidence(evidence: &mut Evidence, read: &StatusRead) {
    with_command(evidence, &read.list);
    evidence.read_back.push(format!(
        "{} status = {} (service list --output json)",
        read.service,
        read.status.as_deref().unwrap_or("<not found>")
    ));
}

/// Problems shared by C1 and C5: the blocked start must end on its own with a non-zero code.
fn must_fail(record: &CommandRecord, problems: &mut Vec<String>) {
    if record.timed_out {
        problems.push(format!("start hung: {}", record.outcome()));
    } else if record.succeeded() {
        problems.push("start exited 0 although the port was blocked".into());
    }
}

fn c1(obs: &Observations) -> Judged {
    let (Some(record), Some(blocker)) = (&obs.blocked_start, &obs.blocker) else {
        return skip(obs.skip_reason("the blocked start (test 1)"));
    };
    let mut evidence = Evidence::default();
    with_command(&mut evidence, record);
    evidence
        .figures
        .insert("fast_fail_ms".into(), record.duration_ms);
    evidence.notes.push(format!(
        "port {} held by {} (pid {}) bound to 0.0.0.0 with SO_REUSEADDR and listen(1)",
        obs.port, blocker.program, blocker.pid
    ));
    let mut problems = Vec::new();
    must_fail(record, &mut problems);
    let text = record.all_output();
    let port = obs.port.to_string();
    let pid = blocker.pid.to_string();
    if !words(&text).any(|w| w == port) {
        problems.push(format!("message does not name port {port}"));
    }
    if !words(&text).any(|w| w == pid || w == blocker.program) {
        problems.push(format!(
            "message names neither the blocker's pid {pid} nor its program {:?}",
            blocker.program
        ));
    }
    // Progress lines may come first (a start off a terminal prints one per step): the headline
    // is the first `error:` line, else the first line at all.
    let mut lines = record.stderr.lines().filter(|l| !l.trim().is_empty());
    let headline = lines
        .clone()
        .find(|l| l.starts_with("error:"))
        .or_else(|| lines.next())
        .unwrap_or("");
    evidence.notes.push(format!("headline: {headline:?}"));
    if headline.is_empty() {
        problems.push("no error message on stderr".into());
    } else if let Some(raw) = RAW_DOCKER_PHRASES.iter().find(|p| headline.contains(*p)) {
        problems.push(format!("headline is Docker's raw error ({raw:?})"));
    }
    if record.duration_ms >= FAST_FAIL_TARGET_MS {
        problems.push(format!(
            "took {}ms to fail; target < {FAST_FAIL_TARGET_MS}ms",
            record.duration_ms
        ));
    }
    (Verdict::from_problems(problems), evidence)
}

fn c2(obs: &Observations) -> Judged {
    let Some(read) = &obs.status_after_failure else {
        return skip(obs.skip_reason("the status read-back (test 2)"));
    };
    let mut evidence = Evidence::default();
    status_evidence(&mut evidence, read);
    let verdict = match read.status.as_deref() {
        Some("failed") => Verdict::Pass,
        Some(other) => Verdict::Fail(format!("status is {other:?}, expected \"failed\"")),
        None => Verdict::Fail(format!(
            "{} not found in the service list output",
            read.service
        )),
    };
    (verdict, evidence)
}

fn c3(obs: &Observations) -> Judged {
    let Some(census) = &obs.census_after_failure else {
        return skip(obs.skip_reason("the census after the failed start (test 3)"));
    };
    let evidence = Evidence {
        docker: census.lines(),
        ..Evidence::default()
    };
    let verdict = match census.counted.len() {
        0 => Verdict::Pass,
        n => Verdict::Fail(format!("{n} new aima.engine container(s) left behind")),
    };
    (verdict, evidence)
}

fn c4(obs: &Observations) -> Judged {
    let Some(record) = &obs.docker_down_start else {
        return skip(obs.skip_reason("the start with Docker unreachable (test 4)"));
    };
    let mut evidence = Evidence::default();
    with_command(&mut evidence, record);
    evidence
        .figures
        .insert("docker_down_ms".into(), record.duration_ms);
    evidence.notes.push(format!(
        "DOCKER_HOST={} for this command only",
        obs.docker_host
    ));
    for (what, endpoint, record) in &obs.docker_variants {
        with_command(&mut evidence, record);
        evidence
            .figures
            .insert(format!("{what}_endpoint_ms"), record.duration_ms);
        evidence.notes.push(format!(
            "not judged: with a {what} endpoint (DOCKER_HOST={endpoint}) the start {}",
            record.outcome()
        ));
    }
    let mut problems = Vec::new();
    if record.timed_out || record.duration_ms > DOCKER_DOWN_BOUND_MS {
        problems.push(format!(
            "hung: no answer within {DOCKER_DOWN_BOUND_MS}ms ({})",
            record.outcome()
        ));
    } else if record.succeeded() {
        problems.push("exited 0 although Docker was unreachable".into());
    }
    if !record.all_output().to_lowercase().contains("docker") {
        problems.push("message does not mention Docker".into());
    }
    (Verdict::from_problems(problems), evidence)
}

fn c5(obs: &Observations) -> Judged {
    let Some(record) = &obs.second_blocked_start else {
        return skip(obs.skip_reason("the second blocked start (test 5)"));
    };
    let mut evidence = Evidence::default();
    with_command(&mut evidence, record);
    if let Some(get) = &obs.second_record {
        with_command(&mut evidence, get);
    }
    let mut problems = Vec::new();
    must_fail(record, &mut problems);
    let lines = attempt_lines(&record.all_output());
    evidence
        .figures
        .insert("attempt_lines".into(), lines.len() as u64);
    match &obs.second_attempts {
        None => problems.push("service get --output json has no readable attempts list".into()),
        Some(recorded) => {
            evidence
                .figures
                .insert("recorded_attempts".into(), recorded.len() as u64);
            evidence.read_back.extend(
                recorded
                    .iter()
                    .map(|a| format!("attempt {} [{}]: {}", a.number, a.phase, a.reason)),
            );
            if recorded.is_empty() {
                problems.push("the service record lists no attempt".into());
            }
            if lines.len() != recorded.len() {
                problems.push(format!(
                    "message shows {} attempt line(s) but the record holds {} attempt(s)",
                    lines.len(),
                    recorded.len()
                ));
            }
            if recorded.iter().any(|a| a.reason.trim().is_empty()) {
                problems.push("a recorded attempt has no reason".into());
            }
        }
    }
    if lines.iter().any(|l| l.reason.is_empty()) {
        problems.push("an attempt line has no reason".into());
    }
    let numbers: Vec<u64> = lines.iter().map(|l| l.number).collect();
    if numbers != (1..=lines.len() as u64).collect::<Vec<_>>() {
        problems.push(format!("attempt lines are numbered {numbers:?}, not 1..n"));
    }
    (Verdict::from_problems(problems), evidence)
}

fn c6(obs: &Observations) -> Judged {
    if obs.stops.len() < 2 {
        return skip(obs.skip_reason("stopping both failed services (test 6)"));
    }
    let mut evidence = Evidence::default();
    let mut problems = Vec::new();
    for read in &obs.stops {
        with_command(&mut evidence, &read.stop);
        status_evidence(&mut evidence, &read.after);
        if !read.stop.succeeded() {
            problems.push(format!(
                "service stop {} did not succeed ({})",
                read.after.service,
                read.stop.outcome()
            ));
        }
        if read.after.status.as_deref() != Some("stopped") {
            problems.push(format!(
                "{} reads back as {:?} after stop, expected \"stopped\"",
                read.after.service,
                read.after.status.as_deref().unwrap_or("<not found>")
            ));
        }
    }
    (Verdict::from_problems(problems), evidence)
}

fn c7(obs: &Observations) -> Judged {
    let (Some(census), Some(release)) = (&obs.final_census, &obs.port_release) else {
        return skip(obs.skip_reason("the start/fail cycles (test 7)"));
    };
    let mut evidence = Evidence::default();
    let mut problems = Vec::new();
    if obs.cycles.len() != 3 {
        problems.push(format!("{} cycle(s) ran, expected 3", obs.cycles.len()));
    }
    for (n, cycle) in obs.cycles.iter().enumerate() {
        let n = n + 1;
        with_command(&mut evidence, &cycle.start);
        evidence.docker.extend(
            cycle
                .census
                .lines()
                .into_iter()
                .map(|l| format!("cycle {n}: {l}")),
        );
        if cycle.start.succeeded() || cycle.start.timed_out {
            problems.push(format!(
                "cycle {n}: start did not fail cleanly ({})",
                cycle.start.outcome()
            ));
        }
        if !cycle.census.counted.is_empty() {
            problems.push(format!(
                "cycle {n}: {} aima.engine container(s) left",
                cycle.census.counted.len()
            ));
        }
    }
    if let Some(stop) = &obs.final_stop {
        with_command(&mut evidence, stop);
    }
    evidence.docker.extend(
        census
            .lines()
            .into_iter()
            .map(|l| format!("after stop: {l}")),
    );
    if !census.counted.is_empty() {
        problems.push(format!(
            "{} aima.engine container(s) left after the cycles",
            census.counted.len()
        ));
    }
    evidence
        .figures
        .insert("port_release_wait_ms".into(), release.waited_ms);
    evidence.notes.push(release.check.describe());
    if !release.check.is_free() {
        problems.push(format!("port still in use: {}", release.check.describe()));
    }
    (Verdict::from_problems(problems), evidence)
}
