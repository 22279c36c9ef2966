//! The page's script and stylesheet, compiled into the binary and served from this origin: the
//! Content-Security-Policy allows no other source and no inline code.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/app.css");

#[utoipa::path(get, path = "/page/app.js", operation_id = "pageScript", tag = "page", security(()),
    summary = "The page's one script (same origin, no inline code).",
    responses((status = 200, description = "The file", content_type = "text/javascript", body = String)))]
pub(crate) async fn script() -> Response {
    asset(SCRIPT, "text/javascript; charset=utf-8")
}

#[utoipa::path(get, path = "/page/app.css", operation_id = "pageStyle", tag = "page", security(()),
    summary = "The page's stylesheet.",
    responses((status = 200, description = "The file", content_type = "text/css", body = String)))]
pub(crate) async fn style() -> Response {
    asset(STYLE, "text/css; charset=utf-8")
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    let mut res = body.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    super::layout::secure(res)
}
