//! Judging scenario 22 from its observations.

use crate::scenario::aima_ops::answer_text;
use crate::scenario::judging::{Checks, Judged, Observed, results, skip};
use crate::verdict::CriterionResult;

use super::criteria::CRITERIA;
use super::steps::{Observations, SHUTDOWN_BOUND};

pub fn judge(obs: &Observations) -> Vec<CriterionResult> {
    results(&CRITERIA, vec![c1(obs), c2(obs), c3(obs), c4(obs), c5(obs)])
}

fn c1(obs: &Observations) -> Judged {
    let Some(after) = &obs.after_term else {
        return skip(obs.skip_reason("the request after SIGTERM"));
    };
    let mut checks = Checks::new();
    match after {
        Ok(reply) => {
            checks.problem(format!(
                "a new request 300ms after SIGTERM was answered: {}",
                reply.summary()
            ));
        }
        Err(err) => {
            checks.read_back(format!("new request 300ms after SIGTERM: {err}"));
        }
    }
    checks.done()
}

fn c2(obs: &Observations) -> Judged {
    let (Some(reply), Some(exit)) = (&obs.in_flight, &obs.term_exit) else {
        return skip(obs.skip_reason("the shutdown with a request in flight"));
    };
    let mut checks = Checks::new();
    checks.service_reply("the in-flight start", "in-flight start", reply, "running");
    checks.figure("shutdown_ms", exit.waited_ms);
    checks.read_back(format!("the daemon {}", exit.describe()));
    checks.expect(exit.exit_code == Some(0) && !exit.escalated, || {
        format!(
            "the daemon {}; expected exit 0 within {}s",
            exit.describe(),
            SHUTDOWN_BOUND.as_secs()
        )
    });
    checks.done()
}

fn c3(obs: &Observations) -> Judged {
    if obs.engines_after_exit.is_empty() {
        return skip(obs.skip_reason("the shutdown"));
    }
    let mut checks = Checks::new();
    for (service, state) in &obs.engines_after_exit {
        let shown = state.as_deref().unwrap_or("no container");
        checks.docker([format!("after the exit: {service}: {shown}")]);
        checks.expect(state.as_deref() == Some("running"), || {
            format!("{service}'s engine is {shown} after the shutdown")
        });
    }
    checks.expect(obs.after_restart.len() == 2, || {
        "the restarted daemon was not asked".into()
    });
    for (service, status) in &obs.after_restart {
        let shown = status.as_deref().unwrap_or("<none>");
        checks.read_back(format!("after the restart: {service} status = {shown}"));
        checks.expect(shown == "running", || {
            format!("{service} reads {shown} after the restart")
        });
    }
    checks.done()
}

fn c4(obs: &Observations) -> Judged {
    if obs.integrity_after_term.is_none() {
        return skip(obs.skip_reason("the integrity checks"));
    }
    let mut checks = Checks::new();
    for (when, check) in [
        ("after SIGTERM", &obs.integrity_after_term),
        ("after SIGKILL", &obs.integrity_after_kill),
    ] {
        match check {
            None => {
                checks.problem(format!("no integrity_check {when}"));
            }
            Some(Ok(answer)) => {
                checks.read_back(format!("PRAGMA integrity_check {when}: {answer}"));
                checks.expect(answer == "ok", || {
                    format!("integrity_check {when} says {answer}")
                });
            }
            Some(Err(err)) => {
                checks.problem(format!("{when}: {err}"));
            }
        }
    }
    checks.done()
}

fn c5(obs: &Observations) -> Judged {
    let (Some(exit), Some(health)) = (&obs.kill_exit, &obs.final_health) else {
        return skip(obs.skip_reason("the SIGKILL and restart"));
    };
    let mut checks = Checks::new();
    checks.note(format!("the daemon {} after SIGKILL", exit.describe()));
    checks.read_back(format!(
        "GET /api/v2/health after the restart -> {}",
        answer_text(health)
    ));
    checks.expect(health == &Ok(200), || {
        "the restarted daemon is not healthy".into()
    });
    for committed in &obs.committed {
        checks.expect(obs.final_ids.contains(committed), || {
            format!("{committed} was created (201) before SIGKILL but is missing after the restart")
        });
    }
    checks.read_back(format!(
        "created before SIGKILL: {}",
        obs.committed.join(", ")
    ));
    for (service, status) in &obs.final_statuses {
        checks.read_back(format!("after the restart: {service} status = {status}"));
        checks.expect(
            !matches!(status.as_str(), "failed" | "starting" | "stopping"),
            || format!("{service} reads {status} after the restart"),
        );
    }
    checks.done()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::group::Stopped;
    use crate::fixtures::http::HttpReply;

    fn exit(code: i32) -> Stopped {
        Stopped {
            verified: true,
            was_running: true,
            escalated: false,
            exit_code: Some(code),
            waited_ms: 5_000,
            evidence: vec![],
        }
    }

    fn running() -> HttpReply {
        HttpReply {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: r#"{"id":"svc-2","status":"running"}"#.into(),
            elapsed_ms: 5_000,
        }
    }

    fn healthy() -> Observations {
        let running_both = vec![
            ("svc-1".to_owned(), Some("running".to_owned())),
            ("svc-2".to_owned(), Some("running".to_owned())),
        ];
        Observations {
            after_term: Some(Err("connection refused".into())),
            in_flight: Some(Ok(running())),
            term_exit: Some(exit(0)),
            engines_after_exit: running_both.clone(),
            integrity_after_term: Some(Ok("ok".into())),
            after_restart: running_both,
            committed: vec!["model-1".into(), "svc-3".into()],
            kill_exit: Some(exit(-1)),
            integrity_after_kill: Some(Ok("ok".into())),
            final_health: Some(Ok(200)),
            final_ids: vec![
                "model-1".into(),
                "svc-1".into(),
                "svc-2".into(),
                "svc-3".into(),
            ],
            final_statuses: vec![("svc-3".into(), "created".into())],
            ..Observations::default()
        }
    }

    fn passes(obs: &Observations) -> Vec<bool> {
        judge(obs).iter().map(|r| r.verdict.is_pass()).collect()
    }

    #[test]
    fn each_shutdown_fault_fails_its_criterion() {
        assert_eq!(passes(&healthy()), [true; 5]);
        let mut answered = healthy();
        answered.after_term = Some(Ok(running()));
        answered.term_exit = Some(exit(1));
        assert_eq!(passes(&answered), [false, false, true, true, true]);
        let mut lost = healthy();
        lost.final_ids.retain(|id| id != "svc-3");
        lost.integrity_after_kill = Some(Ok("row 3 missing from index".into()));
        assert_eq!(passes(&lost), [true, true, true, false, false]);
    }
}
