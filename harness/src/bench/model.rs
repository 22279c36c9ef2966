//! What a bench run produces: figures (aima against its baseline, both as spreads), the
//! start/fail cycles' resource trace, and the facts around them. Serialized as `bench.json`.

use serde::Serialize;

use super::stats::{Spread, ratio};

/// One side of a figure: its label, every sample and their spread.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Series {
    pub label: String,
    pub unit: &'static str,
    pub samples: Vec<f64>,
    pub spread: Spread,
}

impl Series {
    pub(crate) fn new(label: impl Into<String>, unit: &'static str, samples: Vec<f64>) -> Self {
        let spread = Spread::of(&samples);
        Series {
            label: label.into(),
            unit,
            samples,
            spread,
        }
    }
}

/// aima measured against its baseline in the same run, alternating.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Figure {
    pub id: String,
    pub title: String,
    pub aima: Series,
    pub baseline: Series,
    /// `aima median / baseline median`: below 1 means aima is faster.
    pub ratio: Option<f64>,
    /// Facts around the figure: containers left, exit codes, distinct ports.
    pub facts: Vec<String>,
}

impl Figure {
    pub(crate) fn new(id: &str, title: &str, aima: Series, baseline: Series) -> Self {
        Figure {
            id: id.to_owned(),
            title: title.to_owned(),
            ratio: ratio(&aima.spread, &baseline.spread),
            aima,
            baseline,
            facts: Vec::new(),
        }
    }

    pub(crate) fn fact(mut self, text: impl Into<String>) -> Self {
        self.facts.push(text.into());
        self
    }
}

/// The daemon across the start/fail cycles.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Cycles {
    pub cycles: usize,
    /// Resident memory (KiB) and open fds of the daemon before each cycle and after the last.
    pub rss_kib: Vec<u64>,
    pub fds: Vec<u64>,
    pub codes: Vec<String>,
    pub containers_left: usize,
    pub port_free_after: bool,
    pub warmup: usize,
}

impl Cycles {
    pub(crate) fn rss_growth_kib(&self) -> i64 {
        match (self.rss_kib.first(), self.rss_kib.last()) {
            (Some(&a), Some(&b)) => b as i64 - a as i64,
            _ => 0,
        }
    }

    pub(crate) fn fd_change(&self) -> i64 {
        match (self.fds.first(), self.fds.last()) {
            (Some(&a), Some(&b)) => b as i64 - a as i64,
            _ => 0,
        }
    }
}

/// The whole run, as `bench.json`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BenchReport {
    pub run_id: String,
    pub quick: bool,
    pub profile: String,
    pub aima_bin: String,
    /// The first line of `aima --version`: the version and the commit it was built from.
    pub aima_version: String,
    pub image: String,
    pub docker: String,
    pub load: String,
    pub started_at: String,
    pub wall_secs: f64,
    pub figures: Vec<Figure>,
    pub cycles: Cycles,
    /// The daemon's idle cost of supervision: with no engine, then with N.
    pub idle: Vec<super::supervision::IdleCost>,
    pub notes: Vec<String>,
    pub plots: Vec<String>,
}
