//! `bench.md` and `bench.json`: the summary table (aima and baseline as min / median / p95 /
//! max, and their ratio), each figure's facts, the cycles, and the goals of issue 14 read
//! against this run's figures.

use std::fmt::Write as _;

use super::model::{BenchReport, Figure};
use super::stats::Spread;

/// The goals the project set for itself, each checked against a figure of the run.
fn goals(report: &BenchReport) -> Vec<(String, bool)> {
    let median = |id: &str| {
        report
            .figures
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.aima.spread.median)
    };
    let mut goals = Vec::new();
    if let Some(ms) = median("port_conflict_cli") {
        goals.push((
            format!("CLI port-conflict median ≤ 10 ms: {ms:.1} ms"),
            ms <= 10.0,
        ));
    }
    if let Some(ms) = median("port_conflict_api") {
        goals.push((
            format!("API port-conflict median ≤ 5 ms: {ms:.1} ms"),
            ms <= 5.0,
        ));
    }
    let c = &report.cycles;
    goals.push((
        format!(
            "after {} start/fail cycles: {} containers left by aima, port free: {}",
            c.cycles, c.containers_left, c.port_free_after
        ),
        c.containers_left == 0 && c.port_free_after,
    ));
    goals.push((
        format!("RSS growth ≤ 1 MiB: {} KiB", c.rss_growth_kib()),
        c.rss_growth_kib() <= 1024,
    ));
    goals.push((
        format!("fds unchanged: {:+}", c.fd_change()),
        c.fd_change() == 0,
    ));
    if let Some(ratio) = report
        .figures
        .iter()
        .find(|f| f.id == "restart_after_kill")
        .and_then(|f| f.ratio)
    {
        goals.push((
            format!("restart after a kill no slower than Docker's (ratio ≤ 1.0): {ratio:.2}"),
            ratio <= 1.0,
        ));
    }
    if let Some(busy) = report
        .idle
        .iter()
        .filter(|i| i.engines > 0)
        .max_by_key(|i| i.engines)
    {
        goals.push((
            format!(
                "supervising {} idle engines: ≤ 1 % of one core: {:.2} %",
                busy.engines, busy.cpu_percent
            ),
            busy.cpu_percent <= 1.0,
        ));
        goals.push((
            format!(
                "supervising {} idle engines: RSS ≤ 30 MiB: {:.1} MiB",
                busy.engines,
                busy.rss_kib as f64 / 1024.0
            ),
            busy.rss_kib <= 30 * 1024,
        ));
    }
    goals
}

/// The idle cost of supervision as a table: one line per engine count.
fn idle_table(report: &BenchReport) -> String {
    let mut md = String::from(
        "| engines | window (s) | CPU s per minute | % of one core | RSS (MiB) |\n|---|---|---|---|---|\n",
    );
    for i in &report.idle {
        let _ = writeln!(
            md,
            "| {} | {:.0} | {:.3} | {:.2} | {:.1} |",
            i.engines,
            i.window_secs,
            i.cpu_secs_per_min,
            i.cpu_percent,
            i.rss_kib as f64 / 1024.0
        );
    }
    md
}

pub(crate) fn markdown(report: &BenchReport) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# aima bench — {}\n", report.run_id);
    let _ = writeln!(
        md,
        "{} run, {} at `{}` ({} build), engine image `{}`, Docker {}; started {}, took {:.0} s. \
         Load average at start / end: {}. Every figure alternates aima and its baseline in \
         this run; the ratio is aima's median over the baseline's (below 1: aima is faster).\n",
        if report.quick {
            "Quick (smoke)"
        } else {
            "Full"
        },
        report.aima_version,
        report.aima_bin,
        report.profile,
        report.image,
        report.docker,
        report.started_at,
        report.wall_secs,
        report.load
    );
    md.push_str("## Goals\n\n");
    for (text, met) in goals(report) {
        let _ = writeln!(md, "- {} {text}", if met { "met:" } else { "NOT met:" });
    }
    md.push_str("\n## Figures (ms)\n\n");
    md.push_str(&table(&report.figures));
    md.push('\n');
    for figure in &report.figures {
        let _ = writeln!(md, "- **{}** — {}", figure.id, figure.title);
        for fact in &figure.facts {
            let _ = writeln!(md, "  - {fact}");
        }
    }
    let c = &report.cycles;
    let first_last =
        |v: &[u64]| format!("{} → {}", v.first().unwrap_or(&0), v.last().unwrap_or(&0));
    let _ = writeln!(
        md,
        "\n## {} start/fail cycles through the daemon\n\n\
         Each cycle is `POST /api/v2/services/{{id}}/start` on a held port (after {} warm-up cycles). \
         Answers: {}. RSS {} KiB ({:+} KiB), open fds {} ({:+}), containers left by aima {}, \
         service port free after the holder stopped: {}.\n",
        c.cycles,
        c.warmup,
        c.codes.join(", "),
        first_last(&c.rss_kib),
        c.rss_growth_kib(),
        first_last(&c.fds),
        c.fd_change(),
        c.containers_left,
        c.port_free_after
    );
    if !report.idle.is_empty() {
        md.push_str(
            "## Idle cost of supervision\n\n\
             The supervising daemon's own CPU time (user + system, every thread, from \
             `/proc/<pid>/stat`) over a window in which nothing happens, and its RSS at the end, \
             with no engine and with N running engines whose services have `--restart always`.\n\n",
        );
        md.push_str(&idle_table(report));
        md.push('\n');
    }
    md.push_str("## Plots\n\n");
    for plot in &report.plots {
        let _ = writeln!(md, "![{plot}]({plot})\n");
    }
    if !report.notes.is_empty() {
        md.push_str("## Notes\n\n");
        for note in &report.notes {
            let _ = writeln!(md, "- {note}");
        }
    }
    md
}

/// The summary table: one line per figure.
pub(crate) fn table(figures: &[Figure]) -> String {
    let mut md = String::from(
        "| figure | aima | min | median | p95 | max | baseline | min | median | p95 | max | ratio | n |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for f in figures {
        let cells = |s: &Spread| {
            format!(
                "{} | {} | {} | {}",
                ms(s.min),
                ms(s.median),
                ms(s.p95),
                ms(s.max)
            )
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {}/{} |",
            f.id,
            f.aima.label,
            cells(&f.aima.spread),
            f.baseline.label,
            cells(&f.baseline.spread),
            f.ratio.map_or("—".to_owned(), |r| format!("{r:.2}")),
            f.aima.spread.n,
            f.baseline.spread.n
        );
    }
    md
}

fn ms(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}
