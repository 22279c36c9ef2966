//! The steps of the starts the daemon runs (its start and restart routes), published to the
//! event streams that ask for them (`/api/v2/events?steps=true`): how a CLI talking to the
//! daemon shows a start's progress as it would in-process. Held in memory only; a stream
//! that falls behind skips steps rather than holding the start up.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use crate::domain::ServiceId;
use crate::lifecycle::{StartEvent, StartNote};

/// Steps kept for a slow stream before it skips some.
const BACKLOG: usize = 256;
/// Docker reports a pull many times a second: at most one pull note this often, besides one
/// for each finished layer.
const PULL_EVERY: Duration = Duration::from_millis(500);

/// One step of one service's start, as an event stream sends it (`event: step`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct StartStep {
    pub(crate) service: ServiceId,
    #[serde(flatten)]
    pub(crate) note: StartNote,
}

#[derive(Clone)]
pub(crate) struct StartSteps(broadcast::Sender<StartStep>);

impl Default for StartSteps {
    fn default() -> Self {
        StartSteps(broadcast::Sender::new(BACKLOG))
    }
}

impl StartSteps {
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<StartStep> {
        self.0.subscribe()
    }

    /// The progress callback for a start of `service`, and the guard that sends the start's
    /// end note when dropped (the start is over, or was refused before it began), so a client
    /// reading its steps knows it has them all.
    pub(crate) fn follow(
        &self,
        service: ServiceId,
    ) -> (impl Fn(StartEvent<'_>) + Send + Sync + use<>, EndNote) {
        let end = EndNote {
            steps: self.0.clone(),
            service: service.clone(),
        };
        (self.publisher(service), end)
    }

    /// What a start of `service` reports to, as its `StartOptions::progress`.
    fn publisher(
        &self,
        service: ServiceId,
    ) -> impl Fn(StartEvent<'_>) + Send + Sync + use<> {
        let sender = self.0.clone();
        let last_pull: Mutex<Option<(Instant, usize)>> = Mutex::new(None);
        move |event| {
            if let StartEvent::Pulling(tally) = event {
                let mut last = last_pull.lock().unwrap_or_else(|e| e.into_inner());
                let now = (Instant::now(), tally.layers_done());
                if let Some((at, done)) = *last
                    && done == now.1
                    && at.elapsed() < PULL_EVERY
                {
                    return;
                }
                *last = Some(now);
            }
            if let Some(note) = StartNote::of(event) {
                // No stream listening is not an error: nobody watches this start.
                let _ = sender.send(StartStep {
                    service: service.clone(),
                    note,
                });
            }
        }
    }
}

/// Sends `{"kind": "ended"}` for its service when dropped.
pub(crate) struct EndNote {
    steps: broadcast::Sender<StartStep>,
    service: ServiceId,
}

impl Drop for EndNote {
    fn drop(&mut self) {
        let _ = self.steps.send(StartStep {
            service: self.service.clone(),
            note: StartNote::Ended,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Phase;
    use crate::lifecycle::PullTally;

    #[test]
    fn steps_reach_subscribers_and_pull_reports_are_thinned() {
        let steps = StartSteps::default();
        let mut rx = steps.subscribe();
        let id = ServiceId::generate();
        let (publish, end) = steps.follow(id.clone());
        publish(StartEvent::Step {
            phase: Phase::Create,
            text: "creating the container",
        });
        let tally = PullTally::new("r/sim:1");
        publish(StartEvent::Pulling(&tally));
        publish(StartEvent::Pulling(&tally));
        publish(StartEvent::EngineLog("secret engine output"));
        let first = rx.try_recv().unwrap();
        assert_eq!(first.service, id);
        assert!(matches!(first.note, StartNote::Step { .. }), "{first:?}");
        assert!(matches!(rx.try_recv().unwrap().note, StartNote::Pulling { .. }));
        drop(end);
        assert_eq!(
            rx.try_recv().unwrap().note,
            StartNote::Ended,
            "a repeated pull report or a log line was sent"
        );
    }
}
