//! What a start reports while it runs, for a person watching: each step as it begins, the image
//! pull as it advances, and the engine's newest log line while it loads.

use std::collections::BTreeMap;

use crate::domain::Phase;
use crate::runtime::PullProgress;

/// One thing worth showing about a start in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartEvent<'a> {
    /// A step began: its phase and a line saying what it does.
    Step { phase: Phase, text: &'a str },
    /// The image pull advanced.
    Pulling(&'a PullTally),
    /// The engine's newest log line while it loads.
    EngineLog(&'a str),
}

/// A [`StartEvent`] that can travel: the daemon publishes a start's steps and pull progress
/// on its event stream, and a CLI talking to it (`--host`) shows them as in-process. The
/// engine's log lines stay home: they are read under `[access] logs`, not the event stream's
/// rules.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StartNote {
    Step { phase: Phase, text: String },
    Pulling { tally: PullTally },
    /// The start is over, whatever its outcome: nothing more follows for it.
    Ended,
}

impl StartNote {
    /// The note for `event`; none for an engine's log line.
    pub fn of(event: StartEvent<'_>) -> Option<Self> {
        match event {
            StartEvent::Step { phase, text } => Some(StartNote::Step {
                phase,
                text: text.to_owned(),
            }),
            StartEvent::Pulling(tally) => Some(StartNote::Pulling {
                tally: tally.clone(),
            }),
            StartEvent::EngineLog(_) => None,
        }
    }

    /// The event to show; none once the start ended.
    pub fn event(&self) -> Option<StartEvent<'_>> {
        match self {
            StartNote::Step { phase, text } => Some(StartEvent::Step {
                phase: *phase,
                text,
            }),
            StartNote::Pulling { tally } => Some(StartEvent::Pulling(tally)),
            StartNote::Ended => None,
        }
    }
}

/// Where to send [`StartEvent`]s; `None` in `StartOptions` keeps a start silent.
pub type Progress<'a> = &'a (dyn Fn(StartEvent<'_>) + Send + Sync);

/// A pull's layers so far, summed from Docker's per-layer messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PullTally {
    pub image: String,
    layers: BTreeMap<String, Layer>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Layer {
    current: u64,
    total: u64,
    done: bool,
}

impl PullTally {
    pub fn new(image: &str) -> Self {
        PullTally {
            image: image.to_owned(),
            layers: BTreeMap::new(),
        }
    }

    /// Takes in one of Docker's messages; messages about the whole image carry no layer.
    pub fn update(&mut self, p: &PullProgress) {
        if p.layer.is_empty() || p.layer == self.image || p.status.starts_with("Pulling from") {
            return;
        }
        let layer = self.layers.entry(p.layer.clone()).or_default();
        match p.status.as_str() {
            "Downloading" => {
                layer.current = p.current.unwrap_or(layer.current);
                layer.total = p.total.unwrap_or(layer.total);
            }
            "Download complete" | "Verifying Checksum" => layer.current = layer.total,
            "Pull complete" | "Already exists" => {
                layer.current = layer.total;
                layer.done = true;
            }
            _ => {}
        }
    }

    pub fn layers(&self) -> usize {
        self.layers.len()
    }

    pub fn layers_done(&self) -> usize {
        self.layers.values().filter(|l| l.done).count()
    }

    /// Bytes downloaded and bytes known to download, over the layers Docker sized so far.
    pub fn bytes(&self) -> (u64, u64) {
        self.layers
            .values()
            .fold((0, 0), |(c, t), l| (c + l.current, t + l.total))
    }

    /// `3/5 layers, 41.2/80.0 MB`.
    pub fn summary(&self) -> String {
        let (current, total) = self.bytes();
        let mb = |b: u64| b as f64 / 1_000_000.0;
        format!(
            "{}/{} layers, {:.1}/{:.1} MB",
            self.layers_done(),
            self.layers(),
            mb(current),
            mb(total)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(layer: &str, status: &str, current: Option<u64>, total: Option<u64>) -> PullProgress {
        PullProgress {
            layer: layer.into(),
            status: status.into(),
            current,
            total,
        }
    }

    #[test]
    fn layers_are_summed_from_dockers_messages() {
        let mut t = PullTally::new("r/sim:1");
        t.update(&msg("1", "Pulling from r/sim", None, None));
        t.update(&msg("aaa", "Pulling fs layer", None, None));
        t.update(&msg("bbb", "Already exists", None, None));
        t.update(&msg("aaa", "Downloading", Some(500_000), Some(2_000_000)));
        assert_eq!(t.summary(), "1/2 layers, 0.5/2.0 MB");
        t.update(&msg("aaa", "Pull complete", None, None));
        assert_eq!((t.layers_done(), t.bytes()), (2, (2_000_000, 2_000_000)));
    }

    #[test]
    fn a_note_travels_as_json_and_comes_back_as_its_event() {
        let step = StartEvent::Step {
            phase: Phase::Pull,
            text: "pulling image r/sim:1",
        };
        let note = StartNote::of(step).unwrap();
        let json = serde_json::to_value(&note).unwrap();
        assert_eq!(json["kind"], "step", "{json}");
        let back: StartNote = serde_json::from_value(json).unwrap();
        assert_eq!(back.event(), Some(step));
        assert_eq!(StartNote::of(StartEvent::EngineLog("INFO loading")), None);
    }
}
