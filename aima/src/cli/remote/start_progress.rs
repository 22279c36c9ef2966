//! A start or restart through the daemon, its progress shown as in-process: while the start
//! call runs, the daemon's event stream, asked for this service's start steps
//! (`/api/v2/events?service=ID&steps=true`), feeds the same [`StartDisplay`].

use std::time::Duration;

use http_body_util::BodyExt;
use hyper::Method;
use hyper::body::Incoming;

use super::client::Client;
use super::paths::segment;
use crate::cli::args::{Output, StartArgs};
use crate::cli::progress::StartDisplay;
use crate::error::Result;
use crate::lifecycle::StartNote;

/// How long the event stream may take to open; past it, the start runs without progress.
const OPENING: Duration = Duration::from_secs(10);
/// How long the last steps may trail the start's answer.
const LAST_STEPS: Duration = Duration::from_secs(5);

/// Runs `call` (the start or restart of `args.id`), showing its steps on stderr unless the
/// output is JSON.
pub(super) async fn shown<T>(
    client: &Client,
    args: &StartArgs,
    output: Output,
    call: impl Future<Output = Result<T>>,
) -> Result<T> {
    let display = StartDisplay::new(output, Duration::from_secs(args.timeout));
    let result = if display.is_shown() {
        followed(client, &args.id, &display, call).await
    } else {
        call.await
    };
    display.finish();
    result
}

async fn followed<T>(
    client: &Client,
    id: &str,
    display: &StartDisplay,
    call: impl Future<Output = Result<T>>,
) -> Result<T> {
    let path = format!("/api/v2/events?service={}&steps=true", segment(id));
    // Opened before the start is sent, so no step is missed. A stream that cannot be opened
    // (no such service, an older daemon) costs the progress only: the start says what is wrong.
    let Ok(events) = client.open(Method::GET, &path, None, OPENING).await else {
        return call.await;
    };
    let mut reading = std::pin::pin!(show_steps(events, display));
    let mut call = std::pin::pin!(call);
    let result = tokio::select! {
        result = &mut call => result,
        // The stream ended (the daemon stops): the start's answer still decides.
        () = &mut reading => return call.await,
    };
    // Steps sent before the answer may still be on their way; the start's end note follows them.
    let _ = tokio::time::timeout(LAST_STEPS, reading).await;
    result
}

/// Shows the steps read from `events` until the start's end note (or the stream's end).
async fn show_steps(mut events: Incoming, display: &StartDisplay) {
    let mut steps = StepLines::default();
    while let Some(Ok(frame)) = events.frame().await {
        let Some(data) = frame.data_ref() else {
            continue;
        };
        for note in steps.take(data) {
            match note.event() {
                Some(event) => display.show(event),
                None => return,
            }
        }
    }
}

/// The `event: step` notes of a server-sent event stream, from chunks that may cut lines.
#[derive(Default)]
struct StepLines {
    pending: Vec<u8>,
    event: String,
}

impl StepLines {
    fn take(&mut self, chunk: &[u8]) -> Vec<StartNote> {
        self.pending.extend_from_slice(chunk);
        let mut notes = Vec::new();
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let raw: Vec<u8> = self.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                self.event.clear();
            } else if let Some(name) = line.strip_prefix("event:") {
                self.event = name.trim().to_owned();
            } else if let Some(data) = line.strip_prefix("data:")
                && self.event == "step"
                && let Ok(note) = serde_json::from_str(data.trim())
            {
                notes.push(note);
            }
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::StartEvent;

    #[test]
    fn step_events_are_read_across_chunks_and_others_skipped() {
        let mut lines = StepLines::default();
        let stream = concat!(
            "event: service\nid: 7\ndata: {\"kind\":\"step\",\"phase\":\"pull\",\"text\":\"no\"}\n\n",
            ": keep-alive\n\n",
            "event: step\ndata: {\"service\":\"svc-1\",\"kind\":\"step\",\"phase\":\"create\",\"text\":\"creating\"}\n\n",
        );
        let (a, b) = stream.as_bytes().split_at(120);
        let mut notes = lines.take(a);
        notes.extend(lines.take(b));
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            matches!(
                notes[0].event(),
                Some(StartEvent::Step {
                    text: "creating",
                    ..
                })
            ),
            "{notes:?}"
        );
    }
}
