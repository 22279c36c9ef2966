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

/// Codes the API's own layers answer with, never an operation: a missing or wrong token
/// (`auth`), a request from a web page or a foreign host (`browsers`).
pub(crate) const HTTP_ONLY_CODES: [&str; 2] = ["unauthorized", "forbidden"];

/// The body of every error answer, as the OpenAPI document describes it (the answer itself is
/// written from [`Error`]'s `Serialize`; the router test validates one against the other).
#[derive(utoipa::ToSchema)]
#[schema(as = ErrorBody)]
#[expect(
    dead_code,
    reason = "describes the JSON shape for the OpenAPI document only"
)]
pub(crate) struct ErrorBodyDoc {
    error: ErrorDoc,
}

/// The error object: what failed, why, the start attempts behind it and what to do.
#[derive(utoipa::ToSchema)]
#[schema(as = Error)]
#[expect(
    dead_code,
    reason = "describes the JSON shape for the OpenAPI document only"
)]
pub(crate) struct ErrorDoc {
    /// Stable code: each error kind's, plus the HTTP-only `unauthorized` and `forbidden`.
    #[schema(schema_with = error_codes)]
    code: String,
    message: String,
    /// The `caused by:` lines, outermost first; absent when there are none.
    #[schema(required = false)]
    causes: Vec<String>,
    /// The start attempts behind a failed start; absent when there are none.
    #[schema(required = false)]
    attempts: Vec<crate::domain::Attempt>,
    /// What to do about it; absent when aima has no hint.
    #[schema(required = false, nullable = false)]
    help: Option<String>,
}

/// Every [`Kind`]'s code and the HTTP-only ones: the list cannot drift from the kinds.
fn error_codes() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let codes = Kind::ALL
        .iter()
        .map(|kind| kind.code())
        .chain(HTTP_ONLY_CODES);
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes))
        .build()
}
