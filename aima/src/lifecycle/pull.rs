//! The pull phase of an Ollama start: once the engine is healthy, its model is fetched into the
//! engine's store through Ollama's own API, unless the store already has it (`/api/show`), so a
//! restart does not download it again. Progress is shown; a failed pull is classified and fatal.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};

use super::failure::Failure;
use crate::domain::Phase;
use crate::error::{Error, Kind};
use crate::host::engine_api::{ApiError, Lines, post_json};

const SHOW_TIMEOUT: Duration = Duration::from_secs(30);

/// What the pull phase did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pulled {
    AlreadyPresent,
    Downloaded,
}

/// Makes sure Ollama at `addr` has `model`, pulling it within `timeout`; `say` gets progress.
pub(super) async fn ensure_model(
    addr: SocketAddr,
    model: &str,
    timeout: Duration,
    say: &(dyn Fn(&str) + Send + Sync),
) -> Result<Pulled, Failure> {
    let unreachable = |e: ApiError| {
        Failure::of(
            Error::from(e).within(format_args!("cannot pull model {model} into Ollama")),
            Phase::Pull,
        )
    };
    let show = post_json(
        addr,
        "/api/show",
        &json!({ "model": model }),
        None,
        SHOW_TIMEOUT,
        |_| {},
    )
    .await
    .map_err(unreachable)?;
    if show == 200 {
        say(&format!(
            "model {model} is already in Ollama's store: no pull"
        ));
        return Ok(Pulled::AlreadyPresent);
    }
    say(&format!("pulling model {model} into Ollama"));
    let mut lines = Lines::default();
    let mut progress = Progress::default();
    let status = post_json(
        addr,
        "/api/pull",
        &json!({ "model": model, "stream": true }),
        None,
        timeout,
        |data| {
            for line in lines.push(data) {
                if let Some(shown) = progress.take(&line) {
                    say(&shown);
                }
            }
        },
    )
    .await
    .map_err(unreachable)?;
    if let Some(last) = lines.finish() {
        progress.take(&last);
    }
    match (status, progress.error, progress.success) {
        (200, None, true) => Ok(Pulled::Downloaded),
        (_, Some(error), _) => Err(pull_failed(model, &error)),
        (status, None, _) => Err(pull_failed(
            model,
            &format!("Ollama answered HTTP {status} without finishing the pull"),
        )),
    }
}

/// A failed pull: a missing model is the operator's to fix, so no retry.
fn pull_failed(model: &str, said: &str) -> Failure {
    let lower = said.to_ascii_lowercase();
    let help = if lower.contains("file does not exist") || lower.contains("not found") {
        format!(
            "Ollama's library has no model {model:?}: check the name (e.g. tinyllama, llama3.2:1b)"
        )
    } else if lower.contains("no space") {
        "the Docker host's disk is full: free space, or remove an engine cache (`aima cache rm ENGINE`)".to_owned()
    } else {
        "check that the engine container can reach Ollama's registry, then start again".to_owned()
    };
    Failure::fatal(
        Kind::StartFailed,
        Phase::Pull,
        format!("Ollama could not pull model {model}: {said}"),
    )
    .help(help)
}

/// Ollama's NDJSON progress, reduced to a few lines worth showing.
#[derive(Debug, Default)]
struct Progress {
    last_status: String,
    last_percent: Option<u64>,
    error: Option<String>,
    success: bool,
}

impl Progress {
    fn take(&mut self, line: &str) -> Option<String> {
        let value: Value = serde_json::from_str(line).ok()?;
        if let Some(error) = value["error"].as_str() {
            self.error = Some(error.to_owned());
            return None;
        }
        let status = value["status"].as_str()?.to_owned();
        if status == "success" {
            self.success = true;
        }
        let percent = match (value["completed"].as_u64(), value["total"].as_u64()) {
            (Some(done), Some(total)) if total > 0 => Some(done * 100 / total / 10 * 10),
            _ => None,
        };
        if status == self.last_status && percent == self.last_percent {
            return None;
        }
        self.last_status = status.clone();
        self.last_percent = percent;
        Some(match percent {
            Some(p) => format!("ollama: {status} {p}%"),
            None => format!("ollama: {status}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_shown_in_steps_and_errors_are_kept() {
        let mut p = Progress::default();
        let shown: Vec<String> = [
            r#"{"status":"pulling manifest"}"#,
            r#"{"status":"downloading","digest":"sha256:1","total":1000,"completed":10}"#,
            r#"{"status":"downloading","digest":"sha256:1","total":1000,"completed":20}"#,
            r#"{"status":"downloading","digest":"sha256:1","total":1000,"completed":500}"#,
            r#"{"status":"success"}"#,
        ]
        .iter()
        .filter_map(|l| p.take(l))
        .collect();
        assert_eq!(
            shown,
            [
                "ollama: pulling manifest",
                "ollama: downloading 0%",
                "ollama: downloading 50%",
                "ollama: success"
            ]
        );
        assert!(p.success);
        let mut p = Progress::default();
        p.take(r#"{"error":"pull model manifest: file does not exist"}"#);
        assert_eq!(
            p.error.as_deref(),
            Some("pull model manifest: file does not exist")
        );
        let f = pull_failed("nope", p.error.as_deref().unwrap());
        assert!(!f.retry);
        assert_eq!(f.phase, Phase::Pull);
        assert!(
            f.reason()
                .contains("Ollama could not pull model nope: pull model manifest")
        );
    }
}
