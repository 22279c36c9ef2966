//! `junit.xml` through `quick-junit`: one test suite per run, one test case per criterion with
//! its time (the commands it cites), its evidence as system-out and its figures as properties.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use crate::verdict::{CriterionResult, Verdict};

use super::Report;

/// The run as one JUnit test suite, named `scenario-N` (`scenario-N-run-K` with `run`).
pub fn suite(report: &Report, run: Option<usize>) -> TestSuite {
    let name = match run {
        Some(k) => format!("scenario-{}-run-{k}", report.scenario.number),
        None => format!("scenario-{}", report.scenario.number),
    };
    let mut suite = TestSuite::new(name.clone());
    suite.set_time(Duration::from_millis(report.wall_time_ms));
    suite.add_property(Property::new("run_id", report.run_id.as_str()));
    suite.add_property(Property::new(
        "commit",
        report.environment.commit.as_deref().unwrap_or("unknown"),
    ));
    suite.add_property(Property::new(
        "dirty_tree",
        report.environment.dirty_tree.to_string(),
    ));
    if let Some(crash) = &report.crashed {
        suite.set_system_err(format!("the scenario crashed: {crash}"));
    }
    for result in &report.criteria {
        suite.add_test_case(case(report, result, &name));
    }
    suite
}

fn case(report: &Report, result: &CriterionResult, classname: &str) -> TestCase {
    let status = match &result.verdict {
        Verdict::Pass => TestCaseStatus::success(),
        Verdict::Fail(reason) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(reason.as_str());
            status
        }
        Verdict::Skip(reason) => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(reason.as_str());
            status
        }
    };
    let mut case = TestCase::new(format!("{} {}", result.id, result.title), status);
    case.set_classname(classname);
    let ev = &result.evidence;
    let millis: u64 = ev
        .commands
        .iter()
        .filter_map(|i| report.command(*i))
        .map(|c| c.duration_ms)
        .sum();
    case.set_time(Duration::from_millis(millis));
    for (name, value) in &ev.figures {
        case.add_property(Property::new(name.as_str(), value.to_string()));
    }
    let mut out: Vec<String> = Vec::new();
    out.extend(ev.read_back.iter().map(|l| format!("read back: {l}")));
    out.extend(ev.notes.iter().map(|l| format!("note: {l}")));
    out.extend(ev.docker.iter().map(|l| format!("docker: {l}")));
    out.extend(
        ev.commands
            .iter()
            .filter_map(|i| report.command(*i))
            .map(|c| format!("command #{}: {} -> {}", c.index, c.display, c.outcome())),
    );
    if !out.is_empty() {
        case.set_system_out(out.join("\n"));
    }
    case
}

/// Renders one run as a JUnit XML document.
pub fn render_junit(report: &Report) -> String {
    let mut junit = quick_junit::Report::new(format!("aima harness {}", report.run_id));
    junit.add_test_suite(suite(report, None));
    junit
        .to_string()
        .unwrap_or_else(|e| format!("<!-- junit not rendered: {e} -->"))
}
