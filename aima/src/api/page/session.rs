//! The page's sign-in, under the API's token rules: a daemon without a token (or a request
//! through the unix socket) shows the page to anyone who can reach it; otherwise a request needs
//! the bearer header or the session cookie that the login form sets.
//!
//! The cookie holds a random session ([`super::sessions`]: in the daemon's memory, ended by
//! idleness, age, sign-out and restart), never the token: it opens the read-only page only (the
//! API still wants the bearer header). It is `HttpOnly` (scripts cannot read it) and
//! `SameSite=Strict` (no other site's page sends it).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;

use super::layout::{self, Html};
use super::sessions::{ABSOLUTE, Sessions};
use crate::api::auth::{bearer_credentials, token_holder};
use crate::host::users::AdminRule;
use crate::api::body::{AnonymousForm, BodyRejection};
use crate::api::{ApiState, Transport};

pub(crate) const COOKIE: &str = "aima_session";

/// The values of the session cookies the request carries.
fn session_cookies(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// Who holds a live session the request's cookies name, at `now`.
fn session_holder(headers: &HeaderMap, sessions: &Sessions, now: Instant) -> Option<String> {
    session_cookies(headers).find_map(|value| sessions.holder(value, now))
}

/// Lets the request through when the daemon needs no token, it came through the unix socket,
/// or it carries a token (the daemon's or a named one) or a session, naming who in the access
/// log; else answers 401 with the login form.
pub(crate) async fn require_session(
    State(state): State<ApiState>,
    req: Request,
    next: Next,
) -> Response {
    if state.token.is_none() || req.extensions().get::<Transport>() == Some(&Transport::Unix) {
        return next.run(req).await;
    }
    let holder = match session_holder(req.headers(), &state.sessions, Instant::now()) {
        Some(holder) => Some(holder),
        None => {
            let bearer = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(bearer_credentials)
                .map(str::to_owned);
            match bearer {
                Some(given) => token_holder(&state, Some(&given), &AdminRule::default())
                    .await
                    .ok()
                    .map(|actor| actor.name),
                None => None,
            }
        }
    };
    match holder {
        Some(holder) => {
            tracing::Span::current().record("actor", holder.as_str());
            next.run(req).await
        }
        None => {
            let back = req.uri().path().to_owned();
            login_form(StatusCode::UNAUTHORIZED, &back, None)
        }
    }
}

fn login_form(status: StatusCode, next: &str, problem: Option<&str>) -> Response {
    let mut body = String::from(
        "<section class=\"login\"><h2>Sign in</h2>\
         <p>This daemon needs an API token: a named one from <code>aima token create</code>, or \
         its own: <code>AIMA_API_TOKEN</code>, <code>[api] token</code> in config.toml, or the \
         <code>api-token</code> file in the data dir.</p>",
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
        (status = 408, description = "The form did not arrive within the body timeout", body = crate::api::error::ErrorBodyDoc),
        (status = 413, description = "Body too large", body = crate::api::error::ErrorBodyDoc),
        (status = 503, description = "The daemon is shutting down, or the budget for sign-in forms from callers without the token is spent (the connection is closed)", body = crate::api::error::ErrorBodyDoc),
    ))]
/// `POST /login`: a right token sets the session cookie and goes back to the page asked for; a
/// wrong one shows the form again with 401.
pub(crate) async fn login(
    State(state): State<ApiState>,
    form: Result<AnonymousForm<Login>, BodyRejection>,
) -> Response {
    let form = match form {
        Ok(AnonymousForm(form)) => form,
        Err(BodyRejection::Invalid(_)) => {
            let problem = "Send the token through this form.";
            return login_form(StatusCode::BAD_REQUEST, "/", Some(problem));
        }
        Err(other) => return layout::secure(other.into_response()),
    };
    let next = local_path(&form.next);
    if state.token.is_none() {
        return see_other(next, None);
    }
    // The daemon's own token or a named one: the session acts as whom the token acts as.
    let holder = match token_holder(&state, Some(form.token.trim()), &AdminRule::default()).await {
        Ok(actor) => actor.name,
        Err(_) => {
            return login_form(StatusCode::UNAUTHORIZED, next, Some("That token is wrong."));
        }
    };
    let session = match state.sessions.open_as(Instant::now(), &holder) {
        Ok(session) => session,
        Err(e) => {
            tracing::error!("cannot start a page session: reading /dev/urandom failed: {e}");
            let problem = "The daemon cannot start a session (see its log); use the API with the token meanwhile.";
            return login_form(StatusCode::INTERNAL_SERVER_ERROR, next, Some(problem));
        }
    };
    let cookie = format!(
        "{COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        ABSOLUTE.as_secs()
    );
    see_other(next, Some(cookie))
}

/// `POST /logout`: ends the session on the daemon, so a copy of the cookie stops working too,
/// and asks the browser to forget it.
#[utoipa::path(post, path = "/logout", operation_id = "pageLogout", tag = "page", security(()),
    summary = "Ends the page's session on the daemon, forgets its cookie and redirects to the page.",
    responses((status = 303, description = "Signed out", headers(("Location" = String), ("Set-Cookie" = String)))))]
pub(crate) async fn logout(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    for value in session_cookies(&headers) {
        state.sessions.close(value);
    }
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
    use std::time::Instant;

    use axum::http::{HeaderMap, HeaderValue, header};

    use super::{Sessions, local_path, session_holder};

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn a_live_session_signs_in_as_its_holder() {
        let (sessions, now) = (Sessions::default(), Instant::now());
        let session = sessions.open_as(now, "alice").unwrap();
        let holder = |h: &HeaderMap| session_holder(h, &sessions, now);
        let cookie = format!("theme=dark; aima_session={session}");
        assert_eq!(holder(&with(header::COOKIE, &cookie)).as_deref(), Some("alice"));
        assert_eq!(holder(&with(header::COOKIE, "aima_session=t0k")), None);
        assert_eq!(holder(&with(header::AUTHORIZATION, "Bearer t0k")), None);
        assert_eq!(holder(&HeaderMap::new()), None);
        sessions.close(&session);
        assert_eq!(holder(&with(header::COOKIE, &cookie)), None);
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
