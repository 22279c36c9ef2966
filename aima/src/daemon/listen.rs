//! The daemon's listen address: parsed, refused when exposed without a token, bound with an
//! error that names whoever holds it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use tokio::net::TcpListener;

use crate::error::{Error, Kind, Result};
use crate::host::ports;

/// Parses `HOST:PORT` (an IP, or `localhost`) and refuses a non-loopback address without a token.
pub(crate) fn listen_address(listen: &str, has_token: bool) -> Result<SocketAddr> {
    let addr = parse(listen)?;
    if !addr.ip().to_canonical().is_loopback() && !has_token {
        return Err(Error::usage(format!(
            "refusing to listen on {addr} without an API token: anyone who can reach it could run containers"
        ))
        .with_help("set AIMA_API_TOKEN (or [api] token in config.toml), or listen on a loopback address such as 127.0.0.1:9090"));
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
    Err(Error::usage(format!(
        "--listen {listen:?} is not an address: expected IP:PORT such as 127.0.0.1:9090 or [::1]:9090"
    )))
}

/// Binds at once; a taken address is reported with its holder where /proc tells.
pub(crate) async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            let holder = ports::holder_of(addr.port());
            Error::new(
                Kind::PortInUse,
                format!("cannot listen on {addr}: the address is in use by {holder}"),
            )
            .with_help("stop that process, or choose another address with --listen")
        } else {
            Error::usage(format!("cannot listen on {addr}"))
                .caused_by(e)
                .with_help("choose another address with --listen")
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
        assert_eq!(err.code, Kind::Usage);
        assert!(err.message.contains("0.0.0.0:9090"), "{}", err.message);
        assert!(listen_address("0.0.0.0:9090", true).is_ok());
    }

    #[test]
    fn garbage_is_a_usage_error() {
        assert_eq!(listen_address("nine", false).unwrap_err().code, Kind::Usage);
    }

    #[tokio::test]
    async fn taken_address_names_this_process() {
        let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let err = bind(held.local_addr().unwrap()).await.unwrap_err();
        assert_eq!(err.code, Kind::PortInUse);
        assert!(
            err.message
                .contains(&format!("(pid {})", std::process::id())),
            "{}",
            err.message
        );
    }
}
