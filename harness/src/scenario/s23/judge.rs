//! Judging scenario 23 from its observations.

use serde_json::Value;

use crate::fixtures::http::HttpReply;
use crate::scenario::judging::{Checks, Judged, Observed, results, skip};
use crate::verdict::CriterionResult;

use super::criteria::CRITERIA;
use super::steps::{
    ALLOC_MIB, GPU, Observations, REFUSAL_BOUND_MS, ROOMY_BYTES, START_TIMEOUT, TIGHT, TIGHT_BYTES,
};

pub fn judge(obs: &Observations) -> Vec<CriterionResult> {
    results(&CRITERIA, vec![c1(obs), c2(obs), c3(obs), c4(obs)])
}

/// The reply, or the problem of not having one.
fn answered<'a>(
    checks: &mut Checks,
    what: &str,
    reply: &'a Result<HttpReply, String>,
) -> Option<&'a HttpReply> {
    match reply {
        Ok(reply) => {
            checks.read_back(format!("{what} -> {}", reply.summary()));
            Some(reply)
        }
        Err(err) => {
            checks.problem(format!("{what} got no answer: {err}"));
            None
        }
    }
}

fn body(reply: &HttpReply) -> Value {
    reply.json().unwrap_or(Value::Null)
}

fn c1(obs: &Observations) -> Judged {
    let (Some(start), Some(read)) = (&obs.tight_start, &obs.tight_read) else {
        return skip(obs.skip_reason("the start past the memory limit"));
    };
    let mut checks = Checks::new();
    checks.note(format!("engine writes {ALLOC_MIB} MiB; --memory {TIGHT}"));
    if let Some(reply) = answered(&mut checks, "POST …/start (wait)", start) {
        checks.figure("oom_fail_ms", reply.elapsed_ms);
        let error = &body(reply)["error"];
        let message = error["message"].as_str().unwrap_or_default();
        checks.expect(!(200..300).contains(&reply.status), || {
            format!("the start answered {}, expected an error", reply.status)
        });
        checks.expect(error["code"] == "start_failed", || {
            format!(
                "error code {}, expected start_failed (exit 7)",
                error["code"]
            )
        });
        checks.expect(
            message.contains("out of memory") && message.contains(TIGHT),
            || format!("the message does not say out of memory at {TIGHT}: {message:?}"),
        );
        checks.expect(reply.elapsed_ms < START_TIMEOUT * 1000, || {
            format!(
                "took {}ms: the start ran into its {START_TIMEOUT}s timeout",
                reply.elapsed_ms
            )
        });
    }
    if let Some(reply) = answered(&mut checks, "GET the service", read) {
        let svc = body(reply);
        let attempts = svc["attempts"].as_array().cloned().unwrap_or_default();
        checks.expect(svc["status"] == "failed", || {
            format!("status {}, expected failed", svc["status"])
        });
        checks.expect(attempts.len() == 1, || {
            format!(
                "{} attempt(s): out of memory must not be retried",
                attempts.len()
            )
        });
        checks.expect(
            attempts.iter().all(|a| a["code"] == "out_of_memory"),
            || {
                format!(
                    "attempt codes {:?}, expected out_of_memory",
                    attempts
                        .iter()
                        .map(|a| a["code"].to_string())
                        .collect::<Vec<_>>()
                )
            },
        );
        checks.expect(svc["memory_bytes"] == TIGHT_BYTES, || {
            format!(
                "memory_bytes {}, expected {TIGHT_BYTES}",
                svc["memory_bytes"]
            )
        });
    }
    checks.done()
}

fn c2(obs: &Observations) -> Judged {
    let Some(left) = &obs.tight_left else {
        return skip(obs.skip_reason("the container count after the out-of-memory start"));
    };
    let mut checks = Checks::new();
    checks.docker(left.iter().map(|c| c.line()));
    checks.expect(left.is_empty(), || {
        format!("{} container(s) of the service remain", left.len())
    });
    checks.done()
}

fn c3(obs: &Observations) -> Judged {
    let (Some(start), Some(host)) = (&obs.roomy_start, &obs.roomy_host) else {
        return skip(obs.skip_reason("the start within the memory limit"));
    };
    let mut checks = Checks::new();
    if let Some(reply) = answered(&mut checks, "POST …/start (wait)", start) {
        checks.expect(
            reply.status == 200 && body(reply)["status"] == "running",
            || {
                format!(
                    "the start answered {}, expected 200 with status running",
                    reply.status
                )
            },
        );
    }
    match host {
        Ok(host) => {
            checks.read_back(format!(
                "docker inspect: Memory {} MemorySwap {} DeviceRequests {}",
                host["Memory"], host["MemorySwap"], host["DeviceRequests"]
            ));
            checks.expect(host["Memory"] == ROOMY_BYTES, || {
                format!("Memory {}, expected {ROOMY_BYTES}", host["Memory"])
            });
            checks.expect(host["MemorySwap"] == ROOMY_BYTES, || {
                format!(
                    "MemorySwap {}, expected {ROOMY_BYTES} (no swap beyond the limit)",
                    host["MemorySwap"]
                )
            });
            let requests = &host["DeviceRequests"];
            checks.expect(
                requests.is_null() || requests.as_array().is_some_and(Vec::is_empty),
                || format!("DeviceRequests {requests}, expected none for --gpus none"),
            );
        }
        Err(err) => {
            checks.problem(format!("the container could not be inspected: {err}"));
        }
    }
    checks.done()
}

fn c4(obs: &Observations) -> Judged {
    if let Some(path) = &obs.gpu_path {
        return skip(format!(
            "Docker offers GPUs on this host ({path}): a refusal for lack of GPUs cannot be judged here; scenario 24 covers real GPUs"
        ));
    }
    let (Some(start), Some(read), Some(left)) = (&obs.gpu_start, &obs.gpu_read, &obs.gpu_left)
    else {
        return skip(obs.skip_reason("the start needing a GPU"));
    };
    let mut checks = Checks::new();
    checks.note("docker info reports no NVIDIA runtime and no CDI spec directories");
    if let Some(reply) = answered(&mut checks, "POST …/start (wait)", start) {
        checks.figure("gpu_refusal_ms", reply.elapsed_ms);
        let error = &body(reply)["error"];
        let message = error["message"].as_str().unwrap_or_default();
        let help = error["help"].as_str().unwrap_or_default();
        checks.expect(!(200..300).contains(&reply.status), || {
            format!("the start answered {}, expected a refusal", reply.status)
        });
        checks.expect(message.contains("GPU"), || {
            format!("the message does not name GPUs: {message:?}")
        });
        checks.expect(help.contains("--gpus"), || {
            format!("the help does not say how to run without: {help:?}")
        });
        checks.expect(reply.elapsed_ms < REFUSAL_BOUND_MS, || {
            format!(
                "took {}ms, more than {REFUSAL_BOUND_MS}ms",
                reply.elapsed_ms
            )
        });
    }
    if let Some(reply) = answered(&mut checks, "GET the service", read) {
        let svc = body(reply);
        checks.expect(svc["gpus"] == GPU, || {
            format!("gpus {}, expected {GPU:?}", svc["gpus"])
        });
        checks.expect(svc["status"] == "failed", || {
            format!("status {}, expected failed", svc["status"])
        });
        let phases: Vec<String> = svc["attempts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| a["phase"].as_str().unwrap_or("?").to_owned())
            .collect();
        checks.expect(phases == ["preflight"], || {
            format!("attempt phases {phases:?}, expected one refusal in preflight")
        });
    }
    checks.docker(left.iter().map(|c| c.line()));
    checks.expect(left.is_empty(), || {
        format!("{} container(s) of the GPU service exist", left.len())
    });
    checks.done()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reply(status: u16, body: Value, elapsed_ms: u64) -> Option<Result<HttpReply, String>> {
        Some(Ok(HttpReply {
            status,
            headers: vec![],
            body: body.to_string(),
            elapsed_ms,
        }))
    }

    fn healthy() -> Observations {
        let oom = json!({"error": {"code": "start_failed",
            "message": "cannot start service svc-1: out of memory: the kernel's OOM killer stopped the engine at its memory limit of 64m (exit code 137)"}});
        let failed = json!({"status": "failed", "memory_bytes": TIGHT_BYTES,
            "attempts": [{"code": "out_of_memory", "phase": "health"}]});
        let refused = json!({"error": {"code": "start_failed",
            "message": "cannot start service svc-3: this service asks for GPUs (0), but Docker has no usable GPU path",
            "help": "… create the service with --gpus none …"}});
        let gpu_failed =
            json!({"status": "failed", "gpus": "0", "attempts": [{"phase": "preflight"}]});
        Observations {
            tight_start: reply(502, oom, 2_000),
            tight_read: reply(200, failed, 5),
            tight_left: Some(vec![]),
            roomy_start: reply(200, json!({"status": "running"}), 2_500),
            roomy_host: Some(Ok(
                json!({"Memory": ROOMY_BYTES, "MemorySwap": ROOMY_BYTES, "DeviceRequests": null}),
            )),
            roomy_read: reply(200, json!({"status": "running"}), 5),
            gpu_path: None,
            gpu_start: reply(502, refused, 40),
            gpu_read: reply(200, gpu_failed, 5),
            gpu_left: Some(vec![]),
            ..Observations::default()
        }
    }

    fn passes(obs: &Observations) -> Vec<bool> {
        judge(obs).iter().map(|r| r.verdict.is_pass()).collect()
    }

    #[test]
    fn a_retried_or_ignored_limit_and_a_late_gpu_refusal_fail_their_criteria() {
        assert_eq!(passes(&healthy()), [true; 4]);

        let mut timed_out = healthy();
        timed_out.tight_start = reply(
            504,
            json!({"error": {"code": "timeout", "message": "not healthy within 60s"}}),
            60_500,
        );
        timed_out.tight_read = reply(
            200,
            json!({"status": "failed", "memory_bytes": TIGHT_BYTES, "attempts": [{"code": "timeout"}]}),
            5,
        );
        assert_eq!(passes(&timed_out), [false, true, true, true]);

        let mut ignored = healthy();
        ignored.roomy_host = Some(Ok(
            json!({"Memory": 0, "MemorySwap": 0, "DeviceRequests": null}),
        ));
        assert_eq!(passes(&ignored), [true, true, false, true]);

        let mut leaky = healthy();
        leaky.gpu_left = Some(vec![Default::default()]);
        leaky.tight_left = Some(vec![Default::default()]);
        assert_eq!(passes(&leaky), [true, false, true, false]);
    }

    #[test]
    fn a_host_with_gpus_skips_the_refusal_rather_than_passing_it() {
        let mut obs = healthy();
        obs.gpu_path = Some("runtime nvidia".into());
        let results = judge(&obs);
        assert!(matches!(
            results[3].verdict,
            crate::verdict::Verdict::Skip(_)
        ));
    }
}
