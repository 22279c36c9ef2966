//! What a reaper did, kept as JSON: `reaper.json` in the run's folder (when it still exists)
//! and, when there was anything to do, `<run id>.reaped.json` in the shared markers folder,
//! where the next run finds it and reports it as a warning.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::marker::markers_dir;
use super::target::Target;

/// The reaper's account of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ReapRecord {
    pub run_id: String,
    /// The `aima.instance` label of the run's data dir (its containers carry it).
    pub instance: String,
    /// True when the harness said it finished; false when it vanished (killed, crashed).
    pub harness_said_done: bool,
    /// RFC 3339, UTC.
    pub swept_at: String,
    /// One line per process stopped, container removed or port still busy; empty when the
    /// run had cleaned up after itself.
    pub actions: Vec<String>,
}

impl ReapRecord {
    pub(crate) fn new(target: &Target, harness_said_done: bool, actions: Vec<String>) -> Self {
        Self {
            run_id: target.run_id.clone(),
            instance: target.instance.clone(),
            harness_said_done,
            swept_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            actions,
        }
    }

    /// One line for a warning: `run X (harness killed): stopped ...; removed ...`.
    pub(crate) fn summary(&self) -> String {
        let how = if self.harness_said_done {
            "finished"
        } else {
            "ended without finishing"
        };
        format!(
            "run {} ({how}) left {} thing(s) the reaper cleaned up at {}: {}",
            self.run_id,
            self.actions.len(),
            self.swept_at,
            self.actions.join("; ")
        )
    }

    /// Writes `reaper.json` into `run_dir` (if given and present) and, when anything had to be
    /// done, the record the next run reports.
    pub(crate) fn save(&self, run_dir: Option<&Path>) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self)?;
        if let Some(dir) = run_dir.filter(|d| d.is_dir()) {
            std::fs::write(dir.join("reaper.json"), &json)?;
        }
        if !self.actions.is_empty() {
            std::fs::create_dir_all(markers_dir())?;
            std::fs::write(leftover_path(&self.run_id), &json)?;
        }
        Ok(())
    }
}

fn leftover_path(run_id: &str) -> PathBuf {
    markers_dir().join(format!("{run_id}.reaped.json"))
}

/// The records of earlier runs' reapers that had something to do; each is handed out once
/// (its file is removed), so it is reported by exactly one later run.
pub(crate) fn take_leftovers() -> Vec<ReapRecord> {
    let Ok(entries) = std::fs::read_dir(markers_dir()) else {
        return Vec::new();
    };
    let mut records: Vec<ReapRecord> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".reaped.json"))
        .filter_map(|path| {
            let bytes = std::fs::read(&path).ok()?;
            // Whoever removes the file reports it; a concurrent run may have been first.
            std::fs::remove_file(&path).ok()?;
            serde_json::from_slice(&bytes).ok()
        })
        .collect();
    records.sort_by(|a, b| a.swept_at.cmp(&b.swept_at));
    records
}
