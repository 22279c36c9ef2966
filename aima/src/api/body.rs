//! Request bodies and query strings, with failures reported as JSON `usage` errors (400), an
//! oversized body as 413 and a body too slow to arrive as 408, rather than axum's plain-text
//! rejections. A body still arriving when shutdown begins is refused with 503.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::ApiState;
use super::error::ApiError;
use crate::error::{Error, Kind};

/// A JSON body that must be present.
pub(crate) struct JsonBody<T>(pub T);

/// A JSON body that may be absent (empty), meaning `T::default()`.
pub(crate) struct OptionalJsonBody<T>(pub T);

/// A query string parsed strictly into `T`.
pub(crate) struct StrictQuery<T>(pub T);

/// 413 keeps its own status; everything else a client can get wrong in a body is a 400.
pub(crate) enum BodyRejection {
    TooLarge(usize),
    Invalid(Error),
    TooSlow(u64),
    ShuttingDown,
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
