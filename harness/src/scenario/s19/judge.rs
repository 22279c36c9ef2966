//! Judging scenario 19 from its observations.

use crate::scenario::aima_ops::answer_text;
use crate::scenario::judging::{Checks, Judged, Observed, results, skip};
use crate::verdict::CriterionResult;

use super::criteria::CRITERIA;
use super::steps::{Observations, RESOLVE_BOUND};

pub fn judge(obs: &Observations) -> Vec<CriterionResult> {
    results(&CRITERIA, vec![c1(obs), c2(obs), c3(obs), c4(obs)])
}

fn c1(obs: &Observations) -> Judged {
    if obs.services_after.is_empty() && obs.models_after.is_empty() {
        return skip(obs.skip_reason("the restart"));
    }
    let mut checks = Checks::new();
    if let Some(kill) = &obs.kill {
        checks.note(format!("the killed daemon {kill}"));
    }
    if let Some(ms) = obs.restart_ready_ms {
        checks.figure("restart_ready_ms", ms);
    }
    checks.read_back(format!(
        "models before: {}; after: {}",
        obs.models_before.join(", "),
        obs.models_after.join(", ")
    ));
    let show = |r: &super::steps::Records| {
        r.iter()
            .map(|(id, port)| {
                format!(
                    "{id}:{}",
                    port.map_or_else(|| "?".to_owned(), |p| p.to_string())
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    checks.read_back(format!(
        "services before: {}; after: {}",
        show(&obs.services_before),
        show(&obs.services_after)
    ));
    checks.expect(
        !obs.models_before.is_empty() && obs.services_before.len() == 3,
        || "the records before the kill were not all read".into(),
    );
    checks.expect(obs.models_before == obs.models_after, || {
        "the models differ after the restart".into()
    });
    checks.expect(obs.services_before == obs.services_after, || {
        "the services (ids and ports) differ after the restart".into()
    });
    checks.done()
}

fn c2(obs: &Observations) -> Judged {
    let (Some((service, container, port)), Some((record, state, health))) =
        (&obs.running, &obs.adopted)
    else {
        return skip(obs.skip_reason("reading the running service after the restart"));
    };
    let mut checks = Checks::new();
    let status = record["status"].as_str().unwrap_or("<none>");
    let now = record["container_id"].as_str().unwrap_or("<none>");
    checks.read_back(format!(
        "{service} after the restart: status {status}, container {now}"
    ));
    checks.read_back(format!(
        "Docker: container {} is {}",
        &container[..12.min(container.len())],
        state.as_deref().unwrap_or("gone")
    ));
    checks.read_back(format!(
        "GET 127.0.0.1:{port}/health -> {}",
        answer_text(health)
    ));
    checks.expect(status == "running", || {
        format!("{service} reads {status}, expected running")
    });
    checks.expect(now == container, || {
        "the record names another container".into()
    });
    checks.expect(state.as_deref() == Some("running"), || {
        "the engine container is not running".into()
    });
    checks.expect(health == &Ok(200), || {
        "the engine does not answer 200".into()
    });
    checks.done()
}

fn c3(obs: &Observations) -> Judged {
    let Some((reply, left)) = &obs.stop else {
        return skip(obs.skip_reason("stopping the adopted service"));
    };
    let mut checks = Checks::new();
    checks.service_reply("the stop", "POST …/stop", reply, "stopped");
    checks.docker(left.iter().cloned());
    checks.expect(left.is_empty(), || {
        format!("{} container(s) of the service remain", left.len())
    });
    checks.done()
}

fn c4(obs: &Observations) -> Judged {
    let (Some((service, _)), Some((status, resolved_ms, left))) =
        (&obs.killed_start, &obs.resolved)
    else {
        return skip(obs.skip_reason("the interrupted start"));
    };
    let mut checks = Checks::new();
    let shown = status.as_deref().unwrap_or("<unreadable>");
    checks.read_back(format!("{service} after the restart: {shown}"));
    if let Some(ms) = resolved_ms {
        checks.figure("resolve_ms", *ms);
    }
    checks.expect(status.as_deref() == Some("failed"), || {
        format!(
            "{service} reads {shown} {}s after the restart, expected failed",
            RESOLVE_BOUND.as_secs()
        )
    });
    checks.docker(left.iter().cloned());
    checks.expect(left.is_empty(), || {
        format!(
            "{} container(s) of the interrupted start remain",
            left.len()
        )
    });
    checks.done()
}
