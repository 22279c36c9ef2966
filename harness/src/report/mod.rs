//! Reports of a run: the JSON document (the source of truth), Markdown and JUnit renderings of
//! it, the terminal summary, and the combined catalog report of `scenario all`. The scenario
//! runner builds the document (`crate::scenario`); nothing here knows scenario types.

mod combined;
mod environment;
mod junit;
mod markdown;
mod model;
mod series;
mod summary;
mod timeline_svg;

pub use combined::{ScenarioRuns, catalog, plain_catalog, write_catalog};
pub use environment::Environment;
pub use junit::render_junit;
pub use markdown::render_markdown;
pub use model::{Counts, Report, SCHEMA, ScenarioRef};
pub use series::{series, series_table};
pub use summary::{plain_summary, summary_table};

use std::path::Path;

use anyhow::Context;

/// The timeline picture's file name in a run's folder.
pub const TIMELINE_SVG: &str = "timeline.svg";

/// Writes `report.json`, `report.md` (which shows `timeline.svg`), `timeline.svg` and
/// `junit.xml` into the run directory.
pub fn write_all(report: &Report, run_dir: &Path) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(report)?;
    std::fs::write(run_dir.join("report.json"), json).context("writing report.json")?;
    std::fs::write(
        run_dir.join(TIMELINE_SVG),
        timeline_svg::render_timeline_svg(report),
    )
    .context("writing timeline.svg")?;
    std::fs::write(run_dir.join("report.md"), render_markdown(report))
        .context("writing report.md")?;
    std::fs::write(run_dir.join("junit.xml"), render_junit(report)).context("writing junit.xml")?;
    Ok(())
}
