//! The route table, and the 404 and 405 answers.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::{Method, Request, StatusCode, Uri};
use axum::routing::{MethodFilter, MethodRouter};
use axum::{Router, middleware};

use super::error::ApiError;
use super::{
    ApiState, apply, auth, browsers, chat, event_log, events, health, host_routes, metrics, models, openapi, page,
    quota, service_io, service_update, services, tokens,
};
use crate::error::{Error, Kind};

/// Request bodies are small JSON objects; anything larger is refused with 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Every route: method, path and handler. The one table builds the router and lists the
/// routes, so the OpenAPI document can be checked against it.
struct Table {
    routes: BTreeMap<&'static str, MethodRouter<ApiState>>,
    listed: Vec<(Method, &'static str)>,
}

impl Table {
    fn new() -> Self {
        Table {
            routes: BTreeMap::new(),
            listed: Vec::new(),
        }
    }

    fn add<H, T>(mut self, method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, ApiState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("a method routes can take");
        let route = self.routes.remove(path).unwrap_or_default();
        self.routes.insert(path, route.on(filter, handler));
        self.listed.push((method, path));
        self
    }

    fn into_router(self) -> Router<ApiState> {
        self.routes
            .into_iter()
            .fold(Router::new(), |router, (path, route)| {
                router.route(path, route)
            })
    }
}

/// Open to callers without the token: health only.
fn open() -> Table {
    Table::new().add(Method::GET, "/api/v2/health", health::health)
}

/// Everything else needs the token, when the daemon has one.
fn protected() -> Table {
    Table::new()
        .add(Method::GET, "/api/v2/models", models::list)
        .add(Method::POST, "/api/v2/models", models::create)
        .add(Method::GET, "/api/v2/models/{id}", models::get)
        .add(Method::DELETE, "/api/v2/models/{id}", models::delete)
        .add(Method::GET, "/api/v2/services", services::list)
        .add(Method::POST, "/api/v2/services", services::create)
        .add(Method::GET, "/api/v2/services/{id}", services::get)
        .add(Method::DELETE, "/api/v2/services/{id}", services::delete)
        .add(Method::PATCH, "/api/v2/services/{id}", service_update::update)
        .add(Method::POST, "/api/v2/services/prune", services::prune)
        .add(Method::POST, "/api/v2/services/{id}/start", services::start)
        .add(Method::POST, "/api/v2/services/{id}/stop", services::stop)
        .add(Method::POST, "/api/v2/services/{id}/restart", service_io::restart)
        .add(Method::GET, "/api/v2/services/{id}/logs", service_io::logs)
        .add(Method::POST, "/api/v2/services/{id}/chat", chat::chat)
        .add(Method::GET, "/api/v2/info", host_routes::info)
        .add(Method::GET, "/api/v2/caches", host_routes::caches)
        .add(Method::DELETE, "/api/v2/caches/{engine}", host_routes::remove_cache)
        .add(Method::POST, "/api/v2/apply", apply::apply)
        .add(Method::GET, "/api/v2/export", apply::export)
        .add(Method::GET, "/api/v2/tokens", tokens::list)
        .add(Method::POST, "/api/v2/tokens", tokens::create)
        .add(Method::DELETE, "/api/v2/tokens/{name}", tokens::revoke)
        .add(Method::GET, "/api/v2/quota", quota::get)
        .add(Method::GET, "/api/v2/events", events::events)
        .add(Method::GET, "/api/v2/events/log", event_log::log)
        .add(Method::GET, "/api/v2/openapi.json", openapi::document)
        .add(Method::GET, "/metrics", metrics::metrics)
}

/// The status page's sign-in and its files: open, as health is.
fn page_open() -> Table {
    Table::new()
        .add(Method::POST, "/login", page::login)
        .add(Method::POST, "/logout", page::logout)
        .add(Method::GET, "/page/app.js", page::script)
        .add(Method::GET, "/page/app.css", page::style)
}

/// The status page itself: the token, or the session the page's login form sets. Its live
/// updates are the API's event stream under the page's sign-in (a browser's `EventSource`
/// cannot send the bearer header).
fn page_signed_in() -> Table {
    Table::new()
        .add(Method::GET, "/", page::overview)
        .add(Method::GET, "/services/{id}", page::service)
        .add(Method::GET, "/page/events", events::events)
}

/// Every route as `(METHOD, path)`, in the table's order.
#[cfg(any(test, feature = "test-support"))]
pub fn routes() -> Vec<(String, String)> {
    let tables = [open(), protected(), page_open(), page_signed_in()];
    tables
        .iter()
        .flat_map(|table| &table.listed)
        .map(|(method, path)| (method.to_string(), (*path).to_owned()))
        .collect()
}

pub fn router(state: ApiState) -> Router {
    let protected = protected()
        .into_router()
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::identify,
        ));
    let page = page_signed_in()
        .into_router()
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            page::require_session,
        ));
    open()
        .into_router()
        .merge(protected)
        .merge(page_open().into_router())
        .merge(page)
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::count_requests,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            browsers::refuse_web_pages,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(access_log())
        .with_state(state)
}

type ServerErrors =
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>;
type MakeSpan = fn(&Request<Body>) -> tracing::Span;

/// One line per request at `info`, with its status and latency. The span's `uri` is the path
/// alone: a query string may carry a secret a client put there, and the log must not keep it.
fn access_log() -> tower_http::trace::TraceLayer<ServerErrors, MakeSpan> {
    use tower_http::trace::{DefaultOnResponse, TraceLayer};
    use tracing::Level;
    TraceLayer::new_for_http()
        .make_span_with(request_span as MakeSpan)
        .on_response(
            DefaultOnResponse::new()
                .level(Level::INFO)
                .latency_unit(tower_http::LatencyUnit::Millis),
        )
}

fn request_span(req: &Request<Body>) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %req.method(),
        uri = %req.uri().path(),
        version = ?req.version(),
        // Who asked (a user name, never a token), once the auth layer knows.
        actor = tracing::field::Empty,
    )
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    Error::new(Kind::NotFound, format!("no route {method} {}", uri.path()))
        .with_help("the API lives under /api/v2 (see /api/v2/openapi.json); metrics at /metrics")
        .into()
}

/// axum adds the `Allow` header to this answer.
async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    let error = Error::usage(format!("{method} is not allowed on {}", uri.path()))
        .with_help("the Allow header lists the methods this route takes");
    ApiError::from(error).with_status(StatusCode::METHOD_NOT_ALLOWED)
}
