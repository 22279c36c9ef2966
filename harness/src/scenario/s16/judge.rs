//! Judging scenario 16 from its observations.

use crate::scenario::aima_ops::answer_text;
use crate::scenario::judging::{Checks, Judged, Observed, results, skip};
use crate::verdict::CriterionResult;

use super::criteria::CRITERIA;
use super::steps::Observations;

pub fn judge(obs: &Observations) -> Vec<CriterionResult> {
    results(&CRITERIA, vec![c1(obs), c2(obs), c3(obs), c4(obs), c5(obs)])
}

fn c1(obs: &Observations) -> Judged {
    if obs.starts.len() < 2 {
        return skip(obs.skip_reason("starting both services"));
    }
    let mut checks = Checks::new();
    let ports: Vec<Option<u16>> = obs.ports.iter().map(|(_, p)| *p).collect();
    for (service, port) in &obs.ports {
        let shown = port.map_or_else(|| "none".to_owned(), |p| p.to_string());
        checks.read_back(format!(
            "{service} port = {shown} (service get --output json)"
        ));
    }
    checks.expect(ports.iter().all(Option::is_some), || {
        "a record has no port".into()
    });
    checks.expect(ports[0] != ports[1], || {
        "both services have the same port".into()
    });
    for (name, start) in ["A", "B"].iter().zip(&obs.starts) {
        checks.succeeded(&format!("start of {name}"), start);
    }
    for (port, answer) in &obs.both_health {
        checks.read_back(format!(
            "GET 127.0.0.1:{port}/health -> {}",
            answer_text(answer)
        ));
        checks.expect(answer == &Ok(200), || {
            format!("the engine on port {port} did not answer 200")
        });
    }
    checks.done()
}

fn c2(obs: &Observations) -> Judged {
    if obs.snapshots.is_empty() {
        return skip(obs.skip_reason("listing the services"));
    }
    let mut checks = Checks::new();
    for snap in &obs.snapshots {
        checks.command(&snap.list);
        for (service, _) in &obs.ports {
            let Some(listed) = snap.services.iter().find(|l| &l.service == service) else {
                checks.problem(format!(
                    "{}: {service} is missing from the list",
                    snap.moment
                ));
                continue;
            };
            let status = listed.status.as_deref().unwrap_or("<none>");
            let running = listed.containers.iter().any(|s| s == "running");
            checks.read_back(format!(
                "{}: {service} status = {status}; Docker: [{}]",
                snap.moment,
                listed.containers.join(", ")
            ));
            checks.expect((status == "running") == running, || {
                format!(
                    "{}: {service} reads {status} but its container is {}running",
                    snap.moment,
                    if running { "" } else { "not " }
                )
            });
        }
    }
    checks.done()
}

fn c3(obs: &Observations) -> Judged {
    let (Some(stop), Some((health, chat))) = (&obs.stop_a, &obs.b_after) else {
        return skip(obs.skip_reason("stopping A"));
    };
    let mut checks = Checks::new();
    checks.succeeded("stop of A", stop);
    let port = obs.ports.get(1).and_then(|(_, p)| *p).unwrap_or(0);
    checks.read_back(format!(
        "after stopping A: GET 127.0.0.1:{port}/health -> {}",
        answer_text(health)
    ));
    checks.read_back(format!(
        "after stopping A: POST 127.0.0.1:{port}/v1/chat/completions -> {}",
        answer_text(chat)
    ));
    checks.expect(health == &Ok(200), || {
        "B's engine no longer answers /health with 200".into()
    });
    checks.expect(chat == &Ok(200), || {
        "B's engine no longer serves a chat completion".into()
    });
    if let Some(snap) = obs
        .snapshots
        .iter()
        .find(|s| s.moment == "after stopping A")
    {
        let b = obs
            .ports
            .get(1)
            .map(|(s, _)| s.as_str())
            .unwrap_or_default();
        let status = snap
            .services
            .iter()
            .find(|l| l.service == b)
            .and_then(|l| l.status.as_deref());
        checks.expect(status == Some("running"), || {
            format!("B reads {} after A stopped", status.unwrap_or("<none>"))
        });
    }
    checks.done()
}

fn c4(obs: &Observations) -> Judged {
    let Some(created) = &obs.create_c else {
        return skip(obs.skip_reason("creating C on A's port"));
    };
    let mut checks = Checks::new();
    if let Err(err) = created {
        checks.problem(format!(
            "a service on A's freed port could not be created: {err}"
        ));
    }
    if let Some(start) = &obs.start_c {
        checks.succeeded("start of C on A's port", start);
    }
    if let Some(ms) = obs.reuse_ms {
        checks.figure("reuse_ms", ms);
    }
    if let Some(health) = &obs.c_health {
        checks.read_back(format!(
            "C's engine on A's port: /health -> {}",
            answer_text(health)
        ));
        checks.expect(health == &Ok(200), || {
            "C's engine does not answer 200".into()
        });
    }
    checks.done()
}

fn c5(obs: &Observations) -> Judged {
    if obs.args.len() < 2 {
        return skip(obs.skip_reason("reading both containers' arguments"));
    }
    let mut checks = Checks::new();
    for seen in &obs.args {
        let (service, own) = (&seen.service, &seen.own);
        match &seen.container {
            Ok(args) => {
                checks.read_back(format!(
                    "{service}: container arguments {args:?} (created with -- {})",
                    own.join(" ")
                ));
                checks.expect(args.ends_with(own), || {
                    format!("{service}'s container does not end with its own arguments {own:?}")
                });
            }
            Err(e) => {
                checks.problem(format!("{service}: cannot read its container: {e}"));
            }
        }
    }
    checks.expect(obs.args[0].container != obs.args[1].container, || {
        "both containers got the same arguments".into()
    });
    checks.done()
}
