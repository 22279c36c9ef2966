//! Judging scenario 2 from its observations.

use serde_json::Value;

use crate::scenario::aima_ops::answer_text;
use crate::scenario::judging::{Checks, Judged, Observed, results, skip};
use crate::verdict::CriterionResult;

use super::criteria::CRITERIA;
use super::steps::{HF_REPO, Observations, Served};

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

fn c1(obs: &Observations) -> Judged {
    let (Some(dir), Some(file)) = (&obs.model_dir, &obs.model_file) else {
        return skip(obs.skip_reason("model registration"));
    };
    let mut checks = Checks::new();
    checks.succeeded("model create from a directory", dir);
    checks.succeeded("model create from a .gguf file", file);
    for record in [dir, file] {
        if let Ok(v) = serde_json::from_str::<Value>(&record.stdout) {
            checks.read_back(format!("stored path {}", v["path"]));
        }
    }
    checks.done()
}

/// Every service that was served, or a skip when none was.
fn each(obs: &Observations, what: &str, check: impl Fn(&mut Checks, &Served)) -> Judged {
    if obs.served.is_empty() {
        return skip(obs.skip_reason(what));
    }
    let mut checks = Checks::new();
    checks.note(format!("image {}", obs.image));
    for s in &obs.served {
        check(&mut checks, s);
    }
    checks.done()
}

fn c2(obs: &Observations) -> Judged {
    each(obs, "serving", |checks, s| {
        let Some(start) = &s.start else {
            checks.problem(format!("{}: the service was not created", s.label));
            return;
        };
        checks.succeeded(&format!("{}: service start --wait", s.label), start);
        checks.figure(
            &format!("{}_start_to_healthy_ms", s.label),
            start.duration_ms,
        );
        let status = s.status.as_deref().unwrap_or("<unread>");
        checks.read_back(format!("{}: status {status}", s.label));
        checks.expect(status == "running", || {
            format!("{}: status {status}, expected running", s.label)
        });
        let health = s.health.clone().unwrap_or(Err("not asked".into()));
        checks.read_back(format!(
            "{}: GET /health on port {} -> {}",
            s.label,
            s.port,
            answer_text(&health)
        ));
        checks.expect(health == Ok(200), || {
            format!("{}: /health answered {}", s.label, answer_text(&health))
        });
    })
}

fn c3(obs: &Observations) -> Judged {
    each(obs, "the chat through aima", |checks, s| {
        let Some(chat) = &s.chat else {
            checks.problem(format!("{}: no chat was sent", s.label));
            return;
        };
        checks.succeeded(&format!("{}: aima inference chat", s.label), chat);
        let answer = s.chat_answer.as_ref();
        let content = answer
            .and_then(|a| a["content"].as_str())
            .unwrap_or_default();
        checks.read_back(format!("{}: answer {content:?}", s.label));
        checks.expect(!content.is_empty(), || {
            format!("{}: the answer has no content", s.label)
        });
        if let Some(ms) = answer.and_then(|a| a["latency_ms"].as_u64()) {
            checks.figure(&format!("{}_chat_latency_ms", s.label), ms);
        }
    })
}

fn c4(obs: &Observations) -> Judged {
    each(obs, "the OpenAI client", |checks, s| {
        let Some(client) = &s.openai else {
            checks.problem(format!("{}: the OpenAI client did not run", s.label));
            return;
        };
        checks.succeeded(&format!("{}: OpenAI client", s.label), client);
        let out: Option<Value> = client
            .stdout
            .lines()
            .last()
            .and_then(|l| serde_json::from_str(l).ok());
        let Some(out) = out else {
            checks.problem(format!(
                "{}: the client printed no result: {}",
                s.label,
                client.stderr.trim()
            ));
            return;
        };
        checks.read_back(format!("{}: OpenAI client -> {out}", s.label));
        let whole = out["whole"].as_str().unwrap_or_default();
        checks.expect(!whole.is_empty(), || {
            format!("{}: the whole completion is empty", s.label)
        });
        let chunks = out["stream_chunks"].as_u64().unwrap_or(0);
        checks.expect(chunks > 0, || {
            format!("{}: the streamed completion had no content chunks", s.label)
        });
        if let Some(ms) = out["whole_ms"].as_u64() {
            checks.figure(&format!("{}_openai_chat_ms", s.label), ms);
        }
    })
}

fn c5(obs: &Observations) -> Judged {
    each(obs, "stopping", |checks, s| {
        let Some(stop) = &s.stop else {
            checks.problem(format!("{}: the service was not stopped", s.label));
            return;
        };
        checks.succeeded(&format!("{}: service stop", s.label), stop);
        checks.docker(
            s.left_after_stop
                .iter()
                .map(|c| format!("{}: left {c}", s.label)),
        );
        checks.expect(s.left_after_stop.is_empty(), || {
            format!(
                "{}: containers left after the stop: {}",
                s.label,
                s.left_after_stop.join(", ")
            )
        });
        let port = s.port_free_after_stop.as_deref().unwrap_or("not checked");
        checks.read_back(format!(
            "{}: port {} after the stop: {port}",
            s.label, s.port
        ));
        checks.expect(port == "free", || {
            format!("{}: port {} is not free: {port}", s.label, s.port)
        });
    })
}

fn c6(obs: &Observations) -> Judged {
    let Some(start) = &obs.bad_start else {
        return skip(obs.skip_reason("the invalid model's start"));
    };
    let mut checks = Checks::new();
    checks.failed("service start of the invalid GGUF", start);
    let attempts = obs
        .bad_record
        .as_ref()
        .and_then(|r| r["attempts"].as_array().cloned())
        .unwrap_or_default();
    checks.read_back(format!("{} attempt(s) recorded", attempts.len()));
    checks.expect(attempts.len() == 1, || {
        format!(
            "{} attempts: an invalid model must fail once",
            attempts.len()
        )
    });
    let reason = attempts
        .first()
        .and_then(|a| a["reason"].as_str())
        .unwrap_or_default()
        .to_owned();
    checks.read_back(format!("reason: {reason}"));
    let lower = reason.to_ascii_lowercase();
    // The engine's own line naming the cause (the file is not GGUF), not its closing summary.
    checks.expect(lower.contains("gguf") || lower.contains("magic"), || {
        format!("the reason does not name the cause: {reason:?}")
    });
    checks.expect(!lower.contains("exiting due to"), || {
        format!("the reason is the engine's summary line, not the cause: {reason:?}")
    });
    checks.expect(reason.contains("bad/broken.gguf"), || {
        format!("the reason does not name the model file bad/broken.gguf: {reason:?}")
    });
    checks.docker(obs.bad_left.iter().map(|c| format!("left {c}")));
    checks.expect(obs.bad_left.is_empty(), || {
        format!("containers left: {}", obs.bad_left.join(", "))
    });
    checks.done()
}

fn c7(obs: &Observations) -> Judged {
    let (Some(refused), Some(create), Some(start)) =
        (&obs.repo_refused, &obs.hf_create, &obs.hf_start)
    else {
        return skip(obs.skip_reason("the repository services"));
    };
    let mut checks = Checks::new();
    // A repository id llama.cpp cannot take is refused at create, saying why.
    checks.command(refused);
    checks.expect(refused.exit_code == Some(2), || {
        format!(
            "service create of repository tinyllama: {}, expected exit 2",
            refused.outcome()
        )
    });
    checks.expect(
        refused.stderr.contains("Hugging Face repository id"),
        || format!("the refusal does not say why: {}", refused.stderr.trim()),
    );
    // An `owner/name` one is created and handed to the engine, which fetches it itself (-hf).
    checks.succeeded(&format!("service create of repository {HF_REPO}"), create);
    checks.failed(&format!("service start of repository {HF_REPO}"), start);
    checks.expect(
        start.stderr.contains("(-hf)") && start.stderr.contains("network"),
        || {
            "the start did not say that llama.cpp downloads the repository itself over the network"
                .to_owned()
        },
    );
    let attempts = obs
        .hf_record
        .as_ref()
        .and_then(|r| r["attempts"].as_array().cloned())
        .unwrap_or_default();
    let first = attempts.first().cloned().unwrap_or_default();
    let tail: Vec<&str> = first["log_tail"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let named = tail.iter().find(|l| l.contains(HF_REPO));
    checks.read_back(format!(
        "engine line naming the repository: {}",
        named.copied().unwrap_or("<none>")
    ));
    checks.expect(named.is_some(), || {
        format!("the engine's log never names {HF_REPO}: it was not asked for it")
    });
    let code = first["code"].as_str().unwrap_or_default();
    checks.read_back(format!(
        "{} attempt(s), code {code}, reason: {}",
        attempts.len(),
        first["reason"].as_str().unwrap_or_default()
    ));
    checks.expect(attempts.len() == 1 && code == "repository_unavailable", || {
        format!(
            "{} attempt(s) with code {code:?}: an unreachable repository must fail once as repository_unavailable",
            attempts.len()
        )
    });
    checks.docker(obs.hf_left.iter().map(|c| format!("left {c}")));
    checks.expect(obs.hf_left.is_empty(), || {
        format!("containers left: {}", obs.hf_left.join(", "))
    });
    checks.done()
}

fn c8(obs: &Observations) -> Judged {
    if obs.contexts.iter().all(|s| s.create.is_none()) {
        return skip(obs.skip_reason("two services with their own --ctx-size"));
    }
    let mut checks = Checks::new();
    for s in &obs.contexts {
        let what = format!("ctx-size {}", s.asked);
        let (Some(create), Some(start)) = (&s.create, &s.start) else {
            checks.problem(format!("{what}: the service was not created"));
            continue;
        };
        checks.succeeded(&format!("{what}: service create --arg"), create);
        checks.succeeded(&format!("{what}: service start --wait"), start);
        match &s.reported {
            Some(Ok(n)) => {
                checks.read_back(format!("{what}: /props n_ctx {n}"));
                checks.expect(*n == s.asked, || {
                    format!(
                        "{what}: the server reports n_ctx {n}, not the {} asked",
                        s.asked
                    )
                });
            }
            Some(Err(e)) => {
                checks.problem(format!("{what}: {e}"));
            }
            None => {
                checks.problem(format!("{what}: /props was not read"));
            }
        }
        if let Some(stop) = &s.stop {
            checks.succeeded(&format!("{what}: service stop"), stop);
        }
        checks.expect(s.left.is_empty(), || {
            format!("{what}: containers left after the stop: {:?}", s.left)
        });
    }
    checks.done()
}
