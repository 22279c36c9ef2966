//! The summary table: one row per criterion, readable at a glance (console and report.md).

use super::Report;

/// A Markdown table that also reads well as plain text.
pub fn summary_table(report: &Report) -> String {
    let mut out = String::from("| Criterion | Verdict | Detail |\n|---|---|---|\n");
    for result in &report.criteria {
        let detail = match result.verdict.reason() {
            Some(reason) => reason.to_owned(),
            None => result
                .evidence
                .figures
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
        };
        out.push_str(&format!(
            "| {} | **{}** | {} |\n",
            result.id,
            result.verdict.label(),
            detail.replace('|', "\\|").replace('\n', " ")
        ));
    }
    out.push_str(&format!(
        "\n{} — {} pass, {} fail, {} skip; wall time {:.1}s\n",
        report.outcome.to_uppercase(),
        report.counts.pass,
        report.counts.fail,
        report.counts.skip,
        report.wall_time_ms as f64 / 1000.0
    ));
    out
}
