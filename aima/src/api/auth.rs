//! Bearer-token check for every route but health, comparing in constant time. The scheme name
//! is case-insensitive (RFC 9110); requests through the unix socket need no token.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::{ApiState, Transport};

pub(crate) async fn require_token(
    State(state): State<ApiState>,
    req: Request,
    next: Next,
) -> Response {
    let Some(expected) = state.token.as_deref() else {
        return next.run(req).await;
    };
    if req.extensions().get::<Transport>() == Some(&Transport::Unix) {
        return next.run(req).await;
    }
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_credentials);
    match given {
        Some(given) if same_secret(given, expected) => next.run(req).await,
        Some(_) => unauthorized("the API token is wrong"),
        None => unauthorized("this request needs the API token"),
    }
}

/// The credentials of `Bearer <token>`, whatever the case of the scheme name.
pub(super) fn bearer_credentials(value: &str) -> Option<&str> {
    let (scheme, credentials) = value.trim_start().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
}

/// Compares digests byte by byte without an early exit, so neither the position of the first
/// difference nor the token's length shows in the timing.
pub(super) fn same_secret(given: &str, expected: &str) -> bool {
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// `unauthorized` is an HTTP-only code: the CLI never meets it, so it is not an error [`Kind`].
///
/// [`Kind`]: crate::error::Kind
fn unauthorized(message: &str) -> Response {
    let body = serde_json::json!({ "error": {
        "code": "unauthorized",
        "message": message,
        "help": "send `Authorization: Bearer <token>` with the token from AIMA_API_TOKEN, [api] token in config.toml, or the api-token file in the data dir; or use the unix socket aima.sock in the data dir",
    }});
    let mut res = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    res.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    res
}

#[cfg(test)]
mod tests {
    use super::{bearer_credentials, same_secret};

    #[test]
    fn the_scheme_name_is_case_insensitive() {
        for header in ["Bearer t0k", "bearer t0k", "BEARER  t0k ", "BeArEr t0k"] {
            assert_eq!(bearer_credentials(header), Some("t0k"), "{header}");
        }
        for header in ["Basic dXNlcg==", "Bearert0k", "t0k", ""] {
            assert_eq!(bearer_credentials(header), None, "{header}");
        }
    }

    #[test]
    fn compares_whole_secrets() {
        assert!(same_secret("s3cret", "s3cret"));
        assert!(!same_secret("s3cret", "s3cres"));
        assert!(!same_secret("s3cre", "s3cret"));
        assert!(!same_secret("", "s3cret"));
    }
}
