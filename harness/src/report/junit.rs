//! `junit.xml`: one test case per criterion, failures and skips with their reasons, for CI.

use std::fmt::Write;

use crate::verdict::Verdict;

use super::Report;

fn escape(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&apos;".to_owned(),
            other => other.to_string(),
        })
        .collect()
}

/// Renders the report as a JUnit XML document.
pub fn render_junit(report: &Report) -> String {
    let suite = format!("scenario-{}", report.scenario.number);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites><testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\" timestamp=\"{}\">",
        escape(&suite),
        report.criteria.len(),
        report.counts.fail,
        report.counts.skip,
        report.wall_time_ms as f64 / 1000.0,
        escape(&report.started_at)
    );
    for result in &report.criteria {
        let _ = write!(
            out,
            "  <testcase classname=\"{}\" name=\"{}\">",
            escape(&suite),
            escape(&format!("{} {}", result.id, result.title))
        );
        match &result.verdict {
            Verdict::Pass => {}
            Verdict::Fail(reason) => {
                let _ = write!(out, "<failure message=\"{}\"/>", escape(reason));
            }
            Verdict::Skip(reason) => {
                let _ = write!(out, "<skipped message=\"{}\"/>", escape(reason));
            }
        }
        let _ = writeln!(out, "</testcase>");
    }
    let _ = writeln!(out, "</testsuite></testsuites>");
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
