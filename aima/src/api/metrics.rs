//! `GET /metrics` in Prometheus' text format, and the middleware counting every request by
//! method, matched route and status.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiState;
use super::error::ApiResult;
use super::feed::read;
use crate::metrics::ServiceGauge;

const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[utoipa::path(get, path = "/metrics", operation_id = "metrics",
    summary = "Prometheus metrics in the text exposition format 0.0.4.",
    responses(
        (status = 200, description = "The metrics", content_type = "text/plain", body = String),
        (status = 500, description = "The store cannot be read", body = super::error::ErrorBodyDoc),
    ))]
pub(crate) async fn metrics(State(state): State<ApiState>) -> ApiResult<Response> {
    let (counts, each) = read(state.stores.clone(), |store| {
        let each = store.list_services()?.iter().map(ServiceGauge::of).collect::<Vec<_>>();
        Ok((store.count_by_status()?, each))
    })
    .await?;
    let body = state.metrics.render(&counts, &each);
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response())
}

/// Labels stay few: the route's pattern rather than its path, and unknown methods as `OTHER`.
pub(crate) async fn count_requests(
    State(state): State<ApiState>,
    req: Request,
    next: Next,
) -> Response {
    let method = match *req.method() {
        Method::GET | Method::POST | Method::DELETE | Method::PUT | Method::PATCH => {
            req.method().as_str().to_owned()
        }
        Method::HEAD | Method::OPTIONS => req.method().as_str().to_owned(),
        _ => "OTHER".to_owned(),
    };
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    state
        .metrics
        .http_request(&method, &route, response.status().as_u16());
    response
}
