//! Request bodies and query strings, with failures reported as JSON `usage` errors (400), an
//! oversized body as 413 and a body too slow to arrive as 408, rather than axum's plain-text
//! rejections. A body still arriving when shutdown begins is refused with 503.
//!
//! Every body is read here, the status page's sign-in form included, so none escapes the body
//! timeout, the size limit or shutdown. Bodies from callers without credentials (the sign-in
//! form over TCP) have a budget of their own ([`ApiState::sign_ins`]): beyond it they are
//! refused with 503 at once, so they never hold more than that share of the connection cap.

use axum::Form;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::{ApiState, Transport};
use crate::error::{Error, Kind};

/// A JSON body that must be present.
pub(crate) struct JsonBody<T>(pub T);

/// A JSON body that may be absent (empty), meaning `T::default()`.
pub(crate) struct OptionalJsonBody<T>(pub T);

/// A form body (`application/x-www-form-urlencoded`) from a caller that has not shown the
/// token yet: the status page's sign-in.
pub(crate) struct AnonymousForm<T>(pub T);

/// A UTF-8 text body and its media type (`application/toml`, `application/json`, …).
pub(crate) struct TextBody {
    pub content_type: Option<String>,
    pub text: String,
}

/// A query string parsed strictly into `T`.
pub(crate) struct StrictQuery<T>(pub T);

/// 413 keeps its own status; everything else a client can get wrong in a body is a 400.
pub(crate) enum BodyRejection {
    TooLarge(usize),
    Invalid(Error),
    TooSlow(u64),
    ShuttingDown,
    /// The budget for bodies from callers without credentials is spent.
    Busy(usize),
}

impl IntoResponse for BodyRejection {
    fn into_response(self) -> Response {
        match self {
            BodyRejection::TooLarge(limit) => {
                let error = Error::usage(format!("request body is larger than {limit} bytes"))
                    .with_help("requests to aima are small JSON objects; check what is being sent");
                ApiError::from(error)
                    .with_status(StatusCode::PAYLOAD_TOO_LARGE)
                    .into_response()
            }
            BodyRejection::Invalid(error) => ApiError::from(error).into_response(),
            BodyRejection::TooSlow(secs) => {
                let error = Error::new(
                    Kind::Timeout,
                    format!("the request body did not arrive within {secs}s"),
                )
                .with_help("send the whole body at once; requests to aima are small");
                ApiError::from(error)
                    .with_status(StatusCode::REQUEST_TIMEOUT)
                    .into_response()
            }
            BodyRejection::ShuttingDown => {
                let error = Error::new(
                    Kind::Interrupted,
                    "the daemon is shutting down: the request was not run",
                )
                .with_help("send it again once the daemon is back");
                ApiError::from(error).into_response()
            }
            BodyRejection::Busy(budget) => {
                // `unavailable` is HTTP-only, as for the connection cap: the CLI never meets it.
                let body = serde_json::json!({ "error": {
                    "code": "unavailable",
                    "message": format!("{budget} sign-in forms are being read already"),
                    "help": "retry in a few seconds, sending the whole form at once; clients with the token are not affected",
                }});
                let mut res = (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
                // Its body is left unread: end the connection rather than wait for it.
                res.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                res
            }
        }
    }
}

async fn read(req: Request, state: &ApiState) -> Result<Bytes, BodyRejection> {
    let reading = tokio::time::timeout(state.body_timeout, Bytes::from_request(req, state));
    let read = tokio::select! {
        read = reading => read,
        () = state.closing.cancelled() => return Err(BodyRejection::ShuttingDown),
    };
    let Ok(read) = read else {
        return Err(BodyRejection::TooSlow(state.body_timeout.as_secs()));
    };
    read.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            BodyRejection::TooLarge(super::BODY_LIMIT)
        } else {
            BodyRejection::Invalid(Error::usage(format!("cannot read the request body: {e}")))
        }
    })
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyRejection> {
    serde_json::from_slice(bytes).map_err(|e| {
        BodyRejection::Invalid(
            Error::usage(format!("invalid JSON request body: {e}"))
                .with_help("send one JSON object with the documented fields"),
        )
    })
}

impl<T: DeserializeOwned> FromRequest<ApiState> for JsonBody<T> {
    type Rejection = BodyRejection;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Self::Rejection> {
        let bytes = read(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(BodyRejection::Invalid(
                Error::usage("this request needs a JSON body")
                    .with_help("send one JSON object with the documented fields"),
            ));
        }
        parse(&bytes).map(JsonBody)
    }
}

impl<T: DeserializeOwned + Default> FromRequest<ApiState> for OptionalJsonBody<T> {
    type Rejection = BodyRejection;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Self::Rejection> {
        let bytes = read(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(T::default()));
        }
        parse(&bytes).map(OptionalJsonBody)
    }
}

impl FromRequest<ApiState> for TextBody {
    type Rejection = BodyRejection;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase());
        let bytes = read(req, state).await?;
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
            BodyRejection::Invalid(Error::usage("the request body is not UTF-8 text"))
        })?;
        Ok(TextBody { content_type, text })
    }
}

impl<T: DeserializeOwned> FromRequest<ApiState> for AnonymousForm<T> {
    type Rejection = BodyRejection;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Self::Rejection> {
        // The unix socket's callers are trusted by its file mode; TCP callers share the budget.
        let _slot = if req.extensions().get::<Transport>() == Some(&Transport::Unix) {
            None
        } else {
            let budget = state.sign_ins.clone();
            let total = state.sign_ins_total;
            Some(
                budget
                    .try_acquire_owned()
                    .map_err(|_| BodyRejection::Busy(total))?,
            )
        };
        let (parts, body) = req.into_parts();
        let bytes = read(Request::from_parts(parts.clone(), body), state).await?;
        let whole = Request::from_parts(parts, Body::from(bytes));
        Form::<T>::from_request(whole, state)
            .await
            .map(|Form(form)| AnonymousForm(form))
            .map_err(|e| {
                BodyRejection::Invalid(Error::usage(format!(
                    "invalid form body: {}",
                    e.body_text()
                )))
            })
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for StrictQuery<T> {
    type Rejection = BodyRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| StrictQuery(q))
            .map_err(|e| {
                BodyRejection::Invalid(Error::usage(format!(
                    "invalid query string: {}",
                    e.body_text()
                )))
            })
    }
}
