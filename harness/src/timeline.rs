//! The run's timeline: fault injections, operations and observations in the order they
//! happened, each stamped with milliseconds since the run started (Jepsen-style history).

use std::time::Instant;

use serde::Serialize;

/// What kind of thing happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The harness broke something on purpose (blocked a port, broke DOCKER_HOST).
    Fault,
    /// The harness undid a fault.
    Heal,
    /// A command against the system under test.
    Operation,
    /// Something read back (status, census, port check).
    Observation,
}

/// One entry of the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub at_ms: u64,
    pub kind: EventKind,
    pub text: String,
}

/// Append-only list of events relative to a start instant.
#[derive(Debug)]
pub struct Timeline {
    start: Instant,
    events: Vec<Event>,
}

impl Timeline {
    pub fn new(start: Instant) -> Self {
        Self {
            start,
            events: Vec::new(),
        }
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    pub fn elapsed_ms(&self) -> u64 {
        crate::exec::millis(self.start.elapsed())
    }

    pub fn record(&mut self, kind: EventKind, text: impl Into<String>) {
        self.events.push(Event {
            at_ms: self.elapsed_ms(),
            kind,
            text: text.into(),
        });
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }
}
