//! The Docker endpoint (`DOCKER_HOST`), validated before any connection so a typo is named as
//! such. "Endpoint" is Docker's address; "host" in aima means the machine ([`crate::host`]).
//! Credentials in it (`tcp://user:secret@host:2376`) are dropped when it is parsed: Docker's
//! API takes none (the HTTP client never sent them either), and what is not kept cannot reach
//! a log, an error or `/health`, which callers without a token read. Errors and
//! [`fmt::Display`] show them as `***@`, so the operator still sees which value was meant.

use std::fmt;
use std::path::PathBuf;

use crate::error::{Classified, Kind};

pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerEndpoint {
    Unix(PathBuf),
    Tcp {
        host: String,
        port: u16,
        /// `DOCKER_HOST` named credentials (dropped, shown as `***@`).
        credentials: bool,
    },
}

impl DockerEndpoint {
    /// From the value of `DOCKER_HOST` (`None` or empty: the default unix socket).
    pub fn parse(value: Option<&str>) -> Result<Self, EndpointError> {
        let bad = |problem: String| EndpointError {
            value: redacted(value.unwrap_or_default().trim()),
            problem,
        };
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(DockerEndpoint::Unix(DEFAULT_SOCKET.into()));
        };
        if let Some(path) = value.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(bad("names no socket path".to_owned()));
            }
            return Ok(DockerEndpoint::Unix(path.into()));
        }
        let Some(rest) = value
            .strip_prefix("tcp://")
            .or_else(|| value.strip_prefix("http://"))
        else {
            return Err(bad(
                "is not supported: use unix:///path/to/docker.sock or tcp://HOST:PORT".to_owned(),
            ));
        };
        let rest = rest.trim_end_matches('/');
        // Credentials are split off before the port is parsed, and not kept.
        let (userinfo, address) = rest.rsplit_once('@').map_or(("", rest), |(u, a)| (u, a));
        let (host, port) = address
            .rsplit_once(':')
            .ok_or_else(|| bad("has no port: use tcp://HOST:PORT".to_owned()))?;
        let port = match port.parse::<u32>() {
            Ok(p @ 1..=65535) => p as u16,
            Ok(p) => {
                return Err(bad(format!(
                    "is invalid: port {p} is out of range (1-65535)"
                )));
            }
            Err(_) => {
                return Err(bad(format!("is invalid: {port:?} is not a port number")));
            }
        };
        if host.is_empty() {
            return Err(bad("names no host".to_owned()));
        }
        Ok(DockerEndpoint::Tcp {
            host: host.to_owned(),
            port,
            credentials: !userinfo.is_empty(),
        })
    }
}

/// `scheme://user:secret@host…` as `scheme://***@host…`; anything else unchanged.
fn redacted(value: &str) -> String {
    let (scheme, rest) = value.split_once("://").unwrap_or(("", value));
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) if !scheme.is_empty() => format!("{scheme}://***{}", &rest[at..]),
        _ => value.to_owned(),
    }
}

/// A `DOCKER_HOST` value aima cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("DOCKER_HOST={value} {problem}")]
pub struct EndpointError {
    value: String,
    problem: String,
}

impl Classified for EndpointError {
    fn kind(&self) -> Kind {
        Kind::DockerUnavailable
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "fix or unset DOCKER_HOST (unset means unix://{DEFAULT_SOCKET})"
        ))
    }
}

impl fmt::Display for DockerEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DockerEndpoint::Unix(path) => write!(f, "unix://{}", path.display()),
            DockerEndpoint::Tcp {
                host,
                port,
                credentials,
            } => {
                let masked = if *credentials { "***@" } else { "" };
                write!(f, "tcp://{masked}{host}:{port}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_never_shown() {
        let endpoint =
            DockerEndpoint::parse(Some("tcp://admin:s3cret@docker.internal:2376")).unwrap();
        assert_eq!(endpoint.to_string(), "tcp://***@docker.internal:2376");
        assert!(!format!("{endpoint:?}").contains("s3cret"), "{endpoint:?}");
        for bad in [
            "ssh://admin:s3cret@docker.internal",
            "tcp://admin:s3cret@docker.internal",
            "tcp://admin:s3cret@docker.internal:99999",
        ] {
            let err = DockerEndpoint::parse(Some(bad)).unwrap_err().to_string();
            assert!(!err.contains("s3cret"), "{err}");
            assert!(err.contains("***@docker.internal"), "{err}");
        }
        assert_eq!(
            redacted("unix:///run/docker.sock"),
            "unix:///run/docker.sock"
        );
    }

    #[test]
    fn accepts_unix_and_tcp() {
        assert_eq!(
            DockerEndpoint::parse(None).unwrap(),
            DockerEndpoint::Unix(DEFAULT_SOCKET.into())
        );
        assert_eq!(
            DockerEndpoint::parse(Some("tcp://127.0.0.1:2375")).unwrap(),
            DockerEndpoint::Tcp {
                host: "127.0.0.1".into(),
                port: 2375,
                credentials: false,
            }
        );
        assert_eq!(
            DockerEndpoint::parse(Some("unix:///tmp/d.sock"))
                .unwrap()
                .to_string(),
            "unix:///tmp/d.sock"
        );
    }

    #[test]
    fn out_of_range_port_is_named() {
        let err = DockerEndpoint::parse(Some("tcp://127.0.0.1:99999")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "DOCKER_HOST=tcp://127.0.0.1:99999 is invalid: port 99999 is out of range (1-65535)"
        );
    }

    #[test]
    fn other_mistakes_are_named() {
        for bad in [
            "ssh://host",
            "tcp://host",
            "tcp://:2375",
            "unix://",
            "tcp://h:abc",
        ] {
            let err = DockerEndpoint::parse(Some(bad)).unwrap_err().to_string();
            assert!(err.contains("DOCKER_HOST="), "{bad}: {err}");
        }
    }
}
