//! Who may use the API, and as whom: every route but health learns its caller here (see
//! [`super::identity`]) and gets it as an `Extension<Actor>`. Over TCP a request needs a
//! token, when the daemon has one: its own (compared in constant time) or a named one
//! (compared as hashes, in constant time). The scheme name is case-insensitive (RFC 9110).
//! The access log's line names the actor, never a token.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::identity::{self, PeerCred};
use super::{ApiState, Transport};
use crate::domain::Actor;
use crate::host::users::AdminRule;

pub(crate) async fn identify(State(state): State<ApiState>, mut req: Request, next: Next) -> Response {
    // What the request shows of itself, read before any wait (a request is not `Sync`).
    let unix = req.extensions().get::<Transport>() == Some(&Transport::Unix);
    let peer = req.extensions().get::<PeerCred>().copied();
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_credentials)
        .map(str::to_owned);
    let rule = AdminRule {
        admin_group: state.deps.config.access.admin_group.clone(),
    };
    let actor = if unix {
        match peer {
            Some(cred) => state.identities.peer(cred, &rule).await,
            None => identity::socket_owner(),
        }
    } else {
        match token_holder(&state, given.as_deref(), &rule).await {
            Ok(actor) => actor,
            Err(refusal) => return refusal,
        }
    };
    tracing::Span::current().record("actor", actor.name.as_str());
    req.extensions_mut().insert(actor);
    next.run(req).await
}

/// Who the bearer token `given` (if any) stands for.
pub(crate) async fn token_holder(
    state: &ApiState,
    given: Option<&str>,
    rule: &AdminRule,
) -> Result<Actor, Response> {
    let expected = state.token.as_deref();
    let Some(given) = given else {
        return match expected {
            None => Ok(identity::anonymous()),
            Some(_) => Err(unauthorized("this request needs an API token")),
        };
    };
    if expected.is_some_and(|expected| same_secret(given, expected)) {
        return Ok(identity::legacy_admin());
    }
    match named_token(state, given).await {
        Ok(Some((name, admin))) => Ok(state.identities.token(&name, admin, rule).await),
        Ok(None) if expected.is_none() => Ok(identity::anonymous()),
        Ok(None) => Err(unauthorized("the API token is wrong or was revoked")),
        Err(e) => Err(super::error::ApiError::from(e).into_response()),
    }
}

/// The name and admin flag of the named token `given`, read fresh from the store (a revoked
/// token fails its next request).
async fn named_token(state: &ApiState, given: &str) -> crate::error::Result<Option<(String, bool)>> {
    let given = given.to_owned();
    state
        .with_store(move |s| {
            let known = s.token_hashes()?;
            Ok(crate::ops::tokens::find(&known, &given).map(|t| (t.name.clone(), t.admin)))
        })
        .await
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
        "help": "send `Authorization: Bearer <token>` with a token from `aima token create`, or the daemon's own from AIMA_API_TOKEN, [api] token in config.toml, or the api-token file in the data dir; or use the unix socket aima.sock in the data dir",
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
