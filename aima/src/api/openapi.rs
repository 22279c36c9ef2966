//! `GET /api/v2/openapi.json`: the API described in OpenAPI 3.1, generated from the handlers'
//! `#[utoipa::path]` attributes and the request and response types' `ToSchema` derives, so it
//! cannot drift from the code. Tests check that it lists exactly the routes the router serves
//! and that real answers of every route validate against it.

use axum::Json;
use serde_json::Value;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Response, ResponseBuilder, content::ContentBuilder};

use super::{
    apply, chat, event_log, events, health, host_routes, metrics, models, page, quota, service_io, service_update, services, tokens,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "aima daemon API",
        description = "The aima CLI's operations over HTTP, JSON in and out. Every route but health and the page's sign-in requires `Authorization: Bearer <token>` over TCP when the daemon has a token (the default; it is generated into the data dir): the daemon's own token acts as the admin `admin`, a named token (`aima token create NAME`) as the user NAME. Requests through the unix socket need none: they act as the connecting user (SO_PEERCRED). A service or model belongs to the user who created it; changing another user's is refused with 403 `forbidden`. Errors share one shape: {\"error\": {code, message, causes, attempts, help}}."
    ),
    // Relative: the document is served by the daemon it describes, on whatever address it
    // listens on.
    servers((url = "/", description = "The daemon serving this document")),
    security(("bearer" = [])),
    paths(
        health::health,
        models::list, models::create, models::get, models::delete,
        services::list, services::create, services::get, services::delete,
        services::prune, services::start, services::stop, service_update::update, apply::apply, apply::export,
        service_io::restart, service_io::logs, chat::chat,
        host_routes::info, host_routes::caches, host_routes::remove_cache,
        tokens::list, tokens::create, tokens::revoke,
        quota::get,
        events::events, event_log::log, document, metrics::metrics,
        page::views::overview, page::views::service, page::session::login,
        page::session::logout, page::assets::script, page::assets::style, events::page_events,
    ),
    modifiers(&Common),
)]
struct ApiDoc;

/// What every operation shares: the security schemes, and the 401 and 403 answers of the
/// token check and the web-page guard.
struct Common;

impl utoipa::Modify for Common {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                super::page::session::COOKIE,
                "The status page's session, set by POST /login; opens the page's routes only.",
            ))),
        );
        components.responses.insert(
            "Unauthorized".into(),
            error_response("Token missing or wrong"),
        );
        components.responses.insert(
            "Forbidden".into(),
            error_response("Request from a web page (Origin header) or a foreign Host"),
        );
        for item in doc.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.delete,
                &mut item.put,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                // `security(())` marks the operations open to callers without the token.
                let open = op
                    .security
                    .as_ref()
                    .is_some_and(|s| s.iter().all(is_empty_requirement));
                let responses = &mut op.responses.responses;
                if !open {
                    responses
                        .entry("401".into())
                        .or_insert_with(|| RefOr::Ref(reference("Unauthorized")));
                }
                responses
                    .entry("403".into())
                    .or_insert_with(|| RefOr::Ref(reference("Forbidden")));
            }
        }
    }
}

fn is_empty_requirement(req: &utoipa::openapi::security::SecurityRequirement) -> bool {
    serde_json::to_value(req).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
}

fn reference(name: &str) -> utoipa::openapi::Ref {
    utoipa::openapi::Ref::from_response_name(name)
}

fn error_response(description: &str) -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
        .build();
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content("application/json", content)
            .build(),
    )
}

/// The document, with this build's version.
pub fn openapi() -> Value {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    serde_json::to_value(doc).unwrap_or_default()
}

#[utoipa::path(get, path = "/api/v2/openapi.json", operation_id = "openapi",
    summary = "This document.",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub(crate) async fn document() -> Json<Value> {
    Json(openapi())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_is_openapi_3_1_without_a_fixed_address() {
        let doc = super::openapi();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["servers"][0]["url"], "/");
        assert!(!doc.to_string().contains("9090"), "{doc}");
    }

    #[test]
    fn the_error_codes_are_exactly_the_kinds_and_the_http_only_ones() {
        let doc = super::openapi();
        let listed: std::collections::BTreeSet<&str> =
            doc["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
                .as_array()
                .unwrap()
                .iter()
                .map(|code| code.as_str().unwrap())
                .collect();
        let mut expected: std::collections::BTreeSet<&str> = crate::error::Kind::ALL
            .iter()
            .map(|kind| kind.code())
            .collect();
        // Answered by the API's auth layer only, never by an operation.
        expected.extend(["unauthorized", "forbidden"]);
        assert_eq!(listed, expected);
    }

    #[test]
    fn services_carry_their_endpoint_and_starts_take_pull_and_node() {
        let doc = super::openapi();
        let schemas = &doc["components"]["schemas"];
        let required = schemas["Service"]["required"].as_array().unwrap();
        assert!(
            required.contains(&"endpoint".into()),
            "{}",
            schemas["Service"]
        );
        let start = &schemas["StartRequest"]["properties"];
        assert!(
            start.get("pull").is_some() && start.get("node").is_some(),
            "{start}"
        );
    }

    #[test]
    fn events_say_their_kind_and_the_supervisors_fields() {
        let doc = super::openapi();
        let schemas = &doc["components"]["schemas"];
        let kinds: Vec<&str> = schemas["EventKind"]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", schemas["EventKind"]))
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["status", "backoff", "restarting", "gave_up"]);
        let event = &schemas["ServiceEvent"];
        assert!(
            event["required"].as_array().unwrap().contains(&"kind".into()),
            "{event}"
        );
        for field in ["restart", "next_restart_at", "reason"] {
            assert!(event["properties"].get(field).is_some(), "{field}: {event}");
        }
    }
}
