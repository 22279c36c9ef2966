//! A small JSON-schema check of real answers against the daemon's OpenAPI document: `$ref`,
//! `allOf` / `oneOf` / `anyOf`, `type` (one or a list), `enum`, `required`, `properties`,
//! `additionalProperties`, `items`, `minimum` / `maximum`. Enough to catch a field the document
//! lacks, a type it gets wrong, or a required field an answer leaves out; not a full validator.

use serde_json::Value;

/// The OpenAPI document, to check answers against.
pub struct Document(pub Value);

impl Document {
    /// Why an answer of `method path` (the route's template) with `status`, `content_type` and
    /// `body` does not match the document, if it does not.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: &str,
        body: &[u8],
    ) -> Result<(), String> {
        let at = format!("{method} {path} → {status}");
        let operation = &self.0["paths"][path][method.to_lowercase()];
        if operation.is_null() {
            return Err(format!("{at}: the route is not documented"));
        }
        let response = self.resolve(&operation["responses"][status.to_string()]);
        if response.is_null() {
            return Err(format!("{at}: the status is not documented"));
        }
        let Some(content) = response["content"].as_object() else {
            return Ok(()); // documented without a body (a redirect)
        };
        let media = content_type.split(';').next().unwrap_or("").trim();
        let Some(documented) = content.get(media) else {
            let listed: Vec<&String> = content.keys().collect();
            return Err(format!("{at}: answered {media:?}, documented {listed:?}"));
        };
        if media != "application/json" {
            return Ok(()); // text: the document says string, and any text is one
        }
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| format!("{at}: the body is not JSON ({e})"))?;
        let mut errors = Vec::new();
        self.validate(&documented["schema"], &value, "$", &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("{at}: {}\nbody: {value}", errors.join("; ")))
        }
    }

    /// Whether `schema` or one of its `allOf` parts names the property `name`.
    fn names(&self, schema: &Value, name: &str) -> bool {
        let schema = self.resolve(schema);
        schema["properties"].get(name).is_some()
            || schema["allOf"]
                .as_array()
                .is_some_and(|parts| parts.iter().any(|p| self.names(p, name)))
    }

    /// Follows `$ref` (to a schema or a response) within the document.
    fn resolve<'a>(&'a self, node: &'a Value) -> &'a Value {
        match node["$ref"].as_str() {
            Some(pointer) => self.resolve(
                self.0
                    .pointer(pointer.trim_start_matches('#'))
                    .unwrap_or(&Value::Null),
            ),
            None => node,
        }
    }

    fn validate(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        self.validate_part(schema, value, at, errors, false);
    }

    /// As [`Self::validate`]; a `part` of an `allOf` leaves fields it does not name to the
    /// whole (their union is what the document names).
    fn validate_part(
        &self,
        schema: &Value,
        value: &Value,
        at: &str,
        errors: &mut Vec<String>,
        part: bool,
    ) {
        let schema = self.resolve(schema);
        if schema.is_null() {
            errors.push(format!("{at}: a $ref does not resolve"));
            return;
        }
        let parts = schema["allOf"].as_array().cloned().unwrap_or_default();
        for sub in &parts {
            self.validate_part(sub, value, at, errors, true);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(options) = schema[key].as_array() {
                let fits = options.iter().any(|option| {
                    let mut found = Vec::new();
                    self.validate(option, value, at, &mut found);
                    found.is_empty()
                });
                if !fits {
                    errors.push(format!("{at}: {value} fits none of {key}"));
                }
            }
        }
        if let Some(types) = types(&schema["type"])
            && !types.iter().any(|t| is_type(value, t))
        {
            errors.push(format!("{at}: {value} is not of type {types:?}"));
            return;
        }
        if let Some(listed) = schema["enum"].as_array()
            && !listed.contains(value)
        {
            errors.push(format!("{at}: {value} is not one of {listed:?}"));
        }
        if let Some(n) = value.as_f64() {
            if schema["minimum"].as_f64().is_some_and(|min| n < min) {
                errors.push(format!("{at}: {n} is below the minimum"));
            }
            if schema["maximum"].as_f64().is_some_and(|max| n > max) {
                errors.push(format!("{at}: {n} is above the maximum"));
            }
        }
        if let Some(items) = value.as_array() {
            for (i, item) in items.iter().enumerate() {
                if !schema["items"].is_null() {
                    self.validate(&schema["items"], item, &format!("{at}[{i}]"), errors);
                }
            }
        }
        if let Some(object) = value.as_object() {
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap_or_default();
                if !object.contains_key(name) {
                    errors.push(format!("{at}: required field {name} is missing"));
                }
            }
            let properties = schema["properties"].as_object();
            let in_parts = |name: &str| parts.iter().any(|p| self.names(p, name));
            for (name, field) in object {
                let at = format!("{at}.{name}");
                match properties.and_then(|p| p.get(name)) {
                    Some(documented) => self.validate(documented, field, &at, errors),
                    None if part || in_parts(name) => {}
                    None if schema["additionalProperties"] == Value::Bool(false)
                        || properties.is_some() =>
                    {
                        // An answer's field the document does not name is drift too.
                        errors.push(format!("{at}: the field is not documented"));
                    }
                    None => {}
                }
            }
        }
    }
}

fn types(node: &Value) -> Option<Vec<&str>> {
    match node {
        Value::String(t) => Some(vec![t.as_str()]),
        Value::Array(ts) => Some(ts.iter().filter_map(Value::as_str).collect()),
        _ => None,
    }
}

fn is_type(value: &Value, t: &str) -> bool {
    match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        _ => true,
    }
}
