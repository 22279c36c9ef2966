//! The page's sign-in, under the API's token rules: a daemon without a token (or a request
//! through the unix socket) shows the page to anyone who can reach it; otherwise a request needs
//! the bearer header or the session cookie that the login form sets.
//!
//! The cookie holds a digest of the token, not the token: it opens the read-only page only (the
//! API still wants the bearer header), and changing the token ends every session. It is
//! `HttpOnly` (scripts cannot read it) and `SameSite=Strict` (no other site's page sends it).

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::layout::{self, Html};
use crate::api::auth::{bearer_credentials, same_secret};
use crate::api::{ApiState, Transport};

pub(crate) const COOKIE: &str = "aima_session";

/// The cookie's value for `token`.
fn session_value(token: &str) -> String {
    let digest = Sha256::digest(format!("aima status page session\0{token}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the request shows of itself.
fn signed_in(headers: &HeaderMap, token: &str) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_credentials);
    if bearer.is_some_and(|given| same_secret(given, token)) {
        return true;
    }
    let expected = session_value(token);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(name, value)| name == COOKIE && same_secret(value, &expected))
}

/// Lets the request through when the daemon needs no token, it came through the unix socket,
/// or it carries the token or the session; else answers 401 with the login form.
pub(crate) async fn require_session(
    State(state): State<ApiState>,
    req: Request,
    next: Next,
) -> Response {
    let Some(token) = state.token.as_deref() else {
        return next.run(req).await;
    };
    if req.extensions().get::<Transport>() == Some(&Transport::Unix)
        || signed_in(req.headers(), token)
    {
        return next.run(req).await;
    }
    let back = req.uri().path().to_owned();
    login_form(StatusCode::UNAUTHORIZED, &back, None)
}

fn login_form(status: StatusCode, next: &str, problem: Option<&str>) -> Response {
    let mut body = String::from(
        "<section class=\"login\"><h2>Sign in</h2>\
         <p>This daemon needs its API token: <code>AIMA_API_TOKEN</code>, <code>[api] token</code> \
         in config.toml, or the <code>api-token</code> file in the data dir.</p>",
    );
    if let Some(problem) = problem {
        body.push_str(&format!(
            "<p class=\"problem\" id=\"login-problem\">{}</p>",
            super::html::text(problem)
        ));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"/login\" id=\"login\">\
         <input type=\"hidden\" name=\"next\" value=\"{}\">\
         <label>API token <input type=\"password\" name=\"token\" autocomplete=\"current-password\" required autofocus></label>\
         <button type=\"submit\">Sign in</button></form></section>",
        super::html::text(next)
    ));
    layout::page(status, "Sign in", &Html(body), layout::Chrome::STATIC)
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct Login {
    /// The API token.
    token: String,
    /// A path on this site to go to afterwards (else `/`).
    #[serde(default)]
    next: String,
}

#[utoipa::path(post, path = "/login", operation_id = "pageLogin", tag = "page", security(()),
    summary = "The page's login form: a right token sets the session cookie (HttpOnly, SameSite=Strict) and redirects to `next`.",
    request_body(content = Login, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in", headers(("Location" = String), ("Set-Cookie" = String))),
        (status = 400, description = "Not a form: the login form again", content_type = "text/html", body = String),
        (status = 401, description = "Wrong token: the login form again", content_type = "text/html", body = String),
    ))]
/// `POST /login`: a right token sets the session cookie and goes back to the page asked for; a
/// wrong one shows the form again with 401.
pub(crate) async fn login(
    State(state): State<ApiState>,
    form: Result<Form<Login>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        let problem = "Send the token through this form.";
        return login_form(StatusCode::BAD_REQUEST, "/", Some(problem));
    };
    let next = local_path(&form.next);
    let Some(token) = state.token.as_deref() else {
        return see_other(next, None);
    };
    if !same_secret(form.token.trim(), token) {
        return login_form(StatusCode::UNAUTHORIZED, next, Some("That token is wrong."));
    }
    let cookie = format!(
        "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
        session_value(token)
    );
    see_other(next, Some(cookie))
}

/// `POST /logout`: forgets the session.
#[utoipa::path(post, path = "/logout", operation_id = "pageLogout", tag = "page", security(()),
    summary = "Forgets the page's session cookie and redirects to the page.",
    responses((status = 303, description = "Signed out", headers(("Location" = String), ("Set-Cookie" = String)))))]
pub(crate) async fn logout() -> Response {
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    see_other("/", Some(cookie))
}

/// `next` when it is a path on this site, else `/`: the form never sends anyone elsewhere.
fn local_path(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if local { next } else { "/" }
}

fn see_other(location: &str, cookie: Option<String>) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    let headers = res.headers_mut();
    if let Ok(location) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, location);
    }
    if let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert(header::SET_COOKIE, cookie);
    }
    layout::secure(res)
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::{local_path, session_value, signed_in};

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn the_token_or_the_session_cookie_signs_in() {
        let cookie = format!("theme=dark; aima_session={}", session_value("t0k"));
        assert!(signed_in(&with(header::COOKIE, &cookie), "t0k"));
        assert!(signed_in(&with(header::AUTHORIZATION, "Bearer t0k"), "t0k"));
        assert!(!signed_in(&with(header::COOKIE, &cookie), "other"));
        assert!(!signed_in(&with(header::COOKIE, "aima_session=t0k"), "t0k"));
        assert!(!signed_in(
            &with(header::AUTHORIZATION, "Bearer nope"),
            "t0k"
        ));
        assert!(!signed_in(&HeaderMap::new(), "t0k"));
    }

    #[test]
    fn login_only_returns_to_this_site() {
        assert_eq!(
            local_path("/services/svc-0011aabb"),
            "/services/svc-0011aabb"
        );
        for away in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil",
            "",
            "x",
        ] {
            assert_eq!(local_path(away), "/", "{away}");
        }
    }
}
