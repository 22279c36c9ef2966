//! The bench's plots, written by hand as SVG with `crate::svg` (as the scenario timeline is):
//! every figure's samples for aima and its baseline side by side on one logarithmic time axis,
//! and the daemon's memory and open fds across the start/fail cycles.

use std::fmt::Write as _;

use crate::svg::{AIMA, BACKGROUND, BASELINE, Scale, WIDTH, escape, open, title};

use super::model::{Cycles, Figure, Series};

const LEFT: f64 = 330.0;
const RIGHT: f64 = 40.0;
const ROW: f64 = 20.0;
const TOP: f64 = 50.0;

/// Latency distributions: one row per series, a dot per sample, a bar from min to max, a thick
/// mark at the median and a thin one at p95.
pub(crate) fn latency(figures: &[Figure]) -> String {
    let all = figures
        .iter()
        .flat_map(|f| f.aima.samples.iter().chain(&f.baseline.samples))
        .copied()
        .filter(|v| *v > 0.0);
    let (lo, hi) = all.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (1.0, 10.0) };
    let (lo_exp, hi_exp) = (
        lo.log10().floor() as i32,
        hi.log10().ceil().max(lo.log10().floor() + 1.0) as i32,
    );
    let scale = Scale::decades(lo_exp, hi_exp, LEFT, WIDTH - RIGHT);
    let x = |v: f64| scale.at(v);
    let rows = figures.len() * 2;
    let height = TOP + rows as f64 * ROW + figures.len() as f64 * 8.0 + 40.0;
    let mut svg = header(
        height,
        "latency of every figure, aima and its baseline (ms, log scale)",
    );
    for exp in lo_exp..=hi_exp {
        let at = x(10f64.powi(exp));
        let _ = write!(
            svg,
            r##"<line x1="{at:.1}" y1="{TOP}" x2="{at:.1}" y2="{:.1}" stroke="#ddd"/><text x="{at:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text>"##,
            height - 35.0,
            height - 20.0,
            label_ms(10f64.powi(exp))
        );
    }
    let mut y = TOP;
    for figure in figures {
        for (series, colour) in [(&figure.aima, AIMA), (&figure.baseline, BASELINE)] {
            row(&mut svg, &x, y, &figure.id, series, colour);
            y += ROW;
        }
        y += 8.0;
    }
    let _ = write!(
        svg,
        r##"<text x="{LEFT}" y="30" font-size="12"><tspan fill="{AIMA}">● aima</tspan>  <tspan fill="{BASELINE}">● baseline</tspan>  — bar: min to max, thick mark: median, thin mark: p95</text></svg>"##
    );
    svg
}

fn row(svg: &mut String, x: &impl Fn(f64) -> f64, y: f64, id: &str, series: &Series, colour: &str) {
    let mid = y + ROW / 2.0;
    let s = &series.spread;
    let _ = write!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">{} · {}</text>"##,
        LEFT - 8.0,
        mid + 4.0,
        escape(id),
        escape(&series.label)
    );
    if s.n == 0 {
        return;
    }
    let _ = write!(
        svg,
        r##"<line x1="{:.1}" y1="{mid:.1}" x2="{:.1}" y2="{mid:.1}" stroke="{colour}" stroke-opacity="0.5"/>"##,
        x(s.min),
        x(s.max)
    );
    for (i, v) in series.samples.iter().enumerate() {
        let jitter = ((i * 7) % 9) as f64 - 4.0;
        let _ = write!(
            svg,
            r##"<circle cx="{:.1}" cy="{:.1}" r="2.2" fill="{colour}" fill-opacity="0.35"/>"##,
            x(*v),
            mid + jitter
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{m:.1}" y1="{:.1}" x2="{m:.1}" y2="{:.1}" stroke="{colour}" stroke-width="3"/><line x1="{p:.1}" y1="{:.1}" x2="{p:.1}" y2="{:.1}" stroke="{colour}"/>"##,
        mid - 7.0,
        mid + 7.0,
        mid - 5.0,
        mid + 5.0,
        m = x(s.median),
        p = x(s.p95),
    );
}

/// The daemon's RSS (KiB) and open fds before each cycle and after the last.
pub(crate) fn cycles(trace: &Cycles) -> String {
    let height = 460.0;
    let mut svg = header(
        height,
        &format!(
            "aima daemon across {} start/fail cycles (after {} warm-up cycles)",
            trace.cycles, trace.warmup
        ),
    );
    panel(&mut svg, 50.0, "RSS (KiB)", &trace.rss_kib, AIMA);
    panel(&mut svg, 260.0, "open fds", &trace.fds, BASELINE);
    svg.push_str("</svg>");
    svg
}

fn panel(svg: &mut String, top: f64, title: &str, values: &[u64], colour: &str) {
    let (h, w) = (150.0, WIDTH - 120.0 - RIGHT);
    let left = 120.0;
    let lo = values.iter().min().copied().unwrap_or(0);
    let hi = values.iter().max().copied().unwrap_or(1).max(lo + 1);
    // A little headroom, so a flat line is visibly flat and not on the frame.
    let (lo, hi) = (
        lo.saturating_sub((hi - lo) / 10 + 1),
        hi + (hi - lo) / 10 + 1,
    );
    let n = values.len().max(2) - 1;
    let (xs, ys) = (
        Scale::linear(0.0, n as f64, left, left + w),
        Scale::linear(lo as f64, hi as f64, top + h, top),
    );
    let px = |i: usize| xs.at(i as f64);
    let py = |v: u64| ys.at(v as f64);
    let _ = write!(
        svg,
        r##"<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#999"/><text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end">{title}</text><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{hi}</text><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{lo}</text><text x="{left}" y="{:.1}" font-size="11">cycle 0</text><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{n}</text>"##,
        left - 8.0,
        top + h / 2.0,
        left - 8.0,
        top + 10.0,
        left - 8.0,
        top + h,
        top + h + 16.0,
        left + w,
        top + h + 16.0,
    );
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", px(i), py(*v)))
        .collect();
    let _ = write!(
        svg,
        r##"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1.5"/>"##,
        points.join(" ")
    );
}

fn header(height: f64, heading: &str) -> String {
    format!(
        "{}{BACKGROUND}{}",
        open(height, None),
        title(20.0, 20.0, 14, heading)
    )
}

fn label_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{} s", ms / 1000.0)
    } else {
        format!("{ms} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_are_svg_documents_with_a_mark_per_sample() {
        let figure = Figure::new(
            "f",
            "t",
            Series::new("aima", "ms", vec![1.0, 2.0, 3.0]),
            Series::new("docker <cli>", "ms", vec![100.0]),
        );
        let svg = latency(&[figure]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 4);
        assert!(svg.contains("docker &lt;cli&gt;"));
        let trace = Cycles {
            cycles: 2,
            rss_kib: vec![10, 10, 12],
            fds: vec![5, 5, 5],
            ..Cycles::default()
        };
        let svg = cycles(&trace);
        assert_eq!(svg.matches("<polyline").count(), 2);
    }
}
