//! `report.md`: the summary table first (ten seconds to read), then the evidence behind each
//! verdict, the environment and the timeline.

use std::fmt::Write;

use crate::exec::CommandRecord;

use super::{Report, TIMELINE_SVG, summary_table};

const EXCERPT_LINES: usize = 20;

fn excerpt(text: &str) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let mut out = lines
        .iter()
        .take(EXCERPT_LINES)
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    if lines.len() > EXCERPT_LINES {
        let _ = write!(
            out,
            "\n… ({} more lines in the log)",
            lines.len() - EXCERPT_LINES
        );
    }
    out
}

fn command_block(out: &mut String, record: &CommandRecord) {
    let _ = writeln!(
        out,
        "- command #{}: `{}` → {}",
        record.index,
        record.display,
        record.outcome()
    );
    for (name, text, log) in [
        ("stdout", &record.stdout, &record.stdout_log),
        ("stderr", &record.stderr, &record.stderr_log),
    ] {
        if text.trim().is_empty() {
            continue;
        }
        let link = log
            .as_deref()
            .map(|l| format!(" ([{l}]({l}))"))
            .unwrap_or_default();
        let _ = writeln!(out, "\n  {name}{link}:\n\n  ```text");
        for line in excerpt(text).lines() {
            let _ = writeln!(out, "  {line}");
        }
        let _ = writeln!(out, "  ```\n");
    }
}

/// Renders the whole report as Markdown.
pub fn render_markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Scenario {} — {}: {}\n",
        report.scenario.number,
        report.scenario.title,
        report.outcome.to_uppercase()
    );
    let _ = writeln!(out, "{}", summary_table(report));
    let _ = writeln!(
        out,
        "![Timeline: verdicts, faults, observations and commands]({TIMELINE_SVG})\n"
    );
    if !report.leftovers_of_earlier_runs.is_empty() {
        let _ = writeln!(out, "## Warning: leftovers of earlier runs\n");
        for line in &report.leftovers_of_earlier_runs {
            let _ = writeln!(out, "- {line}");
        }
        let _ = writeln!(out);
    }
    let env = &report.environment;
    let _ = writeln!(
        out,
        "Run `{}` started {} on port {} · aima `{}` ({}{}) · Docker {} · kernel {} · host {}\n",
        report.run_id,
        report.started_at,
        report.port,
        env.aima_version,
        env.commit.as_deref().unwrap_or("commit unknown"),
        if env.dirty_tree {
            ", DIRTY tree: uncommitted changes ran"
        } else {
            ""
        },
        env.docker_server_version,
        env.kernel,
        env.host
    );
    if !report.figures.is_empty() {
        let _ = writeln!(out, "## Figures\n");
        for (name, value) in &report.figures {
            let _ = writeln!(out, "- `{name}` = {value}");
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "## Evidence\n");
    for result in &report.criteria {
        let _ = writeln!(
            out,
            "### {} — {}: {}\n",
            result.id,
            result.verdict.label(),
            result.title
        );
        if let Some(reason) = result.verdict.reason() {
            let _ = writeln!(out, "**Why:** {reason}\n");
        }
        let ev = &result.evidence;
        for (name, value) in &ev.figures {
            let _ = writeln!(out, "- figure `{name}` = {value}");
        }
        for line in &ev.read_back {
            let _ = writeln!(out, "- read back: {line}");
        }
        for line in &ev.notes {
            let _ = writeln!(out, "- note: {line}");
        }
        if !ev.docker.is_empty() {
            let _ = writeln!(
                out,
                "- Docker (`aima.engine` containers new since the baseline):\n\n  ```text"
            );
            for line in &ev.docker {
                let _ = writeln!(out, "  {line}");
            }
            let _ = writeln!(out, "  ```");
        }
        for index in &ev.commands {
            if let Some(record) = report.command(*index) {
                command_block(&mut out, record);
            }
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "## Orphans at the end\n");
    if report.orphans_at_end.is_empty() {
        let _ = writeln!(out, "None.\n");
    }
    for line in &report.orphans_at_end {
        let _ = writeln!(out, "- {line}");
    }
    let _ = writeln!(
        out,
        "## Environment\n\n```json\n{}\n```\n",
        serde_json::to_string_pretty(env).unwrap_or_default()
    );
    let _ = writeln!(out, "## Timeline\n\n| ms | kind | event |\n|---:|---|---|");
    for event in &report.timeline {
        let kind = serde_json::to_value(event.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            event.at_ms,
            kind,
            event.text.replace('|', "\\|")
        );
    }
    let _ = writeln!(
        out,
        "\nAll commands with full output: `report.json` (`commands`) and `logs/`."
    );
    out
}
