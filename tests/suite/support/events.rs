//! API Gateway events, built the way API Gateway sends them and parsed by
//! lambda_http like any event: HTTP API (payload 2.0) by default, REST API
//! (payload 1.0) where a test says so.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_http::{Body, Request, RequestExt, Response};
use nectr_disconnect::http::lambda_event::request_from_json;
use serde_json::{Map, Value, json};

pub fn http_api_event(method: &str, path: &str, headers: &[(&str, &str)]) -> Request {
    request(http_api_json(method, path, headers))
}

/// The event as JSON, for tests that add odd fields before parsing it.
/// As an HTTP API delivers them, `Cookie` headers become the `cookies`
/// array, and repeated headers one value joined by commas.
pub fn http_api_json(method: &str, path: &str, headers: &[(&str, &str)]) -> Value {
    let mut joined: Map<String, Value> = Map::new();
    let mut cookies: Vec<Value> = Vec::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        if name == "cookie" {
            cookies.extend(value.split("; ").map(Value::from));
            continue;
        }
        let value = match joined.get(&name).and_then(Value::as_str) {
            Some(earlier) => format!("{earlier},{value}"),
            None => (*value).to_owned(),
        };
        joined.insert(name, value.into());
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": "DELETE /api/v1/repos/{owner}/{repo}/install",
        "rawPath": path,
        "rawQueryString": "",
        "headers": joined,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "tests"
            },
            "requestId": "test-request",
            "routeKey": "DELETE /api/v1/repos/{owner}/{repo}/install",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1767225600000u64
        },
        "isBase64Encoded": false
    });
    if !cookies.is_empty() {
        event["cookies"] = cookies.into();
    }
    event
}

/// A REST API proxy event (payload 1.0, stage `prod`) as API Gateway
/// sends it: every value of each header in `multiValueHeaders`, only the
/// last one in `headers`.
pub fn rest_api_event(method: &str, path: &str, headers: &[(&str, &str)]) -> Request {
    let mut single: Map<String, Value> = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (name, value) in headers {
        single.insert((*name).to_owned(), (*value).into());
        let values = multi
            .entry((*name).to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = values {
            values.push((*value).into());
        }
    }
    request(json!({
        "resource": "/api/v1/repos/{owner}/{repo}/install",
        "path": path,
        "httpMethod": method,
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "httpMethod": method,
            "identity": {"sourceIp": "127.0.0.1"},
            "path": format!("/prod{path}"),
            "requestId": "test-request",
            "resourceId": "x",
            "stage": "prod"
        },
        "body": null,
        "isBase64Encoded": false
    }))
}

/// The event as the binary's runtime turns it into a request.
pub fn request(event: Value) -> Request {
    request_from_json(&event.to_string()).expect("a valid API Gateway event")
}

/// A response with its body parsed as JSON.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: lambda_http::http::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn from(response: Response<Body>) -> Self {
        let (parts, body) = response.into_parts();
        let text = match &body {
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
            _ => b"",
        };
        Self {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: serde_json::from_slice(text).expect("the body is JSON"),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The request as Lambda hands it over: with a request id and an X-Ray
/// trace id in its context.
pub fn invocation(request: Request, request_id: &str) -> Request {
    let mut context = lambda_http::Context::default();
    context.request_id = request_id.to_owned();
    context.xray_trace_id = Some(xray_trace_id(request_id));
    request.with_lambda_context(context)
}

pub fn xray_trace_id(request_id: &str) -> String {
    format!("Root=1-67891233-{request_id};Sampled=1")
}

/// The request as Lambda hands it over with `time_left` until its deadline,
/// under `request_id`.
pub fn within_deadline(request: Request, time_left: Duration, request_id: &str) -> Request {
    let mut context = lambda_http::Context::default();
    context.request_id = request_id.to_owned();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    context.deadline = (now + time_left).as_millis() as u64;
    request.with_lambda_context(context)
}
