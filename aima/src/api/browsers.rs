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
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
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

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
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
    use super::{is_loopback_host, same_site};

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
}
