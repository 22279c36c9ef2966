//! The daemon's timing knobs, from the environment so tests can shorten them.

use std::time::Duration;

use crate::config::{ConfigError, Env};

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Pause between reconcile passes (`AIMA_RECONCILE_SECS`, default 5).
    pub reconcile_every: Duration,
    /// How long a container of no live service may exist before it is removed
    /// (`AIMA_REAP_GRACE_SECS`, default 30): covers a start that has created its container
    /// but not yet recorded it.
    pub reap_grace: Duration,
    /// How long shutdown waits for requests in flight before interrupting them.
    pub drain: Duration,
    /// How long a connection may take to send a request's head, and may sit idle between
    /// requests (`AIMA_API_HEADER_TIMEOUT_SECS`, default 10).
    pub header_timeout: Duration,
    /// How long a request may take to send its body (`AIMA_API_BODY_TIMEOUT_SECS`, default 10).
    pub body_timeout: Duration,
    /// Connections open at once on each listener, TCP and the unix socket
    /// (`AIMA_API_MAX_CONNECTIONS`, default 512); more are answered 503 and closed.
    pub max_connections: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            reconcile_every: Duration::from_secs(5),
            reap_grace: Duration::from_secs(30),
            drain: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_connections: 512,
        }
    }
}

impl Settings {
    /// Sign-in forms read at once over TCP: an eighth of the connection cap, at least one. The
    /// sign-in is the one body a caller without the token can send, so however many such
    /// callers come, seven eighths of the slots stay for clients with the token and for health.
    pub fn sign_ins(&self) -> usize {
        (self.max_connections / 8).max(1)
    }

    /// From the environment the configuration was read from.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let mut s = Settings::default();
        if let Some(v) = env.get("AIMA_RECONCILE_SECS") {
            s.reconcile_every = secs("AIMA_RECONCILE_SECS", v, 1)?;
        }
        if let Some(v) = env.get("AIMA_REAP_GRACE_SECS") {
            s.reap_grace = secs("AIMA_REAP_GRACE_SECS", v, 0)?;
        }
        if let Some(v) = env.get("AIMA_API_HEADER_TIMEOUT_SECS") {
            s.header_timeout = secs("AIMA_API_HEADER_TIMEOUT_SECS", v, 1)?;
        }
        if let Some(v) = env.get("AIMA_API_BODY_TIMEOUT_SECS") {
            s.body_timeout = secs("AIMA_API_BODY_TIMEOUT_SECS", v, 1)?;
        }
        if let Some(v) = env.get("AIMA_API_MAX_CONNECTIONS") {
            s.max_connections = match v.trim().parse::<usize>() {
                Ok(n @ 1..=100_000) => n,
                _ => {
                    return Err(ConfigError::BadValue {
                        var: "AIMA_API_MAX_CONNECTIONS".to_owned(),
                        expected: "a whole number between 1 and 100000".to_owned(),
                        value: v.to_owned(),
                    });
                }
            };
        }
        Ok(s)
    }
}

fn secs(name: &str, value: &str, min: u64) -> Result<Duration, ConfigError> {
    match value.trim().parse::<u64>() {
        Ok(n) if (min..=86_400).contains(&n) => Ok(Duration::from_secs(n)),
        _ => Err(ConfigError::BadValue {
            var: name.to_owned(),
            expected: format!("whole seconds between {min} and 86400"),
            value: value.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Classified;

    #[test]
    fn defaults_and_overrides() {
        let s = Settings::from_env(&Env::default()).unwrap();
        assert_eq!(s.reconcile_every, Duration::from_secs(5));
        let env = Env::from_pairs([("AIMA_RECONCILE_SECS", "1")]);
        let s = Settings::from_env(&env).unwrap();
        assert_eq!(s.reconcile_every, Duration::from_secs(1));
    }

    #[test]
    fn sign_ins_get_an_eighth_of_the_connection_cap() {
        let cap = |n: &str| {
            let env = Env::from_pairs([("AIMA_API_MAX_CONNECTIONS", n)]);
            Settings::from_env(&env).unwrap().sign_ins()
        };
        assert_eq!(Settings::default().sign_ins(), 64);
        assert_eq!(cap("16"), 2);
        assert_eq!(cap("3"), 1);
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for bad in ["0", "x", "-1", "100000"] {
            let env = Env::from_pairs([("AIMA_RECONCILE_SECS", bad)]);
            let err = Settings::from_env(&env).unwrap_err();
            assert_eq!(err.kind(), crate::error::Kind::Usage, "{bad}");
        }
        for bad in ["0", "x", "200000"] {
            let env = Env::from_pairs([("AIMA_API_MAX_CONNECTIONS", bad)]);
            let err = Settings::from_env(&env).unwrap_err();
            assert_eq!(err.kind(), crate::error::Kind::Usage, "{bad}");
            assert!(
                err.to_string().contains("AIMA_API_MAX_CONNECTIONS"),
                "{bad}"
            );
        }
    }
}
