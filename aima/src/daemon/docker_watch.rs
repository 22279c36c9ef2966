//! Whether the daemon reaches Docker, for its log: a daemon started while Docker is away (or
//! that loses it) keeps serving and keeps trying every reconcile pass; the log says so when
//! Docker goes away, again after waits doubling from one minute to an hour while it stays
//! away, and when it is back. `GET /api/v2/health` says so on every call.

use std::time::{Duration, Instant};

const FIRST_REMINDER: Duration = Duration::from_secs(60);
const LAST_REMINDER: Duration = Duration::from_secs(3600);

/// What the log should say after a look at Docker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Say {
    Nothing,
    /// Unreachable, first or again, for this long so far.
    Away(Duration),
    /// Reachable again after this long away.
    Back(Duration),
}

#[derive(Debug, Default)]
pub(crate) struct DockerWatch {
    /// Since when Docker has been away, when the log says so next, and the wait after that.
    away: Option<(Instant, Instant, Duration)>,
}

impl DockerWatch {
    pub(crate) fn observe(&mut self, reachable: bool, now: Instant) -> Say {
        match (reachable, self.away) {
            (true, None) => Say::Nothing,
            (true, Some((since, _, _))) => {
                self.away = None;
                Say::Back(now - since)
            }
            (false, None) => {
                self.away = Some((now, now + FIRST_REMINDER, FIRST_REMINDER * 2));
                Say::Away(Duration::ZERO)
            }
            (false, Some((since, next, gap))) if now >= next => {
                self.away = Some((since, now + gap, (gap * 2).min(LAST_REMINDER)));
                Say::Away(now - since)
            }
            (false, Some(_)) => Say::Nothing,
        }
    }

    /// Logs what a look at Docker found, per [`DockerWatch::observe`].
    pub(crate) fn log(&mut self, looked: &crate::error::Result<()>) {
        match (self.observe(looked.is_ok(), Instant::now()), looked) {
            (Say::Away(for_), Err(e)) => tracing::warn!(
                away_secs = for_.as_secs(),
                "Docker is unreachable: {} (the daemon keeps serving and tries again every pass)",
                e.one_line()
            ),
            (Say::Back(after), _) => {
                tracing::info!("Docker is reachable again after {}s", after.as_secs())
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_away_once_then_at_doubling_intervals_and_back_once() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut w = DockerWatch::default();
        assert_eq!(w.observe(true, at(0)), Say::Nothing);
        assert_eq!(w.observe(false, at(5)), Say::Away(Duration::ZERO));
        assert_eq!(w.observe(false, at(10)), Say::Nothing);
        assert_eq!(w.observe(false, at(64)), Say::Nothing);
        assert_eq!(w.observe(false, at(65)), Say::Away(Duration::from_secs(60)));
        // Next reminder two minutes on, then four.
        assert_eq!(w.observe(false, at(184)), Say::Nothing);
        assert_eq!(
            w.observe(false, at(185)),
            Say::Away(Duration::from_secs(180))
        );
        assert_eq!(w.observe(false, at(185 + 239)), Say::Nothing);
        assert_eq!(
            w.observe(false, at(185 + 240)),
            Say::Away(Duration::from_secs(420))
        );
        assert_eq!(
            w.observe(true, at(500)),
            Say::Back(Duration::from_secs(495))
        );
        assert_eq!(w.observe(true, at(505)), Say::Nothing);
        assert_eq!(w.observe(false, at(510)), Say::Away(Duration::ZERO));
    }
}
