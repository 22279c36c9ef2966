//! Judging scenario 26 from its observations.

use serde_json::Value;

use crate::exec::CommandRecord;
use crate::scenario::judging::{Checks, Judged, Observed, all_skipped, results, skip};
use crate::verdict::CriterionResult;

use super::criteria::CRITERIA;
use super::steps::{Observations, json_field};

/// Exit codes of the refusals (docs/lifecycle.md).
const FORBIDDEN: i32 = 13;
const QUOTA_EXCEEDED: i32 = 14;

pub fn judge(obs: &Observations) -> Vec<CriterionResult> {
    if let Some(reason) = &obs.not_root {
        return all_skipped(&CRITERIA, reason);
    }
    results(
        &CRITERIA,
        vec![c1(obs), c2(obs), c3(obs), c4(obs), c5(obs), c6(obs)],
    )
}

/// Expects the service `service get --output json` printed in `record` to be `want`.
fn expect_status(checks: &mut Checks, when: &str, record: &CommandRecord, want: &str) {
    checks.command(record);
    let status = json_field(&record.stdout, "status");
    checks.read_back(format!(
        "{when}: status {}",
        status.as_deref().unwrap_or("<unread>")
    ));
    checks.expect(status.as_deref() == Some(want), || {
        format!(
            "{when} the service is {}, expected {want} ({})",
            status.as_deref().unwrap_or("<unread>"),
            record.outcome()
        )
    });
}

/// Expects `record` to have exited with `code` on its own.
fn expect_exit(checks: &mut Checks, what: &str, record: &CommandRecord, code: i32) {
    checks.command(record);
    checks.expect(record.exit_code == Some(code) && !record.timed_out, || {
        format!("{what}: {}, expected exit {code}", record.outcome())
    });
}

fn c1(obs: &Observations) -> Judged {
    let (Some(start), Some(get)) = (&obs.alice_start, &obs.alice_get) else {
        return skip(obs.skip_reason("alice's start"));
    };
    let mut checks = Checks::new();
    for line in &obs.setup {
        checks.read_back(line.clone());
    }
    for problem in &obs.socket_problems {
        checks.problem(problem.clone());
    }
    checks.succeeded("alice's start", start);
    expect_status(&mut checks, "after alice's start", get, "running");
    for field in ["created_by", "started_by"] {
        let value = json_field(&get.stdout, field);
        checks.read_back(format!(
            "{field} = {}",
            value.as_deref().unwrap_or("<none>")
        ));
        checks.expect(value.as_deref() == Some(obs.alice.as_str()), || {
            format!(
                "{field} is {}, expected {}",
                value.as_deref().unwrap_or("<none>"),
                obs.alice
            )
        });
    }
    checks.done()
}

fn c2(obs: &Observations) -> Judged {
    let (Some(stop), Some(after)) = (&obs.bob_stop, &obs.after_bob) else {
        return skip(obs.skip_reason("bob's stop"));
    };
    let mut checks = Checks::new();
    expect_exit(
        &mut checks,
        "bob's stop of alice's service",
        stop,
        FORBIDDEN,
    );
    checks.expect(stop.all_output().contains(&obs.alice), || {
        format!("the refusal does not name the owner {}", obs.alice)
    });
    expect_status(&mut checks, "after bob's stop", after, "running");
    checks.done()
}

fn c3(obs: &Observations) -> Judged {
    let (Some(stop), Some(after)) = (&obs.root_stop, &obs.after_root) else {
        return skip(obs.skip_reason("root's stop"));
    };
    let mut checks = Checks::new();
    checks.succeeded("root's stop through the socket", stop);
    expect_status(&mut checks, "after root's stop", after, "stopped");
    checks.done()
}

fn c4(obs: &Observations) -> Judged {
    let (Some(first), Some(second)) = (&obs.bob_first, &obs.bob_second) else {
        return skip(obs.skip_reason("bob's starts"));
    };
    let mut checks = Checks::new();
    if let Some(why) = &obs.quota_refused {
        checks.problem(format!(
            "the daemon refused the quota table [quota.user.{}] and ran without it: {why}",
            obs.bob
        ));
    }
    checks.succeeded("bob's first start", first);
    expect_exit(
        &mut checks,
        "bob's second start over max_running = 1",
        second,
        QUOTA_EXCEEDED,
    );
    checks.expect(second.all_output().contains("max_running"), || {
        "the refusal does not name the quota max_running".into()
    });
    match &obs.bob_second_containers {
        Some(containers) => {
            checks.docker(containers.iter().cloned());
            checks.figure("second_service_containers", containers.len() as u64);
            checks.expect(containers.is_empty(), || {
                format!("the refused start left {}", containers.join(", "))
            });
        }
        None => {
            checks.problem("the containers were not counted");
        }
    }
    checks.done()
}

/// The `(to, actor)` of every event of `service` in `aima events --output json` (a list, or an
/// object whose `items` is one).
pub fn actors_of(stdout: &str, service: &str) -> Vec<(String, String)> {
    let Ok(value) = serde_json::from_str::<Value>(stdout.trim()) else {
        return Vec::new();
    };
    let items = value
        .as_array()
        .or_else(|| value["items"].as_array())
        .cloned()
        .unwrap_or_default();
    items
        .iter()
        .filter(|e| e["service_id"].as_str() == Some(service))
        .map(|e| {
            let text = |key: &str| e[key].as_str().unwrap_or("<none>").to_owned();
            (text("to"), text("actor"))
        })
        .collect()
}

fn c5(obs: &Observations) -> Judged {
    let Some(events) = &obs.events else {
        return skip(obs.skip_reason("the events"));
    };
    let mut checks = Checks::new();
    checks.succeeded("aima events", events);
    let seen = actors_of(&events.stdout, &obs.alice_service);
    for (to, actor) in &seen {
        checks.read_back(format!("-> {to} by {actor}"));
    }
    let by = |states: [&str; 2], actor: &str| {
        seen.iter()
            .any(|(to, who)| states.contains(&to.as_str()) && who == actor)
    };
    checks.expect(by(["starting", "running"], &obs.alice), || {
        format!("no start event of alice's service names {}", obs.alice)
    });
    checks.expect(by(["stopping", "stopped"], "root"), || {
        "no stop event of alice's service names root".into()
    });
    checks.done()
}

fn c6(obs: &Observations) -> Judged {
    let Some(create) = &obs.token_create else {
        return skip(obs.skip_reason("the token's creation"));
    };
    let mut checks = Checks::new();
    checks.succeeded("root's token create for bob", create);
    match &obs.token_stop {
        None => {
            checks.problem("token create printed no token");
        }
        Some(Err(err)) => {
            checks.problem(format!("the token's stop got no answer: {err}"));
        }
        Some(Ok(reply)) => {
            checks.read_back(format!(
                "POST /api/v2/services/{}/stop with bob's token -> {}",
                obs.alice_service,
                reply.summary()
            ));
            let code = reply.error_code();
            checks.expect(
                reply.status == 403 && code.as_deref() == Some("forbidden"),
                || {
                    format!(
                        "bob's token: {} with code {}, expected 403 forbidden",
                        reply.status,
                        code.as_deref().unwrap_or("<none>")
                    )
                },
            );
        }
    }
    if let Some(after) = &obs.after_token {
        expect_status(&mut checks, "after the token's stop", after, "running");
    }
    checks.done()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_are_read_from_a_list_or_items() {
        let list = r#"[{"service_id":"s1","to":"starting","actor":"alice"},{"service_id":"s2","to":"stopped","actor":"root"}]"#;
        assert_eq!(
            actors_of(list, "s1"),
            [("starting".to_owned(), "alice".to_owned())]
        );
        let items = r#"{"items":[{"service_id":"s1","to":"stopped"}]}"#;
        assert_eq!(
            actors_of(items, "s1"),
            [("stopped".to_owned(), "<none>".to_owned())]
        );
        assert!(actors_of("not json", "s1").is_empty());
    }

    #[test]
    fn not_root_skips_every_criterion_with_the_reason() {
        let obs = Observations {
            not_root: Some("needs root".into()),
            ..Observations::default()
        };
        let out = judge(&obs);
        assert_eq!(out.len(), CRITERIA.len());
        assert!(
            out.iter()
                .all(|c| c.verdict == crate::verdict::Verdict::Skip("needs root".into()))
        );
    }

    #[test]
    fn a_stop_that_is_not_refused_fails_c2() {
        let obs = Observations {
            alice: "alice".into(),
            bob_stop: Some(CommandRecord::invented(Some(0), "", 5)),
            after_bob: Some(CommandRecord::invented(
                Some(0),
                r#"{"status":"stopped"}"#,
                5,
            )),
            ..Observations::default()
        };
        let (verdict, _) = c2(&obs);
        assert!(!verdict.is_pass());
        assert!(matches!(verdict, crate::verdict::Verdict::Fail(_)));
    }
}
