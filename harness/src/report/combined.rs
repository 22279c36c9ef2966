//! The combined report of `harness scenario all`: one matrix (scenario × criterion, titles
//! spelled out), wall time per scenario, every figure as min / median / max over the repeats,
//! links to each run's own report, and the problems that fail the run as a whole (a manifest
//! entry without a scenario, a refused or crashed run).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use super::series::Spread;
use super::{Report, junit};

/// Schema identifier of `catalog.json`.
pub const CATALOG_SCHEMA: &str = "aima-harness-catalog/1";

/// The runs of one scenario (one per repeat) and whatever kept a run from happening.
#[derive(Debug, Clone)]
pub struct ScenarioRuns {
    pub number: u32,
    pub title: String,
    pub document: String,
    pub criteria: Vec<(String, String)>,
    /// Each finished run with its report folder, relative to the catalog folder.
    pub runs: Vec<(Report, String)>,
    /// Refused runs and other reasons this scenario cannot pass.
    pub problems: Vec<String>,
}

/// One row of the criteria table: a criterion's verdict in each run.
#[derive(Debug, Clone, Serialize)]
pub struct CriterionRow {
    pub id: String,
    pub title: String,
    /// `pass` / `fail` / `skip` per run, in run order.
    pub verdicts: Vec<String>,
    /// The first failure or skip reason, else the figures of the last run.
    pub detail: String,
}

/// One scenario in the catalog.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioSummary {
    pub number: u32,
    pub title: String,
    pub document: String,
    pub outcome: &'static str,
    pub wall_time_ms: Option<Spread>,
    pub criteria: Vec<CriterionRow>,
    /// `<run id>/report.md` of each run, relative to the catalog folder.
    pub reports: Vec<String>,
    pub problems: Vec<String>,
}

/// The whole catalog run (`catalog.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Catalog {
    pub schema: &'static str,
    pub run_id: String,
    pub started_at: String,
    pub wall_time_ms: u64,
    pub repeat: u32,
    pub outcome: &'static str,
    pub commit: Option<String>,
    pub dirty_tree: bool,
    /// Manifest problems: each fails the run.
    pub manifest_problems: Vec<String>,
    pub scenarios: Vec<ScenarioSummary>,
    /// `S<n>.C<k>.<figure>` and `S<n>.wall_time_ms` over the repeats.
    pub figures: BTreeMap<String, Spread>,
}

impl Catalog {
    pub fn passed(&self) -> bool {
        self.outcome == "pass"
    }
}

fn verdict_word(report: &Report, id: &str) -> String {
    report
        .criteria
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.verdict.label().to_lowercase())
        .unwrap_or_else(|| "missing".to_owned())
}

fn summarise(runs: &ScenarioRuns, repeat: u32) -> ScenarioSummary {
    let criteria = runs
        .criteria
        .iter()
        .map(|(id, title)| {
            let verdicts = runs.runs.iter().map(|(r, _)| verdict_word(r, id)).collect();
            let mut results = runs
                .runs
                .iter()
                .filter_map(|(r, _)| r.criteria.iter().find(|c| &c.id == id));
            let reason = results
                .clone()
                .find_map(|c| c.verdict.reason().map(str::to_owned));
            let figures = results
                .next_back()
                .map(|c| {
                    c.evidence
                        .figures
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            CriterionRow {
                id: id.clone(),
                title: title.clone(),
                verdicts,
                detail: reason.unwrap_or(figures),
            }
        })
        .collect();
    let complete = runs.runs.len() == repeat as usize && runs.problems.is_empty();
    let all_pass = runs.runs.iter().all(|(r, _)| r.all_pass());
    ScenarioSummary {
        number: runs.number,
        title: runs.title.clone(),
        document: runs.document.clone(),
        outcome: if complete && all_pass { "pass" } else { "fail" },
        wall_time_ms: Spread::of(runs.runs.iter().map(|(r, _)| r.wall_time_ms).collect()),
        criteria,
        reports: runs
            .runs
            .iter()
            .map(|(_, dir)| format!("{dir}/report.md"))
            .collect(),
        problems: runs.problems.clone(),
    }
}

/// Assembles the catalog from every scenario's runs.
pub fn catalog(
    run_id: &str,
    started_at: &str,
    wall_time_ms: u64,
    repeat: u32,
    manifest_problems: Vec<String>,
    all: &[ScenarioRuns],
) -> Catalog {
    let scenarios: Vec<ScenarioSummary> = all.iter().map(|s| summarise(s, repeat)).collect();
    let mut values: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for runs in all {
        for (report, _) in &runs.runs {
            for (name, value) in &report.figures {
                values.entry(name.clone()).or_default().push(*value);
            }
            values
                .entry(format!("S{}.wall_time_ms", runs.number))
                .or_default()
                .push(report.wall_time_ms);
        }
    }
    let first_env = all
        .iter()
        .flat_map(|s| s.runs.first())
        .map(|(r, _)| &r.environment)
        .next();
    let pass = manifest_problems.is_empty()
        && !scenarios.is_empty()
        && scenarios.iter().all(|s| s.outcome == "pass");
    Catalog {
        schema: CATALOG_SCHEMA,
        run_id: run_id.to_owned(),
        started_at: started_at.to_owned(),
        wall_time_ms,
        repeat,
        outcome: if pass { "pass" } else { "fail" },
        commit: first_env.and_then(|e| e.commit.clone()),
        dirty_tree: first_env.is_some_and(|e| e.dirty_tree),
        manifest_problems,
        scenarios,
        figures: values
            .into_iter()
            .filter_map(|(k, v)| Some((k, Spread::of(v)?)))
            .collect(),
    }
}

/// `PASS`, or `PASS 3/3` / `FAIL 1/3` over repeats (counting passes).
fn cell(verdicts: &[String]) -> String {
    if verdicts.is_empty() {
        return "—".to_owned();
    }
    let passes = verdicts.iter().filter(|v| *v == "pass").count();
    let word = if passes == verdicts.len() {
        "PASS"
    } else if verdicts.iter().any(|v| v == "fail") {
        "FAIL"
    } else {
        "SKIP"
    };
    if verdicts.len() == 1 {
        word.to_owned()
    } else {
        format!("{word} {passes}/{}", verdicts.len())
    }
}

fn secs(ms: u64) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}

fn wall(s: &ScenarioSummary) -> String {
    match &s.wall_time_ms {
        None => "—".to_owned(),
        Some(w) if w.runs == 1 => secs(w.median),
        Some(w) => format!("{} ({}–{})", secs(w.median), secs(w.min), secs(w.max)),
    }
}

/// The matrix: one row per scenario, one column per criterion number.
pub fn matrix_table(c: &Catalog) -> String {
    let width = c
        .scenarios
        .iter()
        .map(|s| s.criteria.len())
        .max()
        .unwrap_or(0);
    let mut out = String::from("| Scenario | Outcome |");
    for k in 1..=width {
        let _ = write!(out, " C{k} |");
    }
    out.push_str(" Wall time | Reports |\n|---|---|");
    out.push_str(&"---|".repeat(width + 2));
    out.push('\n');
    for s in &c.scenarios {
        let _ = write!(
            out,
            "| {} — {} | **{}** |",
            s.number,
            s.title,
            s.outcome.to_uppercase()
        );
        for k in 0..width {
            let text = s
                .criteria
                .get(k)
                .map(|r| cell(&r.verdicts))
                .unwrap_or_default();
            let _ = write!(out, " {text} |");
        }
        let links: Vec<String> = s
            .reports
            .iter()
            .enumerate()
            .map(|(n, link)| format!("[run {}]({link})", n + 1))
            .collect();
        let links = if links.is_empty() {
            "none".to_owned()
        } else {
            links.join(" ")
        };
        let _ = writeln!(out, " {} | {links} |", wall(s));
    }
    out
}

/// The whole catalog report as Markdown.
pub fn render_catalog(c: &Catalog) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Scenario catalog: {}\n", c.outcome.to_uppercase());
    let dirty = if c.dirty_tree {
        " (DIRTY tree: uncommitted changes ran)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "Run `{}` started {} · {} repeat(s) · total wall time {} · commit `{}`{dirty}\n",
        c.run_id,
        c.started_at,
        c.repeat,
        secs(c.wall_time_ms),
        c.commit.as_deref().unwrap_or("unknown"),
    );
    let _ = writeln!(out, "{}", matrix_table(c));
    let problems: Vec<String> = c
        .manifest_problems
        .iter()
        .cloned()
        .chain(c.scenarios.iter().flat_map(|s| {
            s.problems
                .iter()
                .map(move |p| format!("scenario {}: {p}", s.number))
        }))
        .collect();
    if !problems.is_empty() {
        let _ = writeln!(out, "## Problems (each fails the run)\n");
        for p in &problems {
            let _ = writeln!(out, "- {p}");
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "## Criteria\n\n| Criterion | Title | Verdict | Detail |\n|---|---|---|---|"
    );
    for s in &c.scenarios {
        for row in &s.criteria {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                row.id,
                row.title,
                cell(&row.verdicts),
                row.detail.replace('|', "\\|").replace('\n', " ")
            );
        }
    }
    let _ = writeln!(
        out,
        "\n## Figures (over {} repeat(s))\n\n| Figure | Runs | Min | Median | Max |\n|---|---|---|---|---|",
        c.repeat
    );
    for (name, f) in &c.figures {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} |",
            f.runs, f.min, f.median, f.max
        );
    }
    let _ = writeln!(
        out,
        "\nEach run's evidence (commands, output, Docker listings, timeline) is in its own report, linked above."
    );
    out
}

/// Plain text for the terminal: one line per scenario, then every criterion not passing.
pub fn plain_catalog(c: &Catalog) -> String {
    let mut out = String::from("Scenario catalog\n");
    for s in &c.scenarios {
        let passing = s
            .criteria
            .iter()
            .filter(|r| cell(&r.verdicts).starts_with("PASS"))
            .count();
        let _ = writeln!(
            out,
            "  {:>3}  {:<4}  {:>2}/{:<2} criteria  {:>16}  {}",
            s.number,
            s.outcome.to_uppercase(),
            passing,
            s.criteria.len(),
            wall(s),
            s.title
        );
        for row in s
            .criteria
            .iter()
            .filter(|r| !cell(&r.verdicts).starts_with("PASS"))
        {
            let _ = writeln!(
                out,
                "         {} {}  {}",
                row.id,
                cell(&row.verdicts),
                row.title
            );
            let _ = writeln!(out, "             {}", row.detail);
        }
        for p in &s.problems {
            let _ = writeln!(out, "         problem: {p}");
        }
    }
    for p in &c.manifest_problems {
        let _ = writeln!(out, "  manifest: {p}");
    }
    let _ = writeln!(
        out,
        "{} — {} scenario(s), total wall time {}",
        c.outcome.to_uppercase(),
        c.scenarios.len(),
        secs(c.wall_time_ms)
    );
    out
}

/// Writes `catalog.md`, `catalog.json` and `junit.xml` (every run's suite) into `dir`.
pub fn write_catalog(c: &Catalog, all: &[ScenarioRuns], dir: &Path) -> anyhow::Result<()> {
    std::fs::write(dir.join("catalog.md"), render_catalog(c)).context("writing catalog.md")?;
    std::fs::write(dir.join("catalog.json"), serde_json::to_string_pretty(c)?)
        .context("writing catalog.json")?;
    let mut junit = quick_junit::Report::new(format!("aima harness catalog {}", c.run_id));
    for runs in all {
        for (k, (report, _)) in runs.runs.iter().enumerate() {
            let run = (runs.runs.len() > 1).then_some(k + 1);
            junit.add_test_suite(junit::suite(report, run));
        }
        if !runs.problems.is_empty() {
            let mut suite = quick_junit::TestSuite::new(format!("scenario-{}", runs.number));
            let mut status =
                quick_junit::TestCaseStatus::non_success(quick_junit::NonSuccessKind::Error);
            status.set_message(runs.problems.join("; "));
            suite.add_test_case(quick_junit::TestCase::new("scenario ran", status));
            junit.add_test_suite(suite);
        }
    }
    if !c.manifest_problems.is_empty() {
        let mut suite = quick_junit::TestSuite::new("manifest");
        let mut status =
            quick_junit::TestCaseStatus::non_success(quick_junit::NonSuccessKind::Error);
        status.set_message(c.manifest_problems.join("; "));
        suite.add_test_case(quick_junit::TestCase::new(
            "manifest matches the scenarios",
            status,
        ));
        junit.add_test_suite(suite);
    }
    std::fs::write(dir.join("junit.xml"), junit.to_string()?).context("writing junit.xml")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_count_passes_over_repeats() {
        let v = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        assert_eq!(cell(&v(&["pass"])), "PASS");
        assert_eq!(cell(&v(&["pass", "fail", "pass"])), "FAIL 2/3");
        assert_eq!(cell(&v(&["pass", "skip"])), "SKIP 1/2");
        assert_eq!(cell(&[]), "—");
    }

    #[test]
    fn a_missing_scenario_or_manifest_problem_fails_the_catalog() {
        let missing = ScenarioRuns {
            number: 7,
            title: "t".into(),
            document: "d".into(),
            criteria: vec![("S7.C1".into(), "x".into())],
            runs: vec![],
            problems: vec!["refused: port busy".into()],
        };
        let c = catalog("id", "now", 1, 1, vec![], std::slice::from_ref(&missing));
        assert!(!c.passed());
        assert!(matrix_table(&c).contains("| 7 — t | **FAIL** | — |"));
        let c = catalog("id", "now", 1, 1, vec!["scenario 9 is missing".into()], &[]);
        assert!(!c.passed());
        assert!(plain_catalog(&c).contains("manifest: scenario 9"));
    }
}
