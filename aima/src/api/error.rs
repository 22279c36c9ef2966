//! Errors as HTTP responses: the status for each error kind and the CLI's JSON error body.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::{Error, Kind};

/// An [`Error`] on its way out as a response, with the status its kind maps to unless a route
/// needs a more precise one (405, 413).
#[derive(Debug)]
pub struct ApiError {
    pub error: Error,
    pub status: StatusCode,
}

impl ApiError {
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError {
            status: status_of(error.code),
            error,
        }
    }
}

/// Exhaustive on purpose: a new kind must be given its status here.
pub fn status_of(kind: Kind) -> StatusCode {
    match kind {
        Kind::Usage => StatusCode::BAD_REQUEST,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Conflict | Kind::PortInUse => StatusCode::CONFLICT,
        Kind::DockerUnavailable | Kind::Interrupted => StatusCode::SERVICE_UNAVAILABLE,
        Kind::StartFailed => StatusCode::BAD_GATEWAY,
        Kind::Timeout => StatusCode::GATEWAY_TIMEOUT,
        Kind::Storage | Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
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

pub type ApiResult<T> = Result<T, ApiError>;
