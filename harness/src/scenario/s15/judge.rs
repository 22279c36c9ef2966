//! Judging scenario 15 from its observations.

use crate::fixtures::http::HttpReply;
use crate::scenario::judging::{Checks, Judged, Observed, results, skip};
use crate::verdict::CriterionResult;

use super::criteria::CRITERIA;
use super::hostile::{FLOOD, SERVED_WITHIN, STOPPED_WITHIN};
use super::steps::Observations;

pub fn judge(obs: &Observations) -> Vec<CriterionResult> {
    results(
        &CRITERIA,
        vec![
            c1(obs),
            c2(obs),
            c3(obs),
            c4(obs),
            c5(obs),
            c6(obs),
            c7(obs),
            c8(obs),
        ],
    )
}

fn answer(reply: &Result<HttpReply, String>) -> String {
    match reply {
        Ok(reply) => reply.summary(),
        Err(err) => format!("no answer ({err})"),
    }
}

fn status(reply: &Result<HttpReply, String>) -> Option<u16> {
    reply.as_ref().ok().map(|r| r.status)
}

fn c1(obs: &Observations) -> Judged {
    let (Some(mode), Some(without), Some(with)) = (
        &obs.generated_mode,
        &obs.generated_without,
        &obs.generated_with,
    ) else {
        return skip(obs.skip_reason("the daemon with no token configured"));
    };
    let mut checks = Checks::new();
    match mode {
        Ok(mode) => {
            checks.read_back(format!("api-token file mode {mode:03o}"));
            checks.expect(*mode & 0o077 == 0, || {
                format!("the generated token file is readable by others (mode {mode:03o})")
            });
        }
        Err(err) => {
            checks.problem(format!("no generated token file: {err}"));
        }
    }
    checks.read_back(format!(
        "GET /api/v2/models without a token -> {}",
        answer(without)
    ));
    checks.expect(status(without) == Some(401), || {
        format!("without a token: {}, expected 401", answer(without))
    });
    checks.read_back(format!(
        "GET /api/v2/models with the generated token -> {}",
        answer(with)
    ));
    checks.expect(status(with) == Some(200), || {
        format!("with the generated token: {}, expected 200", answer(with))
    });
    checks.done()
}

fn c6(obs: &Observations) -> Judged {
    if obs.open.is_empty() {
        return skip(obs.skip_reason("the daemon that opted out of tokens"));
    }
    let mut checks = Checks::new();
    for (request, reply) in &obs.open {
        checks.read_back(format!("{request} (no token) -> {}", answer(reply)));
        checks.expect(status(reply) == Some(200), || {
            format!("{request} without a token was not served although the operator opted out")
        });
    }
    checks.done()
}

fn c2(obs: &Observations) -> Judged {
    if obs.guarded.is_empty() {
        return skip(obs.skip_reason("the daemon with a token"));
    }
    let mut checks = Checks::new();
    for g in &obs.guarded {
        for (how, reply) in [
            ("without the token", &g.without),
            ("with a wrong token", &g.wrong),
        ] {
            checks.read_back(format!("{} {how} -> {}", g.request, answer(reply)));
            checks.expect(status(reply) == Some(401), || {
                format!(
                    "{} {how} answered {}, expected 401",
                    g.request,
                    answer(reply)
                )
            });
            let coded = reply
                .as_ref()
                .ok()
                .and_then(HttpReply::error_code)
                .is_some();
            checks.expect(coded, || format!("{} {how}: no JSON error code", g.request));
        }
    }
    if let Some(health) = &obs.health_without {
        checks.read_back(format!(
            "GET /api/v2/health without the token -> {}",
            answer(health)
        ));
        checks.expect(status(health) == Some(200), || {
            "health needs the token".into()
        });
    }
    match (obs.models_before, obs.models_after) {
        (Some(before), Some(after)) => {
            checks.read_back(format!(
                "models before the refused creations: {before}, after all three tries: {after}"
            ));
            checks.expect(after == before + 1, || {
                format!(
                    "{} model(s) were created by three tries of which two lacked the token",
                    after - before.min(after)
                )
            });
        }
        _ => {
            checks.problem("the model count could not be read");
        }
    }
    checks.done()
}

fn c3(obs: &Observations) -> Judged {
    if obs.guarded.is_empty() {
        return skip(obs.skip_reason("the daemon with a token"));
    }
    let mut checks = Checks::new();
    checks.expect(obs.guarded.len() == 10, || {
        format!("{} of 10 routes were tried", obs.guarded.len())
    });
    for g in &obs.guarded {
        checks.read_back(format!(
            "{} with the token -> {}",
            g.request,
            answer(&g.with)
        ));
        checks.expect(status(&g.with) == Some(g.expected), || {
            format!(
                "{} with the token answered {}, expected {}",
                g.request,
                answer(&g.with),
                g.expected
            )
        });
    }
    checks.done()
}

fn c4(obs: &Observations) -> Judged {
    let Some(record) = &obs.exposed else {
        return skip(obs.skip_reason("the exposed start"));
    };
    let mut checks = Checks::new();
    checks.failed("aima start --listen 0.0.0.0:P opted out of tokens", record);
    let text = record.all_output().to_lowercase();
    checks.expect(text.contains("token"), || {
        "the refusal does not mention the token".into()
    });
    checks.done()
}

fn c5(obs: &Observations) -> Judged {
    let mut checks = Checks::new();
    checks.figure("log_files_searched", obs.searched as u64);
    checks.expect(obs.searched > 0, || "no log file was searched".into());
    for leak in &obs.leaks {
        checks.problem(format!("the token appears in {leak}"));
    }
    checks.done()
}

fn c7(obs: &Observations) -> Judged {
    let Some(flood) = &obs.flood else {
        return skip(obs.skip_reason("the sign-in flood"));
    };
    let mut checks = Checks::new();
    checks.figure("unfinished_sign_ins", flood.opened as u64);
    checks.figure("sign_ins_answered_at_once", flood.answered.len() as u64);
    checks.read_back(format!(
        "{} of {} unfinished sign-ins answered within the pause: {:?}",
        flood.answered.len(),
        flood.opened,
        flood.answered
    ));
    checks.expect(flood.opened == FLOOD, || {
        format!("only {} of {FLOOD} sign-ins could connect", flood.opened)
    });
    let within = SERVED_WITHIN.as_millis() as u64;
    for (what, reply) in &flood.beside {
        checks.read_back(format!("{what} beside the flood -> {}", answer(reply)));
        let served = reply
            .as_ref()
            .is_ok_and(|r| r.status == 200 && r.elapsed_ms <= within);
        checks.expect(served, || {
            format!(
                "{what} beside {FLOOD} unfinished sign-ins: {}, expected 200 within {within}ms",
                answer(reply)
            )
        });
    }
    checks.expect(flood.beside.len() == 3, || {
        format!(
            "{} of 3 requests were sent beside the flood",
            flood.beside.len()
        )
    });
    match flood.stop_ms {
        Some(ms) => {
            checks.figure("sigterm_exit_ms", ms);
            checks.read_back(format!(
                "SIGTERM with the flood open: {}",
                flood.stop_evidence
            ));
            let bound = STOPPED_WITHIN.as_millis() as u64;
            checks.expect(flood.stopped_cleanly && ms <= bound, || {
                format!(
                    "SIGTERM with the flood open: gone after {ms}ms (bound {bound}ms), cleanly: {}",
                    flood.stopped_cleanly
                )
            });
        }
        None => {
            checks.problem("the flooded daemon was not running when SIGTERM was due");
        }
    }
    checks.done()
}

fn c8(obs: &Observations) -> Judged {
    let Some(seen) = &obs.revocation else {
        return skip(obs.skip_reason("the status page's sign-in"));
    };
    let mut checks = Checks::new();
    let steps = [
        ("POST /login with the token", &seen.sign_in, 303),
        ("GET / with the session cookie", &seen.before, 200),
        ("POST /logout with the cookie", &seen.sign_out, 303),
        (
            "GET / with a copy of the signed-out cookie",
            &seen.copy_after,
            401,
        ),
    ];
    for (what, reply, want) in steps {
        let Some(reply) = reply else {
            checks.problem(format!("{what}: not sent (no session cookie was set)"));
            continue;
        };
        checks.read_back(format!("{what} -> {}", answer(reply)));
        checks.expect(status(reply) == Some(want), || {
            format!("{what}: {}, expected {want}", answer(reply))
        });
    }
    checks.done()
}
