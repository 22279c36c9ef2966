//! The daemon's listen address: parsed, refused when exposed without a token, bound with an
//! error that names whoever holds it.
//!
//! `localhost:PORT` binds both loopbacks, 127.0.0.1 and [::1], on that port: a client may
//! resolve `localhost` to either, and a loopback left free could be taken by another account,
//! which would then receive that client's token. Either one taken fails the start. Only a host
//! without IPv6 (where no one can bind [::1]) gets 127.0.0.1 alone.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::net::TcpListener;

use crate::error::{Classified, Kind};
use crate::host::ports::{self, PortHolder};

/// Why the daemon cannot listen where it was asked to.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ListenError {
    #[error(
        "--listen {0:?} is not an address: expected IP:PORT such as 127.0.0.1:9090, or localhost:PORT"
    )]
    NotAnAddress(String),
    #[error(
        "refusing to listen on {0} without an API token: anyone who can reach it could run containers"
    )]
    ExposedWithoutToken(SocketAddr),
    #[error("cannot listen on {addr}: the address is in use by {holder}")]
    InUse {
        addr: SocketAddr,
        holder: PortHolder,
    },
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

impl Classified for ListenError {
    fn kind(&self) -> Kind {
        match self {
            ListenError::InUse { .. } => Kind::PortInUse,
            _ => Kind::Usage,
        }
    }

    fn help(&self) -> Option<String> {
        let help = match self {
            ListenError::NotAnAddress(_) => return None,
            ListenError::ExposedWithoutToken(_) => {
                "drop AIMA_API_AUTH=none / [api] auth = \"none\" so a token is required, or listen on a loopback address such as 127.0.0.1:9090"
            }
            ListenError::InUse { .. } => {
                "stop that process, or choose another address with --listen"
            }
            ListenError::Bind { .. } => "choose another address with --listen",
        };
        Some(help.to_owned())
    }
}

type Result<T> = std::result::Result<T, ListenError>;

/// Where the daemon listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListenAddress {
    One(SocketAddr),
    /// `localhost:PORT`: 127.0.0.1 and [::1] on one port.
    Localhost(u16),
}

impl fmt::Display for ListenAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenAddress::One(addr) => write!(f, "{addr}"),
            ListenAddress::Localhost(port) => write!(f, "localhost:{port}"),
        }
    }
}

/// Parses `HOST:PORT` (an IP, or `localhost`) and refuses a non-loopback address without a token.
pub(crate) fn listen_address(listen: &str, has_token: bool) -> Result<ListenAddress> {
    if let Ok(addr) = listen.parse::<SocketAddr>() {
        if !addr.ip().to_canonical().is_loopback() && !has_token {
            return Err(ListenError::ExposedWithoutToken(addr));
        }
        return Ok(ListenAddress::One(addr));
    }
    if let Some((host, port)) = listen.rsplit_once(':')
        && host.eq_ignore_ascii_case("localhost")
        && let Ok(port) = port.parse::<u16>()
    {
        return Ok(ListenAddress::Localhost(port));
    }
    Err(ListenError::NotAnAddress(listen.to_owned()))
}

/// Binds at once, both loopbacks for `localhost`; a taken address is reported with its holder
/// where /proc tells. Returns the listeners and the addresses they are bound to.
pub(crate) async fn bind(listen: ListenAddress) -> Result<Vec<(TcpListener, SocketAddr)>> {
    let port = match listen {
        ListenAddress::One(addr) => return Ok(vec![bind_one(addr).await?]),
        ListenAddress::Localhost(port) => port,
    };
    let v4 = bind_one(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    // Port 0 asks for any port: the second loopback takes the one the first was given.
    let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, v4.1.port()));
    match bind_one(v6).await {
        Ok(v6) => Ok(vec![v4, v6]),
        Err(ListenError::Bind { source, .. }) if no_ipv6(&source) => {
            tracing::info!(
                "this host has no IPv6 loopback ({source}): localhost:{port} is 127.0.0.1 only"
            );
            Ok(vec![v4])
        }
        Err(e) => Err(e),
    }
}

/// IPv6 is off on this host, so no one can take [::1] either.
fn no_ipv6(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::AddrNotAvailable
        || e.raw_os_error() == Some(rustix::io::Errno::AFNOSUPPORT.raw_os_error())
}

async fn bind_one(addr: SocketAddr) -> Result<(TcpListener, SocketAddr)> {
    let bound = TcpListener::bind(addr)
        .await
        .and_then(|l| l.local_addr().map(|a| (l, a)));
    bound.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            ListenError::InUse {
                addr,
                holder: ports::holder_of(addr.port()),
            }
        } else {
            ListenError::Bind { addr, source }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    #[test]
    fn loopback_needs_no_token_but_exposure_does() {
        assert!(listen_address("127.0.0.1:9090", false).is_ok());
        assert!(listen_address("[::1]:9090", false).is_ok());
        assert!(listen_address("localhost:9090", false).is_ok());
        let err = listen_address("0.0.0.0:9090", false).unwrap_err();
        assert_eq!(err.kind(), Kind::Usage);
        assert!(err.to_string().contains("0.0.0.0:9090"), "{err}");
        assert!(listen_address("0.0.0.0:9090", true).is_ok());
    }

    #[tokio::test]
    async fn localhost_binds_both_loopbacks_on_one_port() {
        let listen = listen_address("LocalHost:0", false).unwrap();
        assert_eq!(listen, ListenAddress::Localhost(0));
        let bound = bind(listen).await.unwrap();
        let addrs: Vec<SocketAddr> = bound.iter().map(|(_, a)| *a).collect();
        assert_eq!(addrs.len(), 2, "{addrs:?}");
        assert_eq!(addrs[0].ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(addrs[1].ip(), IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(addrs[0].port(), addrs[1].port());
    }

    #[tokio::test]
    async fn localhost_fails_when_either_loopback_is_taken() {
        let held = std::net::TcpListener::bind("[::1]:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let err = bind(ListenAddress::Localhost(port)).await.unwrap_err();
        assert_eq!(err.kind(), Kind::PortInUse);
        assert!(err.to_string().contains(&format!("[::1]:{port}")), "{err}");
    }

    #[test]
    fn garbage_is_a_usage_error() {
        assert_eq!(
            listen_address("nine", false).unwrap_err().kind(),
            Kind::Usage
        );
    }

    #[tokio::test]
    async fn taken_address_names_this_process() {
        let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = ListenAddress::One(held.local_addr().unwrap());
        let err = bind(addr).await.unwrap_err();
        assert_eq!(err.kind(), Kind::PortInUse);
        let pid = format!("(pid {})", std::process::id());
        assert!(err.to_string().contains(&pid), "{err}");
    }
}
