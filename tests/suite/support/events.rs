//! API Gateway HTTP API (payload 2.0) events, built the way API Gateway
//! sends them and parsed by lambda_http like any event.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_http::{Body, Request, RequestExt, Response};
use nectr_disconnect::http::lambda_event::request_from_json;
use serde_json::{Map, Value, json};

pub fn http_api_event(method: &str, path: &str, headers: &[(&str, &str)]) -> Request {
    request(http_api_json(method, path, headers))
}

/// The event as JSON, for tests that add odd fields before parsing it.
pub fn http_api_json(method: &str, path: &str, headers: &[(&str, &str)]) -> Value {
    let headers: Map<String, Value> = headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), Value::from(*value)))
        .collect();
    json!({
        "version": "2.0",
        "routeKey": "DELETE /api/v1/repos/{owner}/{repo}/install",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
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
    })
}

/// The event as the binary's runtime turns it into a request.
pub fn request(event: Value) -> Request {
    request_from_json(&event.to_string()).expect("a valid HTTP API event")
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
