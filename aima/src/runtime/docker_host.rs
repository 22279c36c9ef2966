//! `DOCKER_HOST`, validated before any connection so a typo is named as such. Credentials in
//! it (`tcp://user:secret@host:2376`) are never shown: messages and [`fmt::Display`] mask them.

use std::fmt;
use std::path::PathBuf;

pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerHost {
    Unix(PathBuf),
    Tcp { host: String, port: u16 },
}

impl DockerHost {
    /// From the value of `DOCKER_HOST` (`None` or empty: the default unix socket).
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        let Some(raw) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(DockerHost::Unix(DEFAULT_SOCKET.into()));
        };
        let value = &redacted(raw);
        if let Some(path) = raw.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(format!("DOCKER_HOST={value} names no socket path"));
            }
            return Ok(DockerHost::Unix(path.into()));
        }
        let Some(rest) = raw
            .strip_prefix("tcp://")
            .or_else(|| raw.strip_prefix("http://"))
        else {
            return Err(format!(
                "DOCKER_HOST={value} is not supported: use unix:///path/to/docker.sock or tcp://HOST:PORT"
            ));
        };
        let rest = rest.trim_end_matches('/');
        // Credentials stay with the host for the connection, out of the port's parsing.
        let (userinfo, address) = rest.rsplit_once('@').map_or(("", rest), |(u, a)| (u, a));
        let (host, port) = address
            .rsplit_once(':')
            .ok_or_else(|| format!("DOCKER_HOST={value} has no port: use tcp://HOST:PORT"))?;
        let port = match port.parse::<u32>() {
            Ok(p @ 1..=65535) => p as u16,
            Ok(p) => {
                return Err(format!(
                    "DOCKER_HOST={value} is invalid: port {p} is out of range (1-65535)"
                ));
            }
            Err(_) => {
                return Err(format!(
                    "DOCKER_HOST={value} is invalid: {port:?} is not a port number"
                ));
            }
        };
        if host.is_empty() {
            return Err(format!("DOCKER_HOST={value} names no host"));
        }
        let host = if userinfo.is_empty() {
            host.to_owned()
        } else {
            format!("{userinfo}@{host}")
        };
        Ok(DockerHost::Tcp { host, port })
    }
}

impl fmt::Display for DockerHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DockerHost::Unix(path) => write!(f, "unix://{}", path.display()),
            DockerHost::Tcp { host, port } => {
                write!(f, "{}", redacted(&format!("tcp://{host}:{port}")))
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_unix_and_tcp() {
        assert_eq!(
            DockerHost::parse(None).unwrap(),
            DockerHost::Unix(DEFAULT_SOCKET.into())
        );
        assert_eq!(
            DockerHost::parse(Some("tcp://127.0.0.1:2375")).unwrap(),
            DockerHost::Tcp {
                host: "127.0.0.1".into(),
                port: 2375
            }
        );
        assert_eq!(
            DockerHost::parse(Some("unix:///tmp/d.sock"))
                .unwrap()
                .to_string(),
            "unix:///tmp/d.sock"
        );
    }

    #[test]
    fn out_of_range_port_is_named() {
        let err = DockerHost::parse(Some("tcp://127.0.0.1:99999")).unwrap_err();
        assert_eq!(
            err,
            "DOCKER_HOST=tcp://127.0.0.1:99999 is invalid: port 99999 is out of range (1-65535)"
        );
    }

    #[test]
    fn credentials_are_never_shown() {
        let host = DockerHost::parse(Some("tcp://admin:s3cret@docker.internal:2376")).unwrap();
        assert_eq!(host.to_string(), "tcp://***@docker.internal:2376");
        for bad in [
            "ssh://admin:s3cret@docker.internal",
            "tcp://admin:s3cret@docker.internal",
            "tcp://admin:s3cret@docker.internal:99999",
        ] {
            let err = DockerHost::parse(Some(bad)).unwrap_err();
            assert!(!err.contains("s3cret"), "{err}");
            assert!(err.contains("***@docker.internal"), "{err}");
        }
        assert_eq!(
            redacted("unix:///run/docker.sock"),
            "unix:///run/docker.sock"
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
            let err = DockerHost::parse(Some(bad)).unwrap_err();
            assert!(err.contains("DOCKER_HOST="), "{bad}: {err}");
        }
    }
}
