//! Judging scenario 24 from its observations.

use crate::scenario::judging::{Checks, Judged, Observed, results, skip};
use crate::verdict::CriterionResult;

use super::criteria::CRITERIA;
use super::steps::Observations;

/// aima's documented exit code for a GPU held by another service.
const EXIT_GPU_IN_USE: i32 = 12;
/// A refusal slower than this is not "at once".
const REFUSAL_BOUND_MS: u64 = 10_000;

pub fn judge(obs: &Observations) -> Vec<CriterionResult> {
    results(&CRITERIA, vec![c1(obs), c2(obs), c3(obs)])
}

fn c1(obs: &Observations) -> Judged {
    let (Some(holder), Some(first), Some(second), Some(left)) = (
        &obs.holder,
        &obs.holder_start,
        &obs.contender_start,
        &obs.contender_left,
    ) else {
        return skip(obs.skip_reason("the two starts on GPU 0"));
    };
    let mut checks = Checks::new();
    checks.succeeded("the first start on GPU 0", first);
    checks.failed("the second start on GPU 0", second);
    checks.figure("gpu_refusal_ms", second.duration_ms);
    checks.expect(second.exit_code == Some(EXIT_GPU_IN_USE), || {
        format!(
            "{}, expected exit {EXIT_GPU_IN_USE} (GPU in use)",
            second.outcome()
        )
    });
    checks.expect(second.stderr.contains(holder.as_str()), || {
        format!("the error does not name {holder}")
    });
    checks.expect(second.duration_ms < REFUSAL_BOUND_MS, || {
        format!(
            "took {}ms, more than {REFUSAL_BOUND_MS}ms",
            second.duration_ms
        )
    });
    checks.docker(left.iter().map(|c| c.line()));
    checks.expect(left.is_empty(), || {
        format!("{} container(s) of the refused service exist", left.len())
    });
    checks.done()
}

fn c2(obs: &Observations) -> Judged {
    if obs.missing.is_empty() && obs.gpus == 1 {
        return skip("this host has one GPU: services on different GPUs need two");
    }
    let (Some(first), Some(other)) = (&obs.holder_start, &obs.other_start) else {
        return skip(obs.skip_reason("the start on GPU 1"));
    };
    let mut checks = Checks::new();
    checks.succeeded("the start on GPU 0", first);
    checks.succeeded("the start on GPU 1 while GPU 0 is held", other);
    checks.done()
}

fn c3(obs: &Observations) -> Judged {
    let Some(host) = &obs.holder_host else {
        return skip(obs.skip_reason("the inspection of the holder"));
    };
    let mut checks = Checks::new();
    match host {
        Ok(host) => {
            let requests = &host["DeviceRequests"];
            checks.read_back(format!("docker inspect: DeviceRequests {requests}"));
            let one = requests.as_array().filter(|r| r.len() == 1).map(|r| &r[0]);
            let exact = one.is_some_and(|r| {
                (r["Driver"] == "nvidia" && r["DeviceIDs"] == serde_json::json!(["0"]))
                    || (r["Driver"] == "cdi"
                        && r["DeviceIDs"] == serde_json::json!(["nvidia.com/gpu=0"]))
            });
            checks.expect(exact, || {
                format!("DeviceRequests {requests}, expected exactly device 0")
            });
        }
        Err(err) => {
            checks.problem(format!("the container could not be inspected: {err}"));
        }
    }
    checks.done()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Verdict;

    #[test]
    fn a_host_without_a_gpu_skips_every_criterion_with_the_reason() {
        let obs = Observations {
            missing: vec!["this host has no GPU: docker info reports no NVIDIA runtime".into()],
            ..Observations::default()
        };
        for result in judge(&obs) {
            match result.verdict {
                Verdict::Skip(why) => assert!(why.contains("no GPU"), "{why}"),
                other => panic!("{}: {other:?}", result.id),
            }
        }
    }
}
