//! Errors as HTTP responses: the status for each error kind and the CLI's JSON error body.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::{Error, Kind};

/// An [`Error`] on its way out as a response, with the status its kind maps to unless a route
/// needs a more precise one (405, 413).
#[derive(Debug)]
pub struct ApiError {
    error: Error,
    status: StatusCode,
}

impl ApiError {
    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

/// The status is the one [`Kind::http_status`] gives.
impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError {
            status: status_of(error.code),
            error,
        }
    }
}

pub(crate) fn status_of(kind: Kind) -> StatusCode {
    StatusCode::from_u16(kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(code = self.error.code.code(), "{}", self.error.message);
        }
        (
            self.status,
            Json(serde_json::json!({ "error": self.error })),
        )
            .into_response()
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;
