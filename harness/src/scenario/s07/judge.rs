//! Judging scenario 7 from its observations.

use crate::scenario::aima_ops::answer_text;
use crate::scenario::judging::{Checks, Judged, Observed, results, skip};
use crate::verdict::CriterionResult;

use super::criteria::CRITERIA;
use super::steps::{Observations, REAP_BOUND};

pub fn judge(obs: &Observations) -> Vec<CriterionResult> {
    results(&CRITERIA, vec![c1(obs), c2(obs), c3(obs), c4(obs), c5(obs)])
}

fn short(id: &str) -> &str {
    &id[..12.min(id.len())]
}

fn c1(obs: &Observations) -> Judged {
    if obs.reaped.is_empty() {
        return skip(obs.skip_reason("waiting for the reaper"));
    }
    let mut checks = Checks::new();
    let mut slowest = 0;
    for (what, id, gone) in &obs.reaped {
        match gone {
            Some(ms) => {
                slowest = slowest.max(*ms);
                checks.read_back(format!("{what} {} removed after {ms}ms", short(id)));
            }
            None => {
                checks.problem(format!(
                    "{what} {} is still there after {}s",
                    short(id),
                    REAP_BOUND.as_secs()
                ));
            }
        }
    }
    checks.figure("reap_ms", slowest);
    if let Some(read) = &obs.killed_service {
        checks.command(&read.list).read_back(read.line());
        checks.expect(read.status.as_deref() == Some("failed"), || {
            format!(
                "the killed start's service reads {}, expected failed",
                read.status.as_deref().unwrap_or("<not found>")
            )
        });
    }
    checks.done()
}

fn c2(obs: &Observations) -> Judged {
    let (Some((cli_id, cli)), Some((api_id, api))) = (&obs.cli_prune, &obs.api_prune) else {
        return skip(obs.skip_reason("the prunes"));
    };
    let mut checks = Checks::new();
    checks.succeeded("service prune", cli);
    checks.expect(obs.cli_prune_gone, || {
        format!("the orphan {} survived service prune", short(cli_id))
    });
    checks.expect(cli.stdout.contains(cli_id.as_str()), || {
        "service prune did not list the orphan it removed".into()
    });
    match api {
        Ok(reply) => {
            checks.read_back(format!(
                "POST /api/v2/services/prune -> {}",
                reply.summary()
            ));
            checks.expect(reply.status == 200, || {
                format!("the API prune answered {}", reply.status)
            });
            checks.expect(reply.body.contains(api_id.as_str()), || {
                "the API prune did not list the orphan it removed".into()
            });
        }
        Err(err) => {
            checks.problem(format!("the API prune got no answer: {err}"));
        }
    }
    checks.expect(obs.api_prune_gone, || {
        format!("the orphan {} survived the API prune", short(api_id))
    });
    checks.done()
}

fn c3(obs: &Observations) -> Judged {
    if obs.bystanders.is_empty() || obs.reaped.is_empty() {
        return skip(obs.skip_reason("watching the bystanders"));
    }
    let mut checks = Checks::new();
    for (what, id, state) in &obs.bystanders {
        let shown = state.as_deref().unwrap_or("gone");
        checks.docker([format!("{what} {}: {shown}", short(id))]);
        checks.expect(state.as_deref() == Some("created"), || {
            format!(
                "{what} {} is {shown} at the end, it was created and left alone",
                short(id)
            )
        });
        checks.expect(!obs.pruned_ids.contains(id), || {
            format!("a prune listed {what} {}", short(id))
        });
    }
    checks.done()
}

fn c4(obs: &Observations) -> Judged {
    let Some(y) = &obs.yanked else {
        return skip(obs.skip_reason("removing a container behind aima's back"));
    };
    let mut checks = Checks::new();
    checks.command(&y.after.list).read_back(y.after.line());
    checks.expect(y.after.status.as_deref() == Some("failed"), || {
        format!(
            "{} reads {} after its container vanished, expected failed",
            y.service,
            y.after.status.as_deref().unwrap_or("<not found>")
        )
    });
    checks.succeeded("the plain start after the removal", &y.restart);
    checks
        .command(&y.after_restart.list)
        .read_back(y.after_restart.line());
    checks.expect(y.after_restart.status.as_deref() == Some("running"), || {
        "the service does not read running after the new start".into()
    });
    checks.done()
}

fn c5(obs: &Observations) -> Judged {
    let (Some((service, container, port)), Some((read, now, health))) = (&obs.live, &obs.live_end)
    else {
        return skip(obs.skip_reason("the live service"));
    };
    let mut checks = Checks::new();
    checks.command(&read.list).read_back(read.line());
    checks.read_back(format!(
        "GET 127.0.0.1:{port}/health at the end -> {}",
        answer_text(health)
    ));
    checks.expect(read.status.as_deref() == Some("running"), || {
        format!("{service} does not read running at the end")
    });
    checks.expect(now.as_deref() == Some(container.as_str()), || {
        format!(
            "{service} no longer runs its first container {}",
            short(container)
        )
    });
    checks.expect(health == &Ok(200), || {
        "its engine does not answer 200".into()
    });
    checks.done()
}
