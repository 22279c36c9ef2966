//! The summary of a chaos run: PASS or FAIL, what ran (seed, steps, operations and faults by
//! outcome), every violation with the history around it, and the commands to run it again.
//! Written as `summary.md` and `summary.json` next to `history.jsonl`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::run::ChaosOptions;
use super::schedule::{Plan, Step};
use super::world::World;

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub outcome: &'static str,
    pub run_id: String,
    pub run_dir: PathBuf,
    /// The `aima.instance` label of the run's data dir, and the services' ports.
    pub instance: String,
    pub ports: Vec<u16>,
    pub plan: Plan,
    pub steps: usize,
    pub operations: usize,
    pub faults: usize,
    /// `op -> outcome`: how many times.
    pub tally: BTreeMap<String, usize>,
    pub not_injected: Vec<(String, String)>,
    pub ran_ms: u64,
    pub history_lines: usize,
    pub violations: Vec<Value>,
    pub rerun: String,
    pub replay: String,
    /// The smallest failing schedule shrinking found, if it ran and found one.
    pub shrunk: Option<super::shrink::Shrunk>,
}

impl Summary {
    pub(crate) fn new(
        world: &World,
        plan: &Plan,
        steps: &[Step],
        options: &ChaosOptions,
        tally: BTreeMap<String, usize>,
        ran_ms: u64,
    ) -> Self {
        let violations = world
            .violations
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default();
        let faults = steps.iter().filter(|s| s.action.fault().is_some()).count();
        let names: Vec<&str> = plan.faults.iter().map(|f| f.name()).collect();
        let aima = options
            .aima_bin
            .as_ref()
            .map(|p| format!(" --aima-bin {}", p.display()))
            .unwrap_or_default();
        Self {
            outcome: if violations.is_empty() {
                "pass"
            } else {
                "fail"
            },
            run_id: world.run_id.clone(),
            run_dir: world.run_dir.clone(),
            instance: world.instance.clone(),
            ports: world.ports.clone(),
            plan: plan.clone(),
            steps: steps.len(),
            operations: steps.len() - faults,
            faults,
            tally,
            not_injected: world.skipped.lock().map(|s| s.clone()).unwrap_or_default(),
            ran_ms,
            history_lines: world.history.lines(),
            violations,
            rerun: format!(
                "cargo run -p harness -- chaos --seconds {} --seed {} --services {} --workers {} --faults {}{aima}",
                plan.seconds,
                plan.seed,
                plan.services,
                plan.workers,
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(",")
                }
            ) + if plan.swarm { " --runtime swarm" } else { "" },
            replay: format!(
                "cargo run -p harness -- chaos --replay {}{aima}",
                world.run_dir.join("history.jsonl").display()
            ),
            shrunk: None,
        }
    }

    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// The console's closing lines.
    pub fn plain(&self) -> String {
        let mut text = format!(
            "chaos {}: seed {}, {} s, {} operations and {} faults, {} violation(s)\n",
            self.outcome.to_uppercase(),
            self.plan.seed,
            self.ran_ms / 1000,
            self.operations,
            self.faults,
            self.violations.len()
        );
        for v in &self.violations {
            let _ = writeln!(
                text,
                "  {} at {} ms: {}",
                v["rule"].as_str().unwrap_or("?"),
                v["t_ms"],
                v["detail"].as_str().unwrap_or("")
            );
        }
        for (name, why) in &self.not_injected {
            let _ = writeln!(text, "  SKIP {name}: {why}");
        }
        let _ = writeln!(text, "re-run: {}", self.rerun);
        if let Some(shrunk) = &self.shrunk {
            let _ = writeln!(
                text,
                "shrunk to {} of {} steps ({} attempts), still breaking {}: {}",
                shrunk.steps,
                shrunk.of,
                shrunk.attempts,
                shrunk.rules.join(", "),
                shrunk.replay
            );
        }
        let _ = write!(
            text,
            "report: {}/summary.md (also summary.json, history.jsonl, timeline.svg)",
            self.run_dir.display()
        );
        text
    }
}

/// One history event as a short line: `12345 ms complete start #17 slot 2: exit 7`.
fn event_line(e: &Value) -> String {
    let mut line = format!(
        "{:>7} ms {:<9}",
        e["t_ms"],
        e["kind"].as_str().unwrap_or("")
    );
    for key in ["op", "fault", "event"] {
        if let Some(v) = e[key].as_str() {
            let _ = write!(line, " {v}");
        }
    }
    if let Some(step) = e["step"].as_u64() {
        let _ = write!(line, " #{step}");
    }
    if let Some(slot) = e["slot"].as_u64() {
        let _ = write!(line, " slot {slot}");
    }
    for key in ["outcome", "status", "error", "why"] {
        if let Some(v) = e[key].as_str() {
            let _ = write!(line, " {key}={v}");
        }
    }
    if e["kind"] == "observe" {
        let statuses: Vec<String> = e["services"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| format!("{}={}", s["slot"], s["status"].as_str().unwrap_or("")))
            .collect();
        let _ = write!(
            line,
            " [{}] containers {}",
            statuses.join(" "),
            e["containers"].as_array().map(Vec::len).unwrap_or_default()
        );
    }
    line
}

pub(crate) fn write_summary(summary: &Summary, dir: &Path) -> anyhow::Result<()> {
    std::fs::write(
        dir.join("summary.json"),
        serde_json::to_string_pretty(summary)?,
    )?;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Chaos run {}: {}\n",
        summary.run_id,
        summary.outcome.to_uppercase()
    );
    let _ = writeln!(
        md,
        "Seed {}, {} s planned ({} ms ran), {} services, faults: {}.\n",
        summary.plan.seed,
        summary.plan.seconds,
        summary.ran_ms,
        summary.plan.services,
        summary
            .plan
            .faults
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        md,
        "{} steps: {} operations, {} faults; {} history lines (`history.jsonl`).\n",
        summary.steps, summary.operations, summary.faults, summary.history_lines
    );
    let _ = writeln!(
        md,
        "Re-run: `{}`\n\nReplay: `{}`\n",
        summary.rerun, summary.replay
    );
    if let Some(shrunk) = &summary.shrunk {
        let _ = writeln!(
            md,
            "Shrunk to {} of {} steps in {} attempts, still breaking {}: `{}`\n",
            shrunk.steps,
            shrunk.of,
            shrunk.attempts,
            shrunk.rules.join(", "),
            shrunk.replay
        );
    }
    let _ = writeln!(md, "## Violations ({})\n", summary.violations.len());
    if summary.violations.is_empty() {
        let _ = writeln!(
            md,
            "None: every invariant held at every observation and at the end.\n"
        );
    }
    for v in &summary.violations {
        let _ = writeln!(
            md,
            "### {} — {} at {} ms\n",
            v["rule"].as_str().unwrap_or("?"),
            v["subject"].as_str().unwrap_or(""),
            v["t_ms"]
        );
        let _ = writeln!(md, "{}\n", v["detail"].as_str().unwrap_or(""));
        let _ = writeln!(md, "What happened before it (same slot, last 8 s):\n\n```");
        for e in v["context"].as_array().into_iter().flatten() {
            let _ = writeln!(md, "{}", event_line(e));
        }
        let _ = writeln!(md, "```\n");
    }
    let _ = writeln!(
        md,
        "## Operations and faults by outcome\n\n| step -> outcome | count |\n|---|---|"
    );
    for (key, count) in &summary.tally {
        let _ = writeln!(md, "| {key} | {count} |");
    }
    let _ = writeln!(md, "\n## Faults not injected\n");
    for (name, why) in &summary.not_injected {
        let _ = writeln!(md, "- SKIP {name}: {why}");
    }
    std::fs::write(dir.join("summary.md"), md)?;
    Ok(())
}

/// A token no other run shares: a digest of the run id, the time and the process id.
pub(crate) fn fresh_token(run_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let digest = Sha256::digest(format!("{run_id}/{nanos}/{}", std::process::id()).as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}
