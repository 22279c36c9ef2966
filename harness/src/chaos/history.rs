//! The history of a chaos run: every operation (invoked, completed with its result), fault,
//! observation and violation, one JSON object per line in `history.jsonl`, each stamped with
//! milliseconds since the run began. The first line is the schedule, so a history replays.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use serde_json::{Value, json};

/// Events kept in memory for the context of a violation.
const RECENT: usize = 600;

/// The run's history file, shared by every lane and the observer.
pub(crate) struct History {
    start: Instant,
    inner: Mutex<Inner>,
}

struct Inner {
    file: BufWriter<File>,
    recent: VecDeque<Value>,
    written: usize,
}

impl History {
    pub(crate) fn create(path: &Path, start: Instant) -> std::io::Result<Self> {
        Ok(Self {
            start,
            inner: Mutex::new(Inner {
                file: BufWriter::new(File::create(path)?),
                recent: VecDeque::new(),
                written: 0,
            }),
        })
    }

    /// Milliseconds since the run began.
    pub(crate) fn now_ms(&self) -> u64 {
        crate::exec::millis(self.start.elapsed())
    }

    /// Appends `kind` with the fields of `body` (an object) and the time; returns the event.
    pub(crate) fn record(&self, kind: &str, body: Value) -> Value {
        let mut event = json!({"t_ms": self.now_ms(), "kind": kind});
        if let (Some(target), Value::Object(fields)) = (event.as_object_mut(), body) {
            target.extend(fields);
        }
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let line = event.to_string();
        let _ = writeln!(inner.file, "{line}");
        inner.written += 1;
        if inner.recent.len() == RECENT {
            inner.recent.pop_front();
        }
        inner.recent.push_back(event.clone());
        event
    }

    /// The events of the last `window_ms` (operations, faults, observations) whose slot is
    /// `slot` or that concern no slot, oldest first: a violation's context.
    pub(crate) fn around(&self, slot: Option<usize>, window_ms: u64) -> Vec<Value> {
        let since = self.now_ms().saturating_sub(window_ms);
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner
            .recent
            .iter()
            .filter(|e| e["t_ms"].as_u64().unwrap_or_default() >= since)
            .filter(|e| e["kind"] != "violation")
            .filter(|e| match (slot, e["slot"].as_u64()) {
                (Some(want), Some(got)) => got as usize == want,
                _ => true,
            })
            .cloned()
            .collect()
    }

    pub(crate) fn flush(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let _ = inner.file.flush();
    }

    pub(crate) fn lines(&self) -> usize {
        self.inner.lock().map(|i| i.written).unwrap_or_default()
    }
}

/// Reads the schedule (first `"kind":"schedule"` line) back from a history file.
pub(crate) fn read_schedule(
    path: &Path,
) -> anyhow::Result<(super::schedule::Plan, Vec<super::schedule::Step>)> {
    use anyhow::Context;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the history {}", path.display()))?;
    let line = text
        .lines()
        .find(|l| l.contains("\"kind\":\"schedule\""))
        .with_context(|| {
            format!(
                "{} has no schedule line: is it a `harness chaos` history.jsonl?",
                path.display()
            )
        })?;
    let value: Value = serde_json::from_str(line)
        .with_context(|| format!("the schedule line of {} is not JSON", path.display()))?;
    let plan = serde_json::from_value(value["plan"].clone())
        .with_context(|| format!("the schedule of {} has no valid plan", path.display()))?;
    let steps = serde_json::from_value(value["steps"].clone())
        .with_context(|| format!("the schedule of {} has no valid steps", path.display()))?;
    Ok((plan, steps))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chaos::fault::FaultKind;
    use crate::chaos::schedule::{Plan, generate};

    #[test]
    fn a_history_gives_back_its_schedule() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let history = History::create(&path, Instant::now()).unwrap();
        let plan = Plan {
            seed: 9,
            seconds: 30,
            services: 3,
            faults: vec![FaultKind::DockerRm],
            workers: 2,
            swarm: false,
        };
        let steps = generate(&plan);
        history.record("schedule", json!({"plan": plan, "steps": steps}));
        history.record("invoke", json!({"op": "start", "slot": 1}));
        history.flush();
        let (read_plan, read_steps) = read_schedule(&path).unwrap();
        assert_eq!(read_plan, plan);
        assert_eq!(read_steps, steps);
        assert_eq!(history.around(Some(1), 60_000).len(), 2);
        std::fs::write(&path, "{\"kind\":\"invoke\"}\n").unwrap();
        let err = read_schedule(&path).unwrap_err().to_string();
        assert!(err.contains("no schedule line"), "{err}");
    }
}
