//! `timeline.svg`: the run as a picture, drawn by hand from the report (no plotting crate
//! needed for boxes and text). Top: the verdict of every criterion. Below, on one time axis:
//! faults from injection to heal (red bands), observations and harness events (marks with the
//! text as a tooltip), and one row per command with its duration, exit code and outcome colour.
//! The frame, palette, scale and escaping are `crate::svg`'s, shared with the bench's plots.

use std::fmt::Write;

use crate::exec::CommandRecord;
use crate::svg::{
    BACKGROUND, FAIL, FAULT, KILLED, MARK, MUTED, PASS, Scale, WARN, WIDTH, escape, open, shorten,
    title,
};
use crate::timeline::{Event, EventKind};
use crate::verdict::Verdict;

use super::Report;

const LEFT: f64 = 300.0;
const RIGHT: f64 = 150.0;
const ROW: f64 = 18.0;
const TOP: f64 = 96.0;

/// One fault from injection to heal (`None`: not healed before the end of the run).
#[derive(Debug, Clone, PartialEq, Eq)]
struct FaultSpan {
    from_ms: u64,
    to_ms: Option<u64>,
    text: String,
}

/// Pairs each heal with the most recent open fault (faults nest like setup and undo).
fn fault_spans(events: &[Event]) -> Vec<FaultSpan> {
    let mut spans: Vec<FaultSpan> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    for event in events {
        match event.kind {
            EventKind::Fault => {
                open.push(spans.len());
                spans.push(FaultSpan {
                    from_ms: event.at_ms,
                    to_ms: None,
                    text: event.text.clone(),
                });
            }
            EventKind::Heal => {
                if let Some(index) = open.pop() {
                    spans[index].to_ms = Some(event.at_ms);
                }
            }
            EventKind::Operation | EventKind::Observation => {}
        }
    }
    spans
}

/// A tick step giving at most ten ticks over `span_ms`.
fn tick_step(span_ms: u64) -> u64 {
    [
        100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000,
    ]
    .into_iter()
    .find(|step| span_ms / step <= 10)
    .unwrap_or(600_000)
}

fn outcome_colour(record: &CommandRecord) -> &'static str {
    match (record.timed_out, record.exit_code) {
        (true, _) | (false, None) => KILLED,
        (false, Some(0)) => PASS,
        (false, Some(_)) => WARN,
    }
}

/// Renders the picture of a report.
pub fn render_timeline_svg(report: &Report) -> String {
    let commands = &report.commands;
    let end_ms = report
        .timeline
        .iter()
        .map(|e| e.at_ms)
        .chain(commands.iter().map(|c| c.started_at_ms + c.duration_ms))
        .chain([report.wall_time_ms, 1])
        .max()
        .unwrap_or(1);
    let scale = Scale::linear(0.0, end_ms as f64, LEFT, WIDTH - RIGHT);
    let x = |ms: u64| scale.at(ms as f64);
    let spans = fault_spans(&report.timeline);
    let rows_top = TOP + 2.0 * ROW + 6.0;
    let rows_bottom = rows_top + ROW * commands.len() as f64;
    let height = rows_bottom + ROW * (spans.len() as f64 + 3.0) + 10.0;
    let mut svg = String::new();
    let _ = writeln!(svg, "{}", open(height, Some(12)));
    let heading = format!(
        "Scenario {} — {}: {} ({} pass, {} fail, {} skip) in {:.1} s",
        report.scenario.number,
        report.scenario.title,
        report.outcome.to_uppercase(),
        report.counts.pass,
        report.counts.fail,
        report.counts.skip,
        report.wall_time_ms as f64 / 1000.0,
    );
    let _ = writeln!(svg, "{BACKGROUND}{}", title(10.0, 22.0, 16, &heading));
    verdicts(&mut svg, report);
    axis(&mut svg, end_ms, rows_bottom, &x);
    faults(&mut svg, &spans, end_ms, rows_bottom, &x);
    marks(&mut svg, &report.timeline, &x);
    for (row, record) in commands.iter().enumerate() {
        command_row(&mut svg, record, rows_top + ROW * row as f64, &x);
    }
    let mut y = rows_bottom + ROW;
    for (n, span) in spans.iter().enumerate() {
        let until = match span.to_ms {
            Some(to) => format!("healed at {:.2} s", to as f64 / 1000.0),
            None => "not healed before the end".to_owned(),
        };
        let _ = writeln!(
            svg,
            r#"<text x="10" y="{y}" fill="{FAULT}">F{}: {} — from {:.2} s, {until}</text>"#,
            n + 1,
            escape(&shorten(&span.text, 110)),
            span.from_ms as f64 / 1000.0
        );
        y += ROW;
    }
    let _ = writeln!(
        svg,
        r#"<text x="10" y="{y}" fill="{MUTED}">Bars: green exit 0, orange another exit code, purple killed or ended by a signal. Red bands: faults in force.</text><text x="10" y="{}" fill="{MUTED}">Diamonds: observations (orange: warnings); hover any mark for its text. Run {}.</text>"#,
        y + ROW,
        escape(&report.run_id)
    );
    svg.push_str("</svg>\n");
    svg
}

fn verdicts(svg: &mut String, report: &Report) {
    let mut left = 10.0;
    for result in &report.criteria {
        let colour = match result.verdict {
            Verdict::Pass => PASS,
            Verdict::Fail(_) => FAIL,
            Verdict::Skip(_) => MUTED,
        };
        let text = format!("{} {}", result.id, result.verdict.label());
        let width = 8.0 * text.len() as f64 + 12.0;
        let tip = result.verdict.reason().unwrap_or(&result.title);
        let _ = writeln!(
            svg,
            r#"<g><title>{}</title><rect x="{left}" y="36" width="{width}" height="22" rx="4" fill="{colour}"/><text x="{}" y="51" fill="white" font-weight="bold">{}</text></g>"#,
            escape(tip),
            left + 6.0,
            escape(&text)
        );
        left += width + 6.0;
    }
}

fn axis(svg: &mut String, end_ms: u64, bottom: f64, x: &dyn Fn(u64) -> f64) {
    let step = tick_step(end_ms);
    let mut tick = 0;
    while tick <= end_ms {
        let at = x(tick);
        let _ = writeln!(
            svg,
            r##"<line x1="{at:.1}" y1="{}" x2="{at:.1}" y2="{bottom}" stroke="#e0e0e0"/><text x="{at:.1}" y="{}" text-anchor="middle" fill="{MUTED}">{:.1} s</text>"##,
            TOP - ROW,
            TOP - ROW - 4.0,
            tick as f64 / 1000.0
        );
        tick += step;
    }
    for (row, name) in ["faults", "observations"].iter().enumerate() {
        let _ = writeln!(
            svg,
            r#"<text x="10" y="{}" font-weight="bold">{name}</text>"#,
            TOP + ROW * row as f64 + 13.0
        );
    }
}

fn faults(svg: &mut String, spans: &[FaultSpan], end_ms: u64, bottom: f64, x: &dyn Fn(u64) -> f64) {
    for (n, span) in spans.iter().enumerate() {
        let (from, to) = (x(span.from_ms), x(span.to_ms.unwrap_or(end_ms)));
        let width = (to - from).max(2.0);
        let healed = match span.to_ms {
            Some(to) => format!("healed after {} ms", to - span.from_ms),
            None => "not healed".to_owned(),
        };
        let tip = escape(&format!("{} ({healed})", span.text));
        let _ = writeln!(
            svg,
            r#"<g><title>{tip}</title><rect x="{from:.1}" y="{TOP}" width="{width:.1}" height="{:.1}" fill="{FAULT}" fill-opacity="0.10"/><rect x="{from:.1}" y="{TOP}" width="{width:.1}" height="{}" fill="{FAULT}"/><text x="{:.1}" y="{}" font-size="11" fill="white" font-weight="bold">F{}</text></g>"#,
            bottom - TOP,
            ROW - 4.0,
            from + 2.0,
            TOP + 11.0,
            n + 1
        );
    }
}

fn marks(svg: &mut String, events: &[Event], x: &dyn Fn(u64) -> f64) {
    let y = TOP + ROW + 8.0;
    for event in events {
        // Command results have their own rows; faults and heals their bands.
        let own_row = event.kind == EventKind::Operation && event.text.starts_with('#');
        if own_row || matches!(event.kind, EventKind::Fault | EventKind::Heal) {
            continue;
        }
        let warning = event.text.contains("NOT") || event.text.starts_with("warning");
        let colour = if warning { WARN } else { MARK };
        let at = x(event.at_ms);
        let _ = writeln!(
            svg,
            r#"<g><title>{} ms: {}</title><path d="M{at:.1} {} l5 5 l-5 5 l-5 -5 z" fill="{colour}"/></g>"#,
            event.at_ms,
            escape(&event.text),
            y - 5.0
        );
    }
}

fn command_row(svg: &mut String, record: &CommandRecord, top: f64, x: &dyn Fn(u64) -> f64) {
    let from = x(record.started_at_ms);
    let width = (x(record.started_at_ms + record.duration_ms) - from).max(2.0);
    let colour = outcome_colour(record);
    let outcome = match (record.timed_out, record.exit_code) {
        (true, _) => format!("killed · {} ms", record.duration_ms),
        (false, Some(code)) => format!("exit {code} · {} ms", record.duration_ms),
        (false, None) => format!("signal · {} ms", record.duration_ms),
    };
    let label = format!("#{} {}", record.index, record.step);
    let _ = writeln!(
        svg,
        r#"<g><title>{}</title><text x="10" y="{}">{}</text><rect x="{from:.1}" y="{}" width="{width:.1}" height="{}" rx="2" fill="{colour}"/><text x="{:.1}" y="{}" font-size="11" fill="{colour}">{}</text></g>"#,
        escape(&format!(
            "{} — {} ({})",
            record.step,
            record.display,
            record.outcome()
        )),
        top + 13.0,
        escape(&shorten(&label, 44)),
        top + 3.0,
        ROW - 6.0,
        from + width + 4.0,
        top + 13.0,
        escape(&outcome)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(at_ms: u64, kind: EventKind, text: &str) -> Event {
        Event {
            at_ms,
            kind,
            text: text.into(),
        }
    }

    #[test]
    fn heals_close_the_most_recent_open_fault() {
        let events = [
            event(10, EventKind::Fault, "port blocked"),
            event(20, EventKind::Fault, "DOCKER_HOST broken"),
            event(30, EventKind::Heal, "DOCKER_HOST restored"),
            event(40, EventKind::Heal, "blocker stopped"),
            event(50, EventKind::Fault, "port blocked again"),
        ];
        let spans = fault_spans(&events);
        let ends: Vec<(u64, Option<u64>)> = spans.iter().map(|s| (s.from_ms, s.to_ms)).collect();
        assert_eq!(ends, [(10, Some(40)), (20, Some(30)), (50, None)]);
    }

    #[test]
    fn outcomes_have_colours_and_text_is_escaped() {
        let record = CommandRecord {
            index: 7,
            step: "s".into(),
            display: "DOCKER_HOST=tcp://x aima service start svc-1 --wait".into(),
            exit_code: Some(5),
            timed_out: false,
            deadline_ms: 1,
            duration_ms: 120,
            started_at_ms: 0,
            stdout: String::new(),
            stderr: String::new(),
            stdout_log: None,
            stderr_log: None,
        };
        assert_eq!(outcome_colour(&record), WARN);
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(tick_step(3_500), 500);
    }
}
