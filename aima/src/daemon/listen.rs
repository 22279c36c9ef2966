//! The daemon's listen address: parsed, refused when exposed without a token, bound with an
//! error that names whoever holds it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use tokio::net::TcpListener;

use crate::error::{Classified, Kind};
use crate::host::ports::{self, PortHolder};

/// Why the daemon cannot listen where it was asked to.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ListenError {
    #[error(
        "--listen {0:?} is not an address: expected IP:PORT such as 127.0.0.1:9090 or [::1]:9090"
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

/// Parses `HOST:PORT` (an IP, or `localhost`) and refuses a non-loopback address without a token.
pub(crate) fn listen_address(listen: &str, has_token: bool) -> Result<SocketAddr> {
    let addr = parse(listen)?;
    if !addr.ip().to_canonical().is_loopback() && !has_token {
        return Err(ListenError::ExposedWithoutToken(addr));
    }
    Ok(addr)
}

fn parse(listen: &str) -> Result<SocketAddr> {
    if let Ok(addr) = listen.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Some(port) = listen.strip_prefix("localhost:")
        && let Ok(port) = port.parse::<u16>()
    {
        return Ok(SocketAddr::from((IpAddr::V4(Ipv4Addr::LOCALHOST), port)));
    }
    Err(ListenError::NotAnAddress(listen.to_owned()))
}

/// Binds at once; a taken address is reported with its holder where /proc tells.
pub(crate) async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|source| {
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
        let err = bind(held.local_addr().unwrap()).await.unwrap_err();
        assert_eq!(err.kind(), Kind::PortInUse);
        let pid = format!("(pid {})", std::process::id());
        assert!(err.to_string().contains(&pid), "{err}");
    }
}
