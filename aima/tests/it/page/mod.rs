//! The status page: its answers over HTTP (sign-in, cookie, origins, escaping, headers) and the
//! page in a real headless Chromium against a real daemon with real services.

mod browser;
mod http;
