//! What the supervisor is asked to keep: a service's desired state and its restart policy, in
//! Docker's words, and the crash-loop backoff schedule. Plain data and pure functions.

use std::time::Duration;

use serde::{Serialize, Serializer};

/// What the operator last asked for, apart from what is true (`status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Desired {
    Running,
    Stopped,
}

impl Desired {
    pub fn as_str(self) -> &'static str {
        match self {
            Desired::Running => "running",
            Desired::Stopped => "stopped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Desired::Running, Desired::Stopped]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// When the supervisor restarts an engine that died after it ran (`--restart`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestartPolicy {
    /// Never: today's behaviour, and Docker's default.
    #[default]
    No,
    /// After it died having run, up to N restarts in a row when N is given.
    OnFailure(Option<u32>),
    /// After any failure, a failed start included. `unless-stopped` is this: an operator's
    /// stop always wins.
    Always,
}

/// What `--restart` takes, for errors and help.
pub const RESTART_TAKES: &str = "no, on-failure, on-failure:N, always or unless-stopped";

impl RestartPolicy {
    /// Docker's words: `no`, `on-failure`, `on-failure:N` (N ≥ 1), `always`, `unless-stopped`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "no" => Some(RestartPolicy::No),
            "always" | "unless-stopped" => Some(RestartPolicy::Always),
            "on-failure" => Some(RestartPolicy::OnFailure(None)),
            _ => {
                let n: u32 = s.strip_prefix("on-failure:")?.parse().ok()?;
                (n > 0).then_some(RestartPolicy::OnFailure(Some(n)))
            }
        }
    }

    pub fn text(self) -> String {
        match self {
            RestartPolicy::No => "no".to_owned(),
            RestartPolicy::OnFailure(None) => "on-failure".to_owned(),
            RestartPolicy::OnFailure(Some(n)) => format!("on-failure:{n}"),
            RestartPolicy::Always => "always".to_owned(),
        }
    }
}

impl Serialize for RestartPolicy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

/// The first wait of a crash loop; each restart in a row doubles it.
pub const BACKOFF_FIRST: Duration = Duration::from_secs(1);
/// The longest wait between restarts unless `[supervision] backoff_max_secs` says otherwise.
pub const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// The wait before restart number `restart` of a row (1 for the first): 1 s, 2 s, 4 s, … up to
/// `cap` (never below the first wait).
pub fn backoff(restart: u32, cap: Duration) -> Duration {
    let doublings = restart.saturating_sub(1).min(24);
    (BACKOFF_FIRST * (1u32 << doublings)).min(cap.max(BACKOFF_FIRST))
}

impl<'de> serde::Deserialize<'de> for RestartPolicy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::wire::text(d, |t| {
            RestartPolicy::parse(t).ok_or_else(|| format!("{t:?} is not a restart policy ({RESTART_TAKES})"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_words_parse_and_unless_stopped_is_always() {
        let cases = [
            ("no", RestartPolicy::No),
            ("always", RestartPolicy::Always),
            ("unless-stopped", RestartPolicy::Always),
            ("on-failure", RestartPolicy::OnFailure(None)),
            ("on-failure:3", RestartPolicy::OnFailure(Some(3))),
        ];
        for (text, want) in cases {
            assert_eq!(RestartPolicy::parse(text), Some(want), "{text}");
        }
        for bad in ["", "yes", "on-failure:", "on-failure:0", "on-failure:-1", "Always"] {
            assert_eq!(RestartPolicy::parse(bad), None, "{bad}");
        }
        assert_eq!(RestartPolicy::OnFailure(Some(3)).text(), "on-failure:3");
    }

    #[test]
    fn backoff_doubles_from_one_second_to_five_minutes() {
        let secs: Vec<u64> = (1..=11).map(|n| backoff(n, BACKOFF_MAX).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(backoff(0, BACKOFF_MAX), BACKOFF_FIRST);
        assert_eq!(backoff(u32::MAX, BACKOFF_MAX), BACKOFF_MAX);
    }

    #[test]
    fn backoff_stops_doubling_at_the_configured_cap() {
        let cap = Duration::from_secs(10);
        let secs: Vec<u64> = (1..=6).map(|n| backoff(n, cap).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 10, 10]);
        // A cap of an hour lets the doubling go on past five minutes, and no further.
        let hour = Duration::from_secs(3600);
        let secs: Vec<u64> = (10..=14).map(|n| backoff(n, hour).as_secs()).collect();
        assert_eq!(secs, [512, 1024, 2048, 3600, 3600]);
        assert_eq!(backoff(u32::MAX, hour), hour);
        // A cap below the first wait still waits the first second.
        assert_eq!(backoff(3, Duration::ZERO), BACKOFF_FIRST);
    }
}
