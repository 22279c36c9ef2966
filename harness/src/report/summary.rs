//! The summary of one run: a Markdown table for `report.md`, and plain text for the terminal
//! (no markup, criterion titles spelled out).

use super::Report;

fn detail(result: &crate::verdict::CriterionResult) -> String {
    let text = match result.verdict.reason() {
        Some(reason) => reason.to_owned(),
        None => result
            .evidence
            .figures
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", "),
    };
    text.replace('\n', " ")
}

fn footer(report: &Report) -> String {
    let crash = report
        .crashed
        .as_deref()
        .map(|c| format!("; CRASHED: {c}"))
        .unwrap_or_default();
    format!(
        "{} — {} pass, {} fail, {} skip; wall time {:.1}s{crash}\n",
        report.outcome.to_uppercase(),
        report.counts.pass,
        report.counts.fail,
        report.counts.skip,
        report.wall_time_ms as f64 / 1000.0
    )
}

/// A Markdown table: criterion, title, verdict, detail.
pub fn summary_table(report: &Report) -> String {
    let mut out = String::from("| Criterion | Title | Verdict | Detail |\n|---|---|---|---|\n");
    for result in &report.criteria {
        out.push_str(&format!(
            "| {} | {} | **{}** | {} |\n",
            result.id,
            result.title,
            result.verdict.label(),
            detail(result).replace('|', "\\|")
        ));
    }
    out.push('\n');
    out.push_str(&footer(report));
    out
}

/// Plain text for the terminal: `S20.C1  PASS  title`, then the detail indented below.
pub fn plain_summary(report: &Report) -> String {
    let mut out = format!(
        "Scenario {} — {}\n",
        report.scenario.number, report.scenario.title
    );
    for result in &report.criteria {
        out.push_str(&format!(
            "  {:<8} {:<4}  {}\n",
            result.id,
            result.verdict.label(),
            result.title
        ));
        let detail = detail(result);
        if !detail.is_empty() {
            out.push_str(&format!("                 {detail}\n"));
        }
    }
    out.push_str(&footer(report));
    out
}
