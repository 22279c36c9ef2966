//! Keeps web pages out. The API runs containers, and a loopback daemon without a token would
//! otherwise be reachable from any page the operator opens: cross-site requests carry an
//! `Origin` header, and DNS rebinding arrives with a foreign `Host`. aima's clients (its CLI
//! peers, scripts, curl) send neither, so both are refused with 403.
//!
//! The one exception is aima's own status page: a browser sends `Origin` on the page's
//! same-site requests too (the login form's POST). Page paths (never `/api/`) accept an
//! `Origin` naming exactly the site the request was sent to (`http://` + its `Host`); any
//! other origin is refused there as everywhere. The `Host` check below still applies, so a
//! rebinding page that is "same-origin" with itself gains nothing on a daemon without a token,
//! and with a token it cannot sign in without knowing it.
//!
//! A `Host` header must be well formed — a DNS name, an IPv4 address or a bracketed IPv6
//! address, then an optional port — or the request is refused with 400: no browser sends
//! `localhost:80@evil.example`, `[::1].evil` or bytes above 0x7f, and a check that read such a
//! value leniently would take a foreign name for loopback.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiState;

pub(crate) async fn refuse_web_pages(
    State(state): State<ApiState>,
    req: Request,
    next: Next,
) -> Response {
    let host = match req.headers().get(header::HOST) {
        None => None,
        Some(value) => match std::str::from_utf8(value.as_bytes()) {
            Ok(text) if host_name(text).is_some() => Some(text),
            _ => return malformed_host(),
        },
    };
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let own_page = super::page::is_page_path(req.uri().path())
            && host.is_some_and(|host| same_site(origin.as_bytes(), host));
        if !own_page {
            return forbidden("requests from web pages (with an Origin header) are refused");
        }
    }
    // With a token a rebinding page cannot authenticate anyway; without one, only loopback
    // names may reach the API.
    if state.token.is_none() && host.is_some_and(|h| !is_loopback_host(h)) {
        return forbidden("only loopback host names may reach an API without a token");
    }
    next.run(req).await
}

/// `origin` is `http://<host>`: the page was loaded from the very address it now talks to.
/// `null` and every other scheme, name or port is another site.
fn same_site(origin: &[u8], host: &str) -> bool {
    origin
        .strip_prefix(b"http://")
        .is_some_and(|rest| rest.eq_ignore_ascii_case(host.as_bytes()))
}

/// The name of a well-formed `host[:port]` (the address without brackets for IPv6), or `None`:
/// a DNS name (letters, digits, `-` and `.`, at most 253 bytes) or an IPv4 address, or an IPv6
/// address in brackets, then optionally `:` and a port from 0 to 65535 in at most 5 digits.
fn host_name(host: &str) -> Option<&str> {
    let (name, port) = match host.strip_prefix('[') {
        Some(v6) => {
            let (addr, rest) = v6.split_once(']')?;
            addr.parse::<std::net::Ipv6Addr>().ok()?;
            match rest {
                "" => (addr, None),
                _ => (addr, Some(rest.strip_prefix(':')?)),
            }
        }
        None => match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        },
    };
    let port_ok = port.is_none_or(|p| {
        (1..=5).contains(&p.len())
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok()
    });
    let dns_ok = host.starts_with('[')
        || (!name.is_empty()
            && name.len() <= 253
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'));
    (port_ok && dns_ok).then_some(name)
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port; a malformed value is none.
fn is_loopback_host(host: &str) -> bool {
    host_name(host).is_some_and(|name| {
        name.eq_ignore_ascii_case("localhost")
            || name
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    })
}

/// A `Host` header that is not `host[:port]`: no client of aima or browser sends one.
fn malformed_host() -> Response {
    let body = serde_json::json!({ "error": {
        "code": "usage",
        "message": "the Host header is not a well-formed host[:port]",
        "help": "send a Host header such as 127.0.0.1:9090 or localhost:9090",
    }});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// `forbidden` is an HTTP-only code, like `unauthorized`.
fn forbidden(message: &str) -> Response {
    let body = serde_json::json!({ "error": {
        "code": "forbidden",
        "message": message,
        "help": "call the API from the aima CLI, a script or curl, at 127.0.0.1 (not localhost, which may resolve to ::1)",
    }});
    (StatusCode::FORBIDDEN, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::{host_name, is_loopback_host, same_site};

    #[test]
    fn only_the_exact_site_is_same_site() {
        assert!(same_site(b"http://127.0.0.1:9090", "127.0.0.1:9090"));
        assert!(same_site(b"http://LOCALHOST:9090", "localhost:9090"));
        for (origin, host) in [
            (&b"http://127.0.0.1:9091"[..], "127.0.0.1:9090"),
            (b"http://evil.example", "127.0.0.1:9090"),
            (b"https://127.0.0.1:9090", "127.0.0.1:9090"),
            (b"null", "127.0.0.1:9090"),
            (b"http://127.0.0.1:9090.evil.example", "127.0.0.1:9090"),
            (b"http://127.0.0.1", "127.0.0.1:9090"),
        ] {
            assert!(!same_site(origin, host), "{origin:?} {host}");
        }
    }

    #[test]
    fn loopback_names_are_recognised() {
        for ok in [
            "localhost",
            "LOCALHOST:9090",
            "127.0.0.1:9090",
            "127.1.2.3",
            "[::1]:9090",
            "[::1]",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:9090",
            "10.0.0.1:9090",
            "[2001:db8::1]:80",
            "localhost.evil.example",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn only_well_formed_hosts_pass() {
        for (ok, name) in [
            ("localhost", "localhost"),
            ("127.0.0.1:9090", "127.0.0.1"),
            ("[::1]:9090", "::1"),
            ("[::1]", "::1"),
            ("aima-host.example:80", "aima-host.example"),
        ] {
            assert_eq!(host_name(ok), Some(name), "{ok}");
        }
        for bad in [
            "localhost:80@evil.example",
            "[::1].evil",
            "[::1]:",
            "[::1]x:80",
            "[evil]:80",
            "localhost:",
            "localhost:99999",
            "localhost:123456",
            "localhost:+80",
            "local host",
            "lo\u{e9}calhost",
            "127.0.0.1:80:81",
            "user@localhost",
            "",
        ] {
            assert_eq!(host_name(bad), None, "{bad:?}");
            assert!(!is_loopback_host(bad), "{bad:?}");
        }
    }
}
