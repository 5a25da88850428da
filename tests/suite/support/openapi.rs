//! Every answer the suite gets, checked against `openapi.yaml` as it comes:
//! the status is documented for the method, the content type is JSON, the
//! body validates against its schema and every documented header is there
//! with a value its schema allows. A 404 `Not Found` is the answer for
//! paths outside the API (CONTRACT §1), which the description leaves out.

use std::path::Path;
use std::sync::LazyLock;

use lambda_http::http::HeaderMap;
use serde_json::{Map, Value, json};

const INSTALL_PATH: &str = "/api/v1/repos/{owner}/{repo}/install";

struct Description {
    /// The install path's operations by method, every `$ref` resolved.
    operations: Map<String, Value>,
    /// What every method without an operation answers.
    not_allowed: Value,
}

static DESCRIPTION: LazyLock<Description> = LazyLock::new(|| {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.yaml");
    let text = std::fs::read_to_string(&path).expect("openapi.yaml is readable");
    let spec: Value = serde_norway::from_str(&text).expect("openapi.yaml is YAML");
    let resolved = |node: &Value| resolve(&spec, node);
    Description {
        operations: resolved(&spec["paths"][INSTALL_PATH])
            .as_object()
            .expect("openapi.yaml describes the install path")
            .clone(),
        not_allowed: resolved(&spec["components"]["responses"]["MethodNotAllowed"]),
    }
});

/// `node` with every local `$ref` replaced by what it points at.
fn resolve(spec: &Value, node: &Value) -> Value {
    match node {
        Value::Object(object) => match object.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference.trim_start_matches('#');
                let target = spec
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("openapi.yaml: no {reference}"));
                resolve(spec, target)
            }
            None => Value::Object(
                object
                    .iter()
                    .map(|(key, value)| (key.clone(), resolve(spec, value)))
                    .collect(),
            ),
        },
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(spec, v)).collect()),
        other => other.clone(),
    }
}

/// What is wrong with this answer by `openapi.yaml`, if anything.
pub fn check(method: &str, status: u16, headers: &HeaderMap, body: &str) -> Result<(), String> {
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).map_err(|e| format!("body is not JSON ({e}): {body}"))?
    };
    if status == 404 && body == json!({"detail": "Not Found"}) {
        return Ok(());
    }
    let description = &*DESCRIPTION;
    let documented = match description.operations.get(&method.to_ascii_lowercase()) {
        Some(operation) => &operation["responses"][status.to_string()],
        None if status == 405 => &description.not_allowed,
        None => &Value::Null,
    };
    if documented.is_null() {
        return Err("status not documented".into());
    }
    let content_type = header(headers, "content-type").unwrap_or_default();
    if !content_type.starts_with("application/json") {
        return Err(format!("content-type {content_type:?}"));
    }
    let schema = &documented["content"]["application/json"]["schema"];
    jsonschema::validate(schema, &body).map_err(|e| format!("body {body}: {e}"))?;
    for (name, header_description) in documented["headers"].as_object().into_iter().flatten() {
        let Some(value) = header(headers, name) else {
            if header_description["required"] == true {
                return Err(format!("no {name} header"));
            }
            continue;
        };
        let schema = &header_description["schema"];
        let value = match value.parse::<u64>() {
            Ok(number) if schema["type"] == "integer" => json!(number),
            _ => json!(value),
        };
        jsonschema::validate(schema, &value).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}
