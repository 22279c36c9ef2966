//! Building verdicts: a small accumulator of problems and evidence, so each scenario's checks
//! read as a list of expectations. A criterion whose steps did not run is a SKIP, never a PASS.

use crate::exec::CommandRecord;
use crate::fixtures::http::HttpReply;
use crate::verdict::{CriterionResult, Evidence, Verdict};

use super::Criterion;

/// A verdict with the evidence behind it.
pub type Judged = (Verdict, Evidence);

/// Why a criterion whose step did not run is skipped: the first setup problem, when there was one.
pub fn not_run(missing: &[String], step: &str) -> String {
    match missing.first() {
        Some(why) => format!("{step} did not run: {why}"),
        None => format!("{step} did not run"),
    }
}

/// A scenario's observations: what its steps saw, and the setup problems that ended them early
/// (its `missing` field), which its judges name when a criterion's steps did not run.
/// [`observed!`] implements it; [`RunContext::observe`](super::context::RunContext::observe)
/// runs the steps that fill it.
pub trait Observed {
    /// The setup problems, in order (empty when every step ran).
    fn missing(&self) -> &[String];
    fn missing_mut(&mut self) -> &mut Vec<String>;

    /// Why a criterion whose `step` did not run is skipped.
    fn skip_reason(&self, step: &str) -> String {
        not_run(self.missing(), step)
    }
}

/// Implements [`Observed`] for a scenario's observations type, whose `missing: Vec<String>`
/// field holds the setup problems.
macro_rules! observed {
    ($observations:ty) => {
        impl $crate::scenario::judging::Observed for $observations {
            fn missing(&self) -> &[String] {
                &self.missing
            }
            fn missing_mut(&mut self) -> &mut Vec<String> {
                &mut self.missing
            }
        }
    };
}
pub(crate) use observed;

/// A criterion that could not be judged, with the reason.
pub fn skip(reason: impl Into<String>) -> Judged {
    (Verdict::Skip(reason.into()), Evidence::default())
}

/// Pairs each criterion with its judgement, in order; a missing judgement is a SKIP.
pub fn results(criteria: &[Criterion], judged: Vec<Judged>) -> Vec<CriterionResult> {
    let mut judged = judged.into_iter();
    criteria
        .iter()
        .map(|criterion| {
            let (verdict, evidence) = judged
                .next()
                .unwrap_or_else(|| skip("the scenario produced no judgement for it"));
            CriterionResult {
                id: criterion.id.to_owned(),
                title: criterion.title.to_owned(),
                verdict,
                evidence,
            }
        })
        .collect()
}

/// Every criterion skipped for one reason (e.g. the daemon did not start).
pub fn all_skipped(criteria: &[Criterion], reason: &str) -> Vec<CriterionResult> {
    results(criteria, criteria.iter().map(|_| skip(reason)).collect())
}

/// Collects evidence and unmet expectations for one criterion.
#[derive(Debug, Default)]
pub struct Checks {
    problems: Vec<String>,
    pub evidence: Evidence,
}

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `problem` unless `ok`.
    pub fn expect(&mut self, ok: bool, problem: impl FnOnce() -> String) -> &mut Self {
        if !ok {
            self.problems.push(problem());
        }
        self
    }

    pub fn problem(&mut self, problem: impl Into<String>) -> &mut Self {
        self.problems.push(problem.into());
        self
    }

    /// Cites a command and expects it to have exited 0 on its own.
    pub fn succeeded(&mut self, what: &str, record: &CommandRecord) -> &mut Self {
        self.command(record);
        self.expect(record.succeeded(), || {
            format!("{what} did not succeed ({})", record.outcome())
        })
    }

    /// Cites a command and expects it to have failed on its own (non-zero exit, no hang).
    pub fn failed(&mut self, what: &str, record: &CommandRecord) -> &mut Self {
        self.command(record);
        if record.timed_out {
            self.problems
                .push(format!("{what} hung: {}", record.outcome()));
        } else if record.succeeded() {
            self.problems.push(format!("{what} exited 0"));
        }
        self
    }

    /// Cites an API reply to a service request as `{shown} -> <summary>` and expects 200 with
    /// the service status `want`; `what` names the request in problems.
    pub fn service_reply(
        &mut self,
        what: &str,
        shown: &str,
        reply: &Result<HttpReply, String>,
        want: &str,
    ) -> &mut Self {
        match reply {
            Ok(reply) => {
                self.read_back(format!("{shown} -> {}", reply.summary()));
                let status = reply
                    .json()
                    .and_then(|v| v["status"].as_str().map(str::to_owned));
                self.expect(
                    reply.status == 200 && status.as_deref() == Some(want),
                    || {
                        format!(
                            "{what} answered {} with status {}",
                            reply.status,
                            status.as_deref().unwrap_or("<none>")
                        )
                    },
                )
            }
            Err(err) => self.problem(format!("{what} got no answer: {err}")),
        }
    }

    pub fn command(&mut self, record: &CommandRecord) -> &mut Self {
        if !self.evidence.commands.contains(&record.index) {
            self.evidence.commands.push(record.index);
        }
        self
    }

    pub fn figure(&mut self, name: &str, value: u64) -> &mut Self {
        self.evidence.figures.insert(name.to_owned(), value);
        self
    }

    pub fn read_back(&mut self, line: impl Into<String>) -> &mut Self {
        self.evidence.read_back.push(line.into());
        self
    }

    pub fn note(&mut self, line: impl Into<String>) -> &mut Self {
        self.evidence.notes.push(line.into());
        self
    }

    pub fn docker(&mut self, lines: impl IntoIterator<Item = String>) -> &mut Self {
        self.evidence.docker.extend(lines);
        self
    }

    pub fn done(&mut self) -> Judged {
        let problems = std::mem::take(&mut self.problems);
        (
            Verdict::from_problems(problems),
            std::mem::take(&mut self.evidence),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmet_expectations_fail_and_missing_judgements_skip() {
        let (verdict, _) = Checks::new().expect(true, || "no".into()).done();
        assert!(verdict.is_pass());
        let (verdict, _) = Checks::new().expect(false, || "port differs".into()).done();
        assert_eq!(verdict, Verdict::Fail("port differs".into()));
        const TWO: [Criterion; 2] = [
            Criterion {
                id: "S1.C1",
                title: "a",
            },
            Criterion {
                id: "S1.C2",
                title: "b",
            },
        ];
        let out = results(&TWO, vec![(Verdict::Pass, Evidence::default())]);
        assert!(out[0].verdict.is_pass());
        assert!(matches!(out[1].verdict, Verdict::Skip(_)));
    }

    #[derive(Default)]
    struct Seen {
        missing: Vec<String>,
    }
    observed!(Seen);

    #[test]
    fn a_skip_names_the_first_setup_problem() {
        let mut seen = Seen::default();
        assert_eq!(seen.skip_reason("the stop"), "the stop did not run");
        seen.missing_mut().push("aima start exited early".into());
        seen.missing_mut().push("later".into());
        assert_eq!(
            seen.skip_reason("the stop"),
            "the stop did not run: aima start exited early"
        );
        assert_eq!(seen.missing().len(), 2);
    }

    fn reply(status: u16, body: &str) -> Result<HttpReply, String> {
        Ok(HttpReply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
            elapsed_ms: 3,
        })
    }

    #[test]
    fn a_service_reply_passes_only_with_200_and_the_wanted_status() {
        let running = reply(200, r#"{"status":"running"}"#);
        let (verdict, evidence) = Checks::new()
            .service_reply("the start", "POST …/start", &running, "running")
            .done();
        assert!(verdict.is_pass());
        assert!(evidence.read_back[0].starts_with("POST …/start -> 200 "));

        let (verdict, _) = Checks::new()
            .service_reply("the stop", "POST …/stop", &running, "stopped")
            .done();
        assert_eq!(
            verdict,
            Verdict::Fail("the stop answered 200 with status running".into())
        );
        let (verdict, _) = Checks::new()
            .service_reply("the stop", "POST …/stop", &reply(409, "{}"), "stopped")
            .done();
        assert_eq!(
            verdict,
            Verdict::Fail("the stop answered 409 with status <none>".into())
        );
        let (verdict, evidence) = Checks::new()
            .service_reply("the stop", "POST …/stop", &Err("refused".into()), "stopped")
            .done();
        assert_eq!(
            verdict,
            Verdict::Fail("the stop got no answer: refused".into())
        );
        assert!(evidence.read_back.is_empty());
    }
}
