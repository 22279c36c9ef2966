//! Unit tests of the scenario 20 judge on invented observations: a healthy aima passes, and
//! each kind of misbehaviour fails exactly the criterion it breaks.

use std::collections::BTreeMap;

use crate::exec::CommandRecord;
use crate::fixtures::census::ContainerInfo;
use crate::fixtures::port_check::PortCheck;
use crate::scenario::context::Census;
use crate::verdict::{CriterionResult, Verdict};

use super::judge::judge;
use super::observations::{Blocker, Cycle, Observations, PortRelease, StatusRead, StopRead};
use crate::scenario::aima_json::RecordedAttempt;

const PORT_MESSAGE: &str = "error: cannot start svc-1: port 8000 is in use by harness (pid 4242)\n  attempt 1/3 after 4ms [preflight]: port 8000 is in use by harness (pid 4242)\nhelp: stop pid 4242 or choose another port with --port";

fn record(exit: i32, stderr: &str, duration_ms: u64) -> CommandRecord {
    CommandRecord {
        index: 1,
        step: "s".into(),
        display: "aima".into(),
        exit_code: Some(exit),
        timed_out: false,
        deadline_ms: 60_000,
        duration_ms,
        started_at_ms: 0,
        stdout: String::new(),
        stderr: stderr.into(),
        stdout_log: None,
        stderr_log: None,
    }
}

fn status(service: &str, value: &str) -> StatusRead {
    StatusRead {
        service: service.into(),
        list: record(0, "", 10),
        status: Some(value.into()),
    }
}

fn orphan() -> ContainerInfo {
    ContainerInfo {
        id: "c1".into(),
        name: "leak".into(),
        image: "sim".into(),
        state: "created".into(),
        status: "Created".into(),
        labels: BTreeMap::from([("aima.engine".to_owned(), "vllm".to_owned())]),
    }
}

fn healthy() -> Observations {
    let attempt = RecordedAttempt {
        number: 1,
        phase: "preflight".into(),
        reason: "port 8000 is in use by harness (pid 4242)".into(),
    };
    Observations {
        port: 8000,
        blocker: Some(Blocker {
            pid: 4242,
            program: "harness".into(),
        }),
        blocked_start: Some(record(5, PORT_MESSAGE, 40)),
        status_after_failure: Some(status("svc-1", "failed")),
        census_after_failure: Some(Census::default()),
        docker_down_start: Some(record(
            6,
            "error: Docker is unreachable at tcp://127.0.0.1:99999",
            30,
        )),
        docker_host: "tcp://127.0.0.1:99999".into(),
        docker_variants: vec![],
        second_blocked_start: Some(record(5, PORT_MESSAGE, 40)),
        second_record: Some(record(0, "", 10)),
        second_attempts: Some(vec![attempt]),
        stops: vec![
            StopRead {
                stop: record(0, "", 10),
                after: status("svc-1", "stopped"),
            },
            StopRead {
                stop: record(0, "", 10),
                after: status("svc-2", "stopped"),
            },
        ],
        cycles: (0..3)
            .map(|_| Cycle {
                start: record(5, PORT_MESSAGE, 40),
                census: Census::default(),
            })
            .collect(),
        final_stop: Some(record(0, "", 10)),
        final_census: Some(Census::default()),
        port_release: Some(PortRelease {
            check: PortCheck {
                port: 8000,
                v4_error: None,
                v6_error: None,
            },
            waited_ms: 0,
        }),
        missing: vec![],
    }
}

fn verdicts(results: &[CriterionResult]) -> Vec<&'static str> {
    results.iter().map(|r| r.verdict.label()).collect()
}

fn failing(results: &[CriterionResult]) -> Vec<&str> {
    results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail(_)))
        .map(|r| r.id.as_str())
        .collect()
}

#[test]
fn a_healthy_aima_passes_everything_and_the_fast_fail_figure_is_kept() {
    let results = judge(&healthy());
    assert_eq!(verdicts(&results), ["PASS"; 7]);
    assert_eq!(results[0].evidence.figures["fast_fail_ms"], 40);
}

#[test]
fn a_status_stuck_at_creating_fails_only_c2() {
    let mut obs = healthy();
    obs.status_after_failure = Some(status("svc-1", "creating"));
    let results = judge(&obs);
    assert_eq!(failing(&results), ["S20.C2"]);
    assert!(results[1].verdict.reason().unwrap().contains("creating"));
}

#[test]
fn a_message_without_the_port_or_the_holder_fails_c1() {
    let mut obs = healthy();
    obs.blocked_start = Some(record(5, "error: cannot start: address already in use", 40));
    let results = judge(&obs);
    assert_eq!(failing(&results), ["S20.C1"]);
    let reason = results[0].verdict.reason().unwrap();
    assert!(
        reason.contains("port 8000") && reason.contains("pid 4242"),
        "{reason}"
    );
}

#[test]
fn docker_raw_text_and_slowness_fail_c1() {
    let mut obs = healthy();
    let raw = "Error response from daemon: driver failed programming external connectivity: Bind for 0.0.0.0:8000 failed: port is already allocated (pid 4242)";
    obs.blocked_start = Some(record(1, raw, 50_000));
    let reason = judge(&obs)[0].verdict.reason().unwrap().to_owned();
    assert!(
        reason.contains("raw error") && reason.contains("target < 1000ms"),
        "{reason}"
    );
}

#[test]
fn progress_lines_before_the_error_are_not_its_headline() {
    let mut obs = healthy();
    let raw = "… connecting to Docker\nerror: Error response from daemon: port is already allocated (pid 4242, port 8000)";
    obs.blocked_start = Some(record(5, raw, 40));
    let results = judge(&obs);
    let reason = results[0].verdict.reason().unwrap().to_owned();
    assert!(reason.contains("raw error"), "{reason}");
    let progress = format!("… connecting to Docker\n{PORT_MESSAGE}");
    obs.blocked_start = Some(record(5, &progress, 40));
    let results = judge(&obs);
    assert!(results[0].verdict.reason().is_none(), "{:?}", results[0]);
    assert!(
        results[0]
            .evidence
            .notes
            .iter()
            .any(|n| n.starts_with("headline: \"error: cannot start")),
        "{:?}",
        results[0].evidence
    );
}

#[test]
fn a_leftover_container_fails_c3_and_c7() {
    let mut obs = healthy();
    let leak = Census {
        counted: vec![orphan()],
        foreign: vec![],
    };
    obs.census_after_failure = Some(leak.clone());
    obs.cycles[1].census = leak.clone();
    obs.final_census = Some(leak);
    let results = judge(&obs);
    assert_eq!(failing(&results), ["S20.C3", "S20.C7"]);
    assert!(results[2].evidence.docker[0].contains("leak"));
}

#[test]
fn other_runs_containers_do_not_count() {
    let mut obs = healthy();
    obs.census_after_failure = Some(Census {
        counted: vec![],
        foreign: vec![orphan()],
    });
    assert!(judge(&obs)[2].verdict.is_pass());
}

#[test]
fn a_hung_docker_start_fails_c4() {
    let mut obs = healthy();
    let mut hung = record(0, "", 35_000);
    hung.timed_out = true;
    hung.exit_code = None;
    obs.docker_down_start = Some(hung);
    let results = judge(&obs);
    assert_eq!(failing(&results), ["S20.C4"]);
    assert!(results[3].verdict.reason().unwrap().contains("hung"));
}

#[test]
fn attempts_missing_from_the_message_fail_c5() {
    let mut obs = healthy();
    let extra = RecordedAttempt {
        number: 2,
        phase: "run".into(),
        reason: "bind failed".into(),
    };
    obs.second_attempts.as_mut().unwrap().push(extra);
    let results = judge(&obs);
    assert_eq!(failing(&results), ["S20.C5"]);
    assert!(
        results[4]
            .verdict
            .reason()
            .unwrap()
            .contains("1 attempt line(s) but the record holds 2")
    );
}

#[test]
fn a_failing_stop_fails_c6_and_a_busy_port_fails_c7() {
    let mut obs = healthy();
    obs.stops[0] = StopRead {
        stop: record(4, "error: conflict", 10),
        after: status("svc-1", "failed"),
    };
    obs.port_release.as_mut().unwrap().check.v6_error = Some("Address in use".into());
    assert_eq!(failing(&judge(&obs)), ["S20.C6", "S20.C7"]);
}

#[test]
fn nothing_observed_means_skips_with_reasons_never_passes() {
    let obs = Observations {
        missing: vec!["aima start exited early".into()],
        ..Observations::default()
    };
    let results = judge(&obs);
    assert_eq!(verdicts(&results), ["SKIP"; 7]);
    assert!(
        results[0]
            .verdict
            .reason()
            .unwrap()
            .contains("aima start exited early")
    );
}
