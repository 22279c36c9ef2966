//! One start attempt as recorded and shown: its number, when it ended, where, and why.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Reaching the Docker daemon.
    Connect,
    /// Checks made before any container exists: leftovers, port, image, GPU.
    Preflight,
    /// Pulling what the engine needs: its image from a registry (before any container), or,
    /// for an engine that fetches models through its own API (Ollama), the model.
    Pull,
    Create,
    Start,
    /// Waiting for the engine to answer its health endpoint.
    Health,
    /// The start was cut short (signal, dead owner process).
    Interrupted,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Connect => "connect",
            Phase::Preflight => "preflight",
            Phase::Pull => "pull",
            Phase::Create => "create",
            Phase::Start => "start",
            Phase::Health => "health",
            Phase::Interrupted => "interrupted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attempt {
    pub number: u32,
    pub phase: Phase,
    /// Milliseconds from the start command to the end of this attempt.
    pub elapsed_ms: u64,
    pub reason: String,
    /// The failure's stable code (`port_in_use`, `image_missing`, …), for machines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The engine's last log lines, when it exited.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_tail: Vec<String>,
}

impl Attempt {
    pub fn describe(&self, total: usize) -> String {
        let mut line = format!(
            "attempt {}/{} after {}ms [{}]: {}",
            self.number,
            total,
            self.elapsed_ms,
            self.phase.as_str(),
            self.reason
        );
        for log in &self.log_tail {
            line.push_str(&format!("\n      | {log}"));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_read_as_one_line_each() {
        let a = Attempt {
            number: 1,
            phase: Phase::Preflight,
            elapsed_ms: 12,
            reason: "port 8000 is in use".into(),
            code: None,
            log_tail: vec![],
        };
        assert_eq!(
            a.describe(1),
            "attempt 1/1 after 12ms [preflight]: port 8000 is in use"
        );
    }
}
