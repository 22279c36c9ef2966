//! Shrinking a failing schedule: delta debugging over its steps within a time budget. Every
//! service's first `create` stays; chunks of the other steps are dropped while a run of what
//! is left still breaks one of the rules the full run broke. Each attempt is a full run in
//! `<run dir>/shrink/`; the smallest failing one's history replays it.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::run::{ChaosOptions, run_schedule};
use super::schedule::{Action, Plan, Step};
use super::summary::Summary;

/// The smallest failing attempt found.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Shrunk {
    pub steps: usize,
    pub of: usize,
    pub attempts: usize,
    pub rules: Vec<String>,
    pub replay: String,
}

fn rules_of(summary: &Summary) -> BTreeSet<String> {
    summary
        .violations
        .iter()
        .filter_map(|v| v["rule"].as_str().map(str::to_owned))
        .collect()
}

/// The steps that always stay: each slot's first `create`.
fn fixed(steps: &[Step]) -> BTreeSet<usize> {
    let mut seen = BTreeSet::new();
    steps
        .iter()
        .filter(|s| matches!(s.action, Action::Create { slot, .. } if seen.insert(slot)))
        .map(|s| s.id)
        .collect()
}

/// Searches for a smaller schedule than `steps` that still breaks a rule of `failed`.
pub(crate) fn shrink(
    options: &ChaosOptions,
    plan: &Plan,
    steps: &[Step],
    failed: &Summary,
    budget: Duration,
) -> Option<Shrunk> {
    let began = Instant::now();
    let wanted = rules_of(failed);
    let keep = fixed(steps);
    let mut current: Vec<Step> = steps.to_vec();
    let mut best: Option<(usize, Summary)> = None;
    let mut attempts = 0;
    let mut n = 2;
    let attempt_options = ChaosOptions {
        reports: failed.run_dir.join("shrink"),
        replay: None,
        quiet: true,
        ..options.clone()
    };
    // A run of the shrunk schedule takes about as long as its last step, plus the ending.
    let last_ms = |s: &[Step]| s.iter().map(|s| s.at_ms).max().unwrap_or_default();
    'search: loop {
        let movable: Vec<usize> = current
            .iter()
            .filter(|s| !keep.contains(&s.id))
            .map(|s| s.id)
            .collect();
        if movable.is_empty() || n > movable.len() {
            break;
        }
        let size = movable.len().div_ceil(n);
        for chunk in movable.chunks(size) {
            let expected = Duration::from_millis(last_ms(&current)) + Duration::from_secs(40);
            if began.elapsed() + expected > budget {
                break 'search;
            }
            let candidate: Vec<Step> = current
                .iter()
                .filter(|s| !chunk.contains(&s.id))
                .cloned()
                .collect();
            let shrunk_plan = Plan {
                seconds: last_ms(&candidate) / 1000 + 4,
                ..plan.clone()
            };
            attempts += 1;
            eprintln!(
                "shrink: attempt {attempts}, {} of {} steps",
                candidate.len(),
                steps.len()
            );
            let Ok(summary) = run_schedule(&attempt_options, &shrunk_plan, &candidate) else {
                continue;
            };
            if rules_of(&summary).intersection(&wanted).next().is_some() {
                current = candidate;
                best = Some((current.len(), summary));
                n = (n - 1).max(2);
                continue 'search;
            }
        }
        if n >= movable.len() {
            break;
        }
        n = (n * 2).min(movable.len());
    }
    let (len, summary) = best?;
    Some(Shrunk {
        steps: len,
        of: steps.len(),
        attempts,
        rules: rules_of(&summary).into_iter().collect(),
        replay: summary.replay.clone(),
    })
}
