//! Judging scenario 13 from its observations.

use crate::scenario::judging::{Checks, Judged, Observed, results, skip};
use crate::verdict::CriterionResult;

use super::criteria::CRITERIA;
use super::steps::{Exchange, Observations};

pub fn judge(obs: &Observations) -> Vec<CriterionResult> {
    let routes = if obs.routes.is_empty() {
        skip(obs.skip_reason("walking the routes"))
    } else {
        c1(obs)
    };
    results(
        &CRITERIA,
        vec![
            routes,
            refusal(obs, obs.invalid_json.as_ref(), "invalid JSON", false),
            refusal(obs, obs.unknown_route.as_ref(), "the unknown route", false),
            refusal(obs, obs.wrong_method.as_ref(), "the wrong method", true),
            refusal(obs, obs.too_large.as_ref(), "the oversized body", false),
            c6(obs),
            c7(obs),
            c8(obs),
        ],
    )
}

/// Expects the exchange's status, a JSON body and the JSON content type.
fn json_answer(checks: &mut Checks, exchange: &Exchange) {
    match &exchange.reply {
        Err(err) => {
            checks.problem(format!("{}: no answer ({err})", exchange.request));
        }
        Ok(reply) => {
            checks.read_back(format!("{} -> {}", exchange.request, reply.summary()));
            checks.expect(reply.status == exchange.expected, || {
                format!(
                    "{} answered {}, expected {}",
                    exchange.request, reply.status, exchange.expected
                )
            });
            checks.expect(reply.is_json(), || {
                format!(
                    "{} is not JSON with Content-Type application/json (content type {})",
                    exchange.request,
                    reply.header("content-type").unwrap_or("missing")
                )
            });
        }
    }
}

fn c1(obs: &Observations) -> Judged {
    let mut checks = Checks::new();
    checks.expect(obs.routes.len() == 10, || {
        format!("{} of 10 route calls ran", obs.routes.len())
    });
    for exchange in &obs.routes {
        json_answer(&mut checks, exchange);
    }
    checks.done()
}

/// A refused request: its status, a JSON error with a code (and `Allow` for 405).
fn refusal(obs: &Observations, exchange: Option<&Exchange>, what: &str, allow: bool) -> Judged {
    let Some(exchange) = exchange else {
        return skip(obs.skip_reason(&format!("sending {what}")));
    };
    let mut checks = Checks::new();
    json_answer(&mut checks, exchange);
    if let Ok(reply) = &exchange.reply {
        let code = reply.error_code();
        checks.read_back(format!(
            "error.code = {}",
            code.as_deref().unwrap_or("<none>")
        ));
        checks.expect(code.is_some(), || {
            format!("{what}: the body has no error.code")
        });
        let has_message = reply.json().is_some_and(|v| {
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        });
        checks.expect(has_message, || {
            format!("{what}: the body has no error.message")
        });
        if allow {
            let header = reply.header("allow");
            checks.read_back(format!("Allow: {}", header.unwrap_or("<missing>")));
            checks.expect(header.is_some_and(|h| !h.is_empty()), || {
                format!("{what}: no Allow header")
            });
        }
    }
    checks.done()
}

fn c6(obs: &Observations) -> Judged {
    if obs.concurrent.is_empty() {
        return skip(obs.skip_reason("the concurrent list calls"));
    }
    let mut checks = Checks::new();
    let mut slowest = 0;
    for (n, reply) in obs.concurrent.iter().enumerate() {
        match reply {
            Err(err) => {
                checks.problem(format!("call {}: no answer ({err})", n + 1));
            }
            Ok(reply) => {
                slowest = slowest.max(reply.elapsed_ms);
                let listed = reply.json().is_some_and(|v| v["items"].is_array());
                checks.expect(reply.status == 200 && listed, || {
                    format!("call {}: {}", n + 1, reply.summary())
                });
            }
        }
    }
    checks.expect(obs.concurrent.len() == 10, || {
        format!("{} of 10 calls ran", obs.concurrent.len())
    });
    checks.figure("concurrent_max_ms", slowest);
    checks.done()
}

fn c7(obs: &Observations) -> Judged {
    let Some(exchange) = &obs.health else {
        return skip(obs.skip_reason("the health call"));
    };
    let mut checks = Checks::new();
    json_answer(&mut checks, exchange);
    checks.done()
}

fn c8(obs: &Observations) -> Judged {
    if obs.applies.len() < 2 {
        return skip(obs.skip_reason("applying a file"));
    }
    let mut checks = Checks::new();
    for (exchange, want) in obs.applies.iter().zip([true, false]) {
        json_answer(&mut checks, exchange);
        let seen = changes(exchange);
        checks.expect(seen.as_ref().and_then(|(c, _)| *c) == Some(want), || {
            format!("{}: changes should be {want}", exchange.request)
        });
        if let Some((_, outcome)) = &seen {
            let failed = outcome
                .as_array()
                .into_iter()
                .flatten()
                .filter(|o| o["result"] != "done")
                .count();
            checks.expect(failed == 0, || {
                format!("{}: {failed} step(s) not done: {outcome}", exchange.request)
            });
        }
    }
    match (&obs.export, &obs.applied_back) {
        (Some(export), Some(back)) => {
            checks.succeeded("export", export);
            json_answer(&mut checks, back);
            let seen = changes(back).and_then(|(c, _)| c);
            checks.expect(seen == Some(false), || {
                "the export applied back would change something".into()
            });
        }
        (Some(export), None) => {
            checks.succeeded("export", export);
        }
        _ => {
            checks.problem("the data dir was not exported");
        }
    }
    checks.done()
}

/// An apply answer's `changes` and `outcome`, when it is one.
fn changes(exchange: &Exchange) -> Option<(Option<bool>, serde_json::Value)> {
    let answer = exchange.reply.as_ref().ok()?.json()?;
    Some((answer["changes"].as_bool(), answer["outcome"].clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::http::HttpReply;

    fn reply(status: u16, content_type: &str, body: &str) -> Result<HttpReply, String> {
        Ok(HttpReply {
            status,
            headers: vec![
                ("content-type".into(), content_type.into()),
                ("allow".into(), "GET,POST".into()),
            ],
            body: body.into(),
            elapsed_ms: 3,
        })
    }

    fn exchange(expected: u16, answer: Result<HttpReply, String>) -> Option<Exchange> {
        Some(Exchange {
            request: "X /api/v2/x".into(),
            expected,
            reply: answer,
        })
    }

    fn error(status: u16) -> Option<Exchange> {
        let body = r#"{"error":{"code":"usage","message":"bad"}}"#;
        exchange(status, reply(status, "application/json", body))
    }

    fn healthy() -> Observations {
        let ok = reply(200, "application/json", r#"{"items":[],"total":0}"#);
        Observations {
            routes: (0..10)
                .map(|_| exchange(200, ok.clone()).unwrap())
                .collect(),
            health: exchange(200, ok.clone()),
            invalid_json: error(400),
            unknown_route: error(404),
            wrong_method: error(405),
            too_large: error(413),
            concurrent: vec![ok; 10],
            applies: vec![applied(true), applied(false)],
            export: Some(crate::exec::CommandRecord::invented(Some(0), "{}", 5)),
            applied_back: Some(applied(false)),
            ..Observations::default()
        }
    }

    /// An apply answer whose every step was done.
    fn applied(changes: bool) -> Exchange {
        let body = serde_json::json!({"changes": changes, "outcome": [{"result": "done"}]});
        exchange(200, reply(200, "application/json", &body.to_string())).unwrap()
    }

    fn passes(obs: &Observations) -> Vec<bool> {
        judge(obs).iter().map(|r| r.verdict.is_pass()).collect()
    }

    #[test]
    fn plain_text_errors_and_a_failed_list_call_fail_their_criteria() {
        assert_eq!(passes(&healthy()), [true; 8]);
        let mut plain = healthy();
        plain.unknown_route = exchange(404, reply(404, "text/plain", "not found"));
        plain.concurrent[4] = Err("connection reset".into());
        assert_eq!(
            passes(&plain),
            [true, true, false, true, true, false, true, true]
        );
        let mut wrong = healthy();
        wrong.too_large = exchange(413, reply(400, "application/json", "{}"));
        assert_eq!(
            passes(&wrong),
            [true, true, true, true, false, true, true, true]
        );
        let mut again = healthy();
        again.applies[1] = applied(true);
        assert!(!passes(&again)[7]);
        let mut back = healthy();
        back.applied_back = Some(applied(true));
        assert!(!passes(&back)[7]);
    }
}
