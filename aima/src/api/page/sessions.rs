//! The status page's sessions, kept in the daemon's memory only: a session is a random value
//! handed to the browser as its cookie, known to this daemon process and nowhere else.
//!
//! A session ends when it has been idle for [`IDLE`], [`ABSOLUTE`] after sign-in whatever its
//! use, at sign-out (on the daemon, so a copied cookie stops working too), and with the daemon
//! process: a restart, with the same token or another, signs every browser out. The table holds
//! digests of the values, not the values, and at most [`MAX_SESSIONS`]; beyond that the least
//! recently used session is dropped.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// A session unused this long has ended.
pub(crate) const IDLE: Duration = Duration::from_secs(60 * 60);
/// A session ends this long after sign-in, however much it is used.
pub(crate) const ABSOLUTE: Duration = Duration::from_secs(12 * 60 * 60);
/// Sessions kept at once.
const MAX_SESSIONS: usize = 1024;
const SESSION_BYTES: usize = 32;

type Key = [u8; 32];

#[derive(Debug, Clone)]
struct Session {
    signed_in: Instant,
    last_used: Instant,
    /// Who signed in: the user the token acts as.
    holder: String,
}

impl Session {
    fn live(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_used) < IDLE
            && now.saturating_duration_since(self.signed_in) < ABSOLUTE
    }
}

/// The live sessions of this daemon process.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    table: Mutex<HashMap<Key, Session>>,
}

/// The table's key for a cookie value: a lookup by digest shows nothing of the value in its
/// timing.
fn key(value: &str) -> Key {
    Sha256::digest(value.as_bytes()).into()
}

impl Sessions {
    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Session>> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a session at `now` for the daemon's own token; returns the cookie value.
    #[cfg(test)]
    pub(crate) fn open(&self, now: Instant) -> std::io::Result<String> {
        self.open_as(now, crate::domain::LEGACY_TOKEN_NAME)
    }

    /// Starts a session at `now` for `holder` (who the token acts as); returns the cookie value.
    pub(crate) fn open_as(&self, now: Instant, holder: &str) -> std::io::Result<String> {
        let mut bytes = [0u8; SESSION_BYTES];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        let value: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut table = self.table();
        table.retain(|_, s| s.live(now));
        if table.len() >= MAX_SESSIONS
            && let Some(stalest) = table
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| *k)
        {
            table.remove(&stalest);
        }
        let session = Session {
            signed_in: now,
            last_used: now,
            holder: holder.to_owned(),
        };
        table.insert(key(&value), session);
        Ok(value)
    }

    /// Whether `value` is a live session at `now`; using it restarts its idle time.
    #[cfg(test)]
    pub(crate) fn check(&self, value: &str, now: Instant) -> bool {
        self.holder(value, now).is_some()
    }

    /// Who holds the live session `value` at `now`; using it restarts its idle time.
    pub(crate) fn holder(&self, value: &str, now: Instant) -> Option<String> {
        let mut table = self.table();
        let key = key(value);
        match table.get_mut(&key) {
            Some(session) if session.live(now) => {
                session.last_used = now;
                Some(session.holder.clone())
            }
            Some(_) => {
                table.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Ends the session `value`, if it is one.
    pub(crate) fn close(&self, value: &str) {
        self.table().remove(&key(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_random_and_end_at_sign_out() {
        let sessions = Sessions::default();
        let now = Instant::now();
        let a = sessions.open(now).unwrap();
        let b = sessions.open(now).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 2 * SESSION_BYTES);
        assert!(sessions.check(&a, now) && sessions.check(&b, now));
        sessions.close(&a);
        assert!(!sessions.check(&a, now));
        assert!(sessions.check(&b, now));
        assert!(!sessions.check("made-up", now));
    }

    #[test]
    fn an_idle_session_ends_and_use_keeps_it_until_the_absolute_limit() {
        let sessions = Sessions::default();
        let start = Instant::now();
        let idle = sessions.open(start).unwrap();
        assert!(!sessions.check(&idle, start + IDLE));

        let used = sessions.open(start).unwrap();
        let mut now = start;
        while now + IDLE / 2 < start + ABSOLUTE {
            now += IDLE / 2;
            assert!(sessions.check(&used, now), "ended after {:?}", now - start);
        }
        assert!(!sessions.check(&used, start + ABSOLUTE));
    }

    #[test]
    fn a_full_table_drops_the_least_recently_used() {
        let sessions = Sessions::default();
        let start = Instant::now();
        let oldest = sessions.open(start).unwrap();
        let later = start + Duration::from_secs(1);
        for _ in 1..MAX_SESSIONS {
            sessions.open(later).unwrap();
        }
        let newest = sessions.open(later).unwrap();
        assert!(!sessions.check(&oldest, later));
        assert!(sessions.check(&newest, later));
        assert_eq!(sessions.table().len(), MAX_SESSIONS);
    }
}
