//! `[supervision]`: how the daemon's supervisor paces its restarts — the cap of the crash-loop
//! backoff and how many restarts may run at once (so a reboot does not start every engine
//! together). File only; a bad value names the file and the line.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::{Source, Sources};
use crate::domain::BACKOFF_MAX;

/// Restarts in flight at once unless `parallel_starts` says otherwise.
pub const DEFAULT_PARALLEL_STARTS: usize = 2;
/// The most `backoff_max_secs` takes: a day.
const MAX_BACKOFF_SECS: u64 = 86_400;
/// The most `parallel_starts` takes.
const MAX_PARALLEL: u64 = 64;

/// The supervisor's pacing, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Supervision {
    /// The longest wait between two restarts of a crash loop (`backoff_max_secs`).
    pub backoff_max: Duration,
    /// The supervisor's restarts in flight at once (`parallel_starts`).
    pub parallel_starts: usize,
}

impl Default for Supervision {
    fn default() -> Self {
        Supervision {
            backoff_max: BACKOFF_MAX,
            parallel_starts: DEFAULT_PARALLEL_STARTS,
        }
    }
}

/// `[supervision]` as the file has it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileSupervision {
    #[serde(default, deserialize_with = "backoff_secs")]
    backoff_max_secs: Option<u64>,
    #[serde(default, deserialize_with = "parallel")]
    parallel_starts: Option<u64>,
}

impl Supervision {
    /// The defaults, then the file.
    pub(super) fn load(file: &FileSupervision, sources: &mut Sources) -> Self {
        let mut s = Supervision::default();
        if let Some(secs) = file.backoff_max_secs {
            s.backoff_max = Duration::from_secs(secs);
            sources.set("supervision.backoff_max_secs", Source::File);
        }
        if let Some(n) = file.parallel_starts {
            s.parallel_starts = n as usize;
            sources.set("supervision.parallel_starts", Source::File);
        }
        s
    }
}

fn backoff_secs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    within(d, 1, MAX_BACKOFF_SECS, "backoff_max_secs", "whole seconds")
}

fn parallel<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    within(d, 1, MAX_PARALLEL, "parallel_starts", "a whole number")
}

fn within<'de, D: Deserializer<'de>>(
    d: D,
    min: u64,
    max: u64,
    key: &str,
    what: &str,
) -> Result<Option<u64>, D::Error> {
    let n = i64::deserialize(d)?;
    match u64::try_from(n) {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(serde::de::Error::custom(format!(
            "supervision.{key} must be {what} from {min} to {max}, not {n}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<(Supervision, Sources), toml::de::Error> {
        let file: FileSupervision = toml::from_str(text)?;
        let mut sources = Sources::default();
        Ok((Supervision::load(&file, &mut sources), sources))
    }

    #[test]
    fn defaults_are_five_minutes_and_two_at_once() {
        let (s, sources) = load("").unwrap();
        assert_eq!(s.backoff_max, Duration::from_secs(300));
        assert_eq!(s.parallel_starts, 2);
        assert_eq!(sources.of("supervision.parallel_starts"), Source::Default);
    }

    #[test]
    fn the_file_sets_both() {
        let (s, sources) = load("backoff_max_secs = 30\nparallel_starts = 5").unwrap();
        assert_eq!(s.backoff_max, Duration::from_secs(30));
        assert_eq!(s.parallel_starts, 5);
        assert_eq!(sources.of("supervision.backoff_max_secs"), Source::File);
    }

    #[test]
    fn values_out_of_range_say_what_is_taken() {
        for (text, says) in [
            ("backoff_max_secs = 0", "from 1 to 86400, not 0"),
            ("backoff_max_secs = -5", "not -5"),
            ("parallel_starts = 0", "parallel_starts must be a whole number from 1 to 64"),
            ("parallel_starts = 1000", "not 1000"),
        ] {
            let err = load(text).unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
        assert!(load("parallel_starts = \"two\"").is_err());
        assert!(load("parallel = 2").is_err());
    }
}
