//! `timeline.svg` of a chaos run, drawn from its `history.jsonl`: one row for the daemon (red
//! while the harness had it killed) and one per service slot, each operation a bar from its
//! invocation to its completion (green: succeeded, orange: refused or failed, purple: killed
//! by the harness, grey: skipped), faults on the slot as red bands, and every violation as a
//! red line across all rows. Every mark has its text as a tooltip.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use crate::svg::{
    BACKGROUND, FAIL, FAULT, KILLED, MUTED, PASS, Scale, WARN, WIDTH, escape, open, title,
};

const LEFT: f64 = 110.0;
const RIGHT: f64 = 30.0;
const ROW: f64 = 34.0;
const TOP: f64 = 70.0;

fn colour(e: &Value) -> &'static str {
    let outcome = e["outcome"].as_str().unwrap_or_default();
    if outcome == "killed" {
        KILLED
    } else if outcome == "skipped" {
        MUTED
    } else if e["ok"] == true || outcome.ends_with("exit 0") || e["kind"] == "fault" {
        PASS
    } else {
        WARN
    }
}

/// Draws the timeline of `history` (the lines of `history.jsonl`) for `slots` slots.
pub(crate) fn draw(history: &[Value], slots: usize, heading: &str) -> String {
    let end = history
        .iter()
        .filter_map(|e| e["t_ms"].as_u64())
        .max()
        .unwrap_or(1)
        .max(1);
    let x = Scale::linear(0.0, end as f64, LEFT, WIDTH - RIGHT);
    let height = TOP + ROW * (slots as f64 + 1.0) + 40.0;
    let mut svg = open(height, Some(11));
    svg.push_str(BACKGROUND);
    svg.push_str(&title(10.0, 24.0, 15, heading));
    let row_y = |row: usize| TOP + ROW * row as f64;
    let _ = write!(svg, r#"<text x="10" y="{}">daemon</text>"#, row_y(0) + 14.0);
    for slot in 0..slots {
        let _ = write!(
            svg,
            r#"<text x="10" y="{}">service {slot}</text>"#,
            row_y(slot + 1) + 14.0
        );
    }
    // Seconds along the bottom.
    let bottom = row_y(slots + 1) + 14.0;
    let step = ((end / 10_000).max(1)) * 1_000;
    for t in (0..=end).step_by(step as usize) {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{bottom:.1}" fill="{MUTED}">{}s</text>"#,
            x.at(t as f64),
            t / 1000
        );
    }
    let mut open_ops: BTreeMap<u64, (u64, usize)> = BTreeMap::new();
    let mut daemon_down: Option<u64> = None;
    for e in history {
        let t = e["t_ms"].as_u64().unwrap_or_default();
        let slot_row = e["slot"].as_u64().map(|s| s as usize + 1);
        match e["kind"].as_str().unwrap_or_default() {
            "invoke" => {
                if let (Some(step), Some(row)) = (e["step"].as_u64(), slot_row.or(Some(0))) {
                    open_ops.insert(step, (t, row));
                }
            }
            "complete" => {
                let Some((from, row)) = e["step"].as_u64().and_then(|s| open_ops.remove(&s)) else {
                    continue;
                };
                let (x0, x1) = (
                    x.at(from as f64),
                    x.at(t as f64).max(x.at(from as f64) + 2.0),
                );
                let text = format!(
                    "{} #{}: {} ({} ms)",
                    e["op"].as_str().unwrap_or(""),
                    e["step"],
                    e["outcome"].as_str().unwrap_or(""),
                    t - from
                );
                let _ = write!(
                    svg,
                    r#"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="12" fill="{}" opacity="0.8"><title>{}</title></rect>"#,
                    row_y(row) + 4.0,
                    x1 - x0,
                    colour(e),
                    escape(&text)
                );
            }
            "fault" if e["fault"] == "kill-daemon" => daemon_down = Some(t),
            "fault" => {
                if let Some(row) = slot_row {
                    let hold = e["hold_ms"].as_u64().unwrap_or(300);
                    let (x0, x1) = (x.at(t as f64), x.at((t + hold) as f64));
                    let _ = write!(
                        svg,
                        r#"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="8" fill="{FAULT}" opacity="0.5"><title>{}</title></rect>"#,
                        row_y(row) + 18.0,
                        (x1 - x0).max(2.0),
                        escape(&format!(
                            "{} on port {}",
                            e["fault"].as_str().unwrap_or(""),
                            e["port"]
                        ))
                    );
                }
            }
            "daemon" if e["event"] == "healthy" => {
                if let Some(from) = daemon_down.take() {
                    let (x0, x1) = (x.at(from as f64), x.at(t as f64));
                    let _ = write!(
                        svg,
                        r#"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="12" fill="{FAULT}"><title>daemon SIGKILLed, down {} ms</title></rect>"#,
                        row_y(0) + 4.0,
                        (x1 - x0).max(2.0),
                        t - from
                    );
                }
            }
            "violation" => {
                let at = x.at(t as f64);
                let text = format!(
                    "{} {}: {}",
                    e["rule"].as_str().unwrap_or(""),
                    e["subject"].as_str().unwrap_or(""),
                    e["detail"].as_str().unwrap_or("")
                );
                let _ = write!(
                    svg,
                    r#"<line x1="{at:.1}" y1="{:.1}" x2="{at:.1}" y2="{:.1}" stroke="{FAIL}" stroke-width="2"><title>{}</title></line>"#,
                    TOP - 6.0,
                    row_y(slots + 1),
                    escape(&text)
                );
            }
            _ => {}
        }
    }
    let legend = [
        (PASS, "succeeded"),
        (WARN, "refused or failed"),
        (KILLED, "killed by the harness"),
        (MUTED, "skipped"),
        (FAULT, "fault"),
        (FAIL, "violation"),
    ];
    let mut lx = LEFT;
    for (fill, text) in legend {
        let _ = write!(
            svg,
            r#"<rect x="{lx:.1}" y="40" width="10" height="10" fill="{fill}"/><text x="{:.1}" y="49">{text}</text>"#,
            lx + 14.0
        );
        lx += 30.0 + text.len() as f64 * 6.0;
    }
    svg.push_str("</svg>\n");
    svg
}

/// Writes `timeline.svg` next to the history.
pub(crate) fn write_timeline(dir: &Path, slots: usize, heading: &str) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(dir.join("history.jsonl"))?;
    let history: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    std::fs::write(dir.join("timeline.svg"), draw(&history, slots, heading))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_faults_and_violations_are_drawn() {
        let history = vec![
            json!({"t_ms": 0, "kind": "invoke", "step": 1, "slot": 0, "op": "start"}),
            json!({"t_ms": 900, "kind": "complete", "step": 1, "slot": 0, "op": "start", "outcome": "killed"}),
            json!({"t_ms": 1000, "kind": "fault", "fault": "kill-daemon"}),
            json!({"t_ms": 2000, "kind": "daemon", "event": "healthy"}),
            json!({"t_ms": 2500, "kind": "violation", "rule": "orphan-container", "subject": "c<1>", "detail": "left"}),
        ];
        let svg = draw(&history, 1, "chaos");
        assert!(
            svg.contains(KILLED) && svg.contains("start #1: killed (900 ms)"),
            "{svg}"
        );
        assert!(svg.contains("daemon SIGKILLed, down 1000 ms"));
        assert!(svg.contains("orphan-container c&lt;1&gt;"));
        assert!(svg.ends_with("</svg>\n"));
    }
}
