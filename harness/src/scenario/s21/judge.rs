//! Judging scenario 21 from its observations.

use crate::scenario::aima_ops::answer_text;
use crate::scenario::judging::{Checks, Judged, Observed, results, skip};
use crate::verdict::CriterionResult;

use super::criteria::CRITERIA;
use super::steps::{LOAD_SECS, Observations, PROBE_BOUND_MS, PROMPT_MARGIN_MS, SHORT_TIMEOUT};

/// aima's documented exit code for a start that timed out.
const EXIT_TIMEOUT: i32 = 8;

pub fn judge(obs: &Observations) -> Vec<CriterionResult> {
    results(&CRITERIA, vec![c1(obs), c2(obs), c3(obs), c4(obs)])
}

fn c1(obs: &Observations) -> Judged {
    let Some(start) = &obs.short_start else {
        return skip(obs.skip_reason("the short-timeout start"));
    };
    let mut checks = Checks::new();
    checks.failed("the start with --timeout 3", start);
    checks.figure("timeout_fail_ms", start.duration_ms);
    checks.note(format!(
        "engine loads for {LOAD_SECS}s; --timeout {SHORT_TIMEOUT}"
    ));
    checks.expect(start.exit_code == Some(EXIT_TIMEOUT), || {
        format!(
            "{}, expected exit {EXIT_TIMEOUT} (timeout)",
            start.outcome()
        )
    });
    let bound = SHORT_TIMEOUT * 1000 + PROMPT_MARGIN_MS;
    checks.expect(start.duration_ms <= bound, || {
        format!("took {}ms, more than {bound}ms", start.duration_ms)
    });
    checks.expect(
        start.all_output().to_lowercase().contains("timeout")
            || start.all_output().to_lowercase().contains("timed out"),
        || "the message does not say the start timed out".into(),
    );
    checks.done()
}

fn c2(obs: &Observations) -> Judged {
    let Some(read) = &obs.after_short else {
        return skip(obs.skip_reason("the read-back after the timeout"));
    };
    let mut checks = Checks::new();
    checks.command(&read.list).read_back(read.line());
    checks.expect(read.status.as_deref() == Some("failed"), || {
        format!(
            "status {}, expected failed",
            read.status.as_deref().unwrap_or("<not found>")
        )
    });
    checks.docker(obs.left_after_short.iter().map(|c| c.line()));
    checks.expect(obs.left_after_short.is_empty(), || {
        format!(
            "{} container(s) of the service remain",
            obs.left_after_short.len()
        )
    });
    checks.done()
}

fn c3(obs: &Observations) -> Judged {
    let (Some(retry), Some(read)) = (&obs.retry, &obs.after_retry) else {
        return skip(obs.skip_reason("the retry"));
    };
    let mut checks = Checks::new();
    checks.succeeded("the retry with --timeout 60", retry);
    checks.figure("retry_start_ms", retry.duration_ms);
    checks.command(&read.list).read_back(read.line());
    checks.expect(read.status.as_deref() == Some("running"), || {
        format!(
            "status {}, expected running",
            read.status.as_deref().unwrap_or("<not found>")
        )
    });
    if let Some(health) = &obs.retry_health {
        checks.read_back(format!(
            "engine /health after the retry -> {}",
            answer_text(health)
        ));
        checks.expect(health == &Ok(200), || {
            "the engine does not answer 200".into()
        });
    }
    checks.done()
}

fn c4(obs: &Observations) -> Judged {
    let Some((answer, took)) = &obs.api_start else {
        return skip(obs.skip_reason("the long start through the API"));
    };
    let mut checks = Checks::new();
    checks.figure("long_start_ms", *took);
    checks.service_reply("the long start", "POST …/start (wait)", answer, "running");
    let mut latencies: Vec<u64> = obs.probes.iter().map(|p| p.elapsed_ms).collect();
    latencies.sort_unstable();
    checks.figure("probes", latencies.len() as u64);
    if let (Some(max), Some(median)) = (
        latencies.last(),
        latencies.get((latencies.len().max(1) - 1) / 2),
    ) {
        checks.figure("probe_median_ms", *median);
        checks.figure("probe_max_ms", *max);
    }
    checks.expect(latencies.len() >= 4, || {
        format!("only {} probe(s) ran during the start", latencies.len())
    });
    for probe in &obs.probes {
        let ok = probe.answer == Ok(200) && probe.elapsed_ms < PROBE_BOUND_MS;
        checks.expect(ok, || {
            format!(
                "GET {} -> {} after {}ms",
                probe.path,
                answer_text(&probe.answer),
                probe.elapsed_ms
            )
        });
    }
    checks.done()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::CommandRecord;
    use crate::fixtures::http::HttpReply;
    use crate::scenario::aima_ops::StatusRead;

    use super::super::steps::Probe;

    fn read(status: &str) -> Option<StatusRead> {
        Some(StatusRead {
            service: "svc-1".into(),
            list: CommandRecord::invented(Some(0), "", 5),
            status: Some(status.into()),
        })
    }

    fn healthy() -> Observations {
        let mut short = CommandRecord::invented(Some(8), "", 3_400);
        short.stderr = "error: the engine was not healthy within the 3 s timeout".into();
        let answer = HttpReply {
            status: 200,
            headers: vec![],
            body: r#"{"status":"running"}"#.into(),
            elapsed_ms: 8_000,
        };
        Observations {
            short_start: Some(short),
            after_short: read("failed"),
            retry: Some(CommandRecord::invented(Some(0), "", 8_500)),
            after_retry: read("running"),
            retry_health: Some(Ok(200)),
            api_start: Some((Ok(answer), 8_600)),
            probes: (0..8)
                .map(|_| Probe {
                    path: "/api/v2/health",
                    answer: Ok(200),
                    elapsed_ms: 20,
                })
                .collect(),
            ..Observations::default()
        }
    }

    fn passes(obs: &Observations) -> Vec<bool> {
        judge(obs).iter().map(|r| r.verdict.is_pass()).collect()
    }

    #[test]
    fn a_slow_or_wrong_timeout_and_a_stalled_daemon_fail_their_criteria() {
        assert_eq!(passes(&healthy()), [true; 4]);
        let mut late = healthy();
        late.short_start = Some(CommandRecord::invented(Some(7), "timeout", 12_000));
        late.after_short = read("starting");
        assert_eq!(passes(&late), [false, false, true, true]);
        let mut stalled = healthy();
        stalled.probes[3].answer = Err("timed out".into());
        stalled.probes[3].elapsed_ms = PROBE_BOUND_MS;
        assert_eq!(passes(&stalled), [true, true, true, false]);
    }
}
