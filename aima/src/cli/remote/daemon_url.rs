//! Where `--host` points: the daemon's unix socket or its TCP address, and the token for TCP.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// A daemon's address as `--host` / `AIMA_HOST` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DaemonUrl {
    /// `unix:///path/aima.sock`: the caller is known by its uid; no token.
    Unix(PathBuf),
    /// `http://HOST:PORT`: the token is needed (unless the daemon runs without one).
    Tcp { authority: String },
}

impl DaemonUrl {
    pub(crate) fn parse(text: &str) -> Result<Self> {
        let help = "give unix:///path/to/aima.sock (the data dir's socket) or http://HOST:PORT";
        if let Some(path) = text.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return Err(Error::usage(format!(
                    "--host {text}: the socket path must be absolute (unix:///…)"
                ))
                .with_help(help));
            }
            return Ok(DaemonUrl::Unix(PathBuf::from(path)));
        }
        if let Some(rest) = text.strip_prefix("http://") {
            let authority = rest.trim_end_matches('/');
            if authority.is_empty() || authority.contains('/') || !authority.contains(':') {
                return Err(Error::usage(format!(
                    "--host {text}: expected http://HOST:PORT with nothing after the port"
                ))
                .with_help(help));
            }
            return Ok(DaemonUrl::Tcp {
                authority: authority.to_owned(),
            });
        }
        let why = if text.starts_with("https://") {
            "the daemon speaks plain HTTP; put a TLS proxy in front and reach it through that"
        } else {
            "it names no scheme aima speaks"
        };
        Err(Error::usage(format!("--host {text}: {why}")).with_help(help))
    }

    /// The `Host` header: the daemon refuses foreign host names, so the address as given.
    pub(crate) fn host_header(&self) -> &str {
        match self {
            DaemonUrl::Unix(_) => "localhost",
            DaemonUrl::Tcp { authority } => authority,
        }
    }
}

impl std::fmt::Display for DaemonUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DaemonUrl::Unix(path) => write!(f, "unix://{}", path.display()),
            DaemonUrl::Tcp { authority } => write!(f, "http://{authority}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_and_http_addresses_parse_and_others_are_refused() {
        assert_eq!(
            DaemonUrl::parse("unix:///srv/aima/aima.sock").unwrap(),
            DaemonUrl::Unix("/srv/aima/aima.sock".into())
        );
        assert_eq!(
            DaemonUrl::parse("http://10.0.0.5:9090/").unwrap(),
            DaemonUrl::Tcp {
                authority: "10.0.0.5:9090".into()
            }
        );
        for bad in [
            "unix://aima.sock",
            "http://host",
            "http://h:1/api",
            "https://h:1",
            "h:1",
        ] {
            assert!(DaemonUrl::parse(bad).is_err(), "{bad} was taken");
        }
    }
}
