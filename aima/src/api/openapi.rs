//! `GET /api/v2/openapi.json`: the API described in OpenAPI 3.1. The document is written by
//! hand (`openapi.json` beside this file); a test checks that it lists exactly the routes the
//! router serves.

use axum::Json;
use serde_json::Value;

/// The document as shipped; `info.version` is set to this build's version when served.
pub const OPENAPI: &str = include_str!("openapi.json");

pub(crate) async fn document() -> Json<Value> {
    let mut doc: Value = serde_json::from_str(OPENAPI).unwrap_or_default();
    doc["info"]["version"] = Value::String(env!("CARGO_PKG_VERSION").to_owned());
    Json(doc)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_is_json() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
    }

    #[test]
    fn the_error_codes_are_exactly_the_kinds_and_the_http_only_ones() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).unwrap();
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
}
