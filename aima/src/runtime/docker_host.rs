//! `DOCKER_HOST`, validated before any connection so a typo is named as such.

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
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(DockerHost::Unix(DEFAULT_SOCKET.into()));
        };
        if let Some(path) = value.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(format!("DOCKER_HOST={value} names no socket path"));
            }
            return Ok(DockerHost::Unix(path.into()));
        }
        let Some(rest) = value
            .strip_prefix("tcp://")
            .or_else(|| value.strip_prefix("http://"))
        else {
            return Err(format!(
                "DOCKER_HOST={value} is not supported: use unix:///path/to/docker.sock or tcp://HOST:PORT"
            ));
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = rest
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
        Ok(DockerHost::Tcp {
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for DockerHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DockerHost::Unix(path) => write!(f, "unix://{}", path.display()),
            DockerHost::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
        }
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
