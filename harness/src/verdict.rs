//! Verdicts and the evidence attached to each criterion. A skip carries its reason and is
//! never counted as a pass.

use std::collections::BTreeMap;

use serde::Serialize;

/// Exit code when the run could not start (busy port, no Docker, unknown scenario, unreadable
/// manifest).
pub const EXIT_REFUSED: u8 = 2;
/// Exit code when a criterion failed or was skipped.
pub const EXIT_NOT_ALL_PASS: u8 = 1;

/// The judgement of one criterion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "reason", rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    /// The reason says which expectation was not met.
    Fail(String),
    /// The criterion could not be judged, e.g. because setup failed before it.
    Skip(String),
}

impl Verdict {
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail(_) => "FAIL",
            Verdict::Skip(_) => "SKIP",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Verdict::Pass => None,
            Verdict::Fail(reason) | Verdict::Skip(reason) => Some(reason),
        }
    }

    #[cfg(test)]
    pub fn is_pass(&self) -> bool {
        matches!(self, Verdict::Pass)
    }

    /// Pass when every listed problem is absent; otherwise a failure naming all of them.
    pub fn from_problems(problems: Vec<String>) -> Verdict {
        if problems.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail(problems.join("; "))
        }
    }
}

/// Evidence that backs a verdict; commands are referred to by their run index.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Evidence {
    /// Indexes into the run's command list.
    pub commands: Vec<usize>,
    /// Measured figures, e.g. `fast_fail_ms`.
    pub figures: BTreeMap<String, u64>,
    /// Values read back from aima, e.g. `svc-1234abcd status = failed (service list)`.
    pub read_back: Vec<String>,
    /// Docker listings of `aima.engine` containers taken for this criterion.
    pub docker: Vec<String>,
    /// Anything else a reviewer needs to follow the judgement.
    pub notes: Vec<String>,
}

/// A criterion with its verdict and evidence.
#[derive(Debug, Clone, Serialize)]
pub struct CriterionResult {
    pub id: String,
    pub title: String,
    #[serde(flatten)]
    pub verdict: Verdict,
    pub evidence: Evidence,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_is_not_a_pass_and_serialises_with_reason() {
        let skip = Verdict::Skip("setup failed".into());
        assert!(!skip.is_pass());
        let json = serde_json::to_value(&skip).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"verdict":"skip","reason":"setup failed"})
        );
        assert_eq!(
            serde_json::to_value(Verdict::Pass).unwrap(),
            serde_json::json!({"verdict":"pass"})
        );
    }
}
