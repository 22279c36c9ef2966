//! The document around every page and the headers every page answer carries: a strict
//! Content-Security-Policy (only this site's own script and style files, no inline code, no
//! frames, forms post only here), no caching, no sniffing, and no referrer to other sites
//! (`same-origin`: with `no-referrer` a browser would send the login form's `Origin` as `null`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Markup already built from escaped parts.
pub(super) struct Html(pub(super) String);

pub(super) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// How a page behaves around its content.
#[derive(Clone, Copy)]
pub(super) struct Chrome {
    /// The script refreshes the content.
    pub(super) live: bool,
    /// The footer offers to sign out (a daemon with a token, seen signed in).
    pub(super) sign_out: bool,
}

impl Chrome {
    pub(super) const STATIC: Chrome = Chrome {
        live: false,
        sign_out: false,
    };
}

/// A whole page: `title` is plain text (escaped here), `main` is the region the script
/// refreshes when `chrome.live`.
pub(super) fn page(status: StatusCode, title: &str, main: &Html, chrome: Chrome) -> Response {
    let live_attr = if chrome.live {
        " data-refresh=\"live\""
    } else {
        ""
    };
    let sign_out = if chrome.sign_out {
        "<form method=\"post\" action=\"/logout\" class=\"sign-out\"><button type=\"submit\">Sign out</button></form>"
    } else {
        ""
    };
    let doc = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · aima</title>\
         <link rel=\"stylesheet\" href=\"/page/app.css\">\
         <script src=\"/page/app.js\" defer></script></head>\
         <body><header><a class=\"home\" href=\"/\">aima</a> <span class=\"sub\">services on this host</span>\
         <span id=\"live-state\" class=\"live-state\"></span></header>\
         <main id=\"live\"{live_attr}>{main}</main>\
         <footer>Read-only. Change services with <code>aima</code> on the command line or the API.{sign_out}</footer>\
         </body></html>\n",
        title = super::html::text(title),
        main = main.0,
    );
    let mut res = (status, doc).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure(res)
}

/// Adds the security headers every page answer carries.
pub(super) fn secure(mut res: Response) -> Response {
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}
