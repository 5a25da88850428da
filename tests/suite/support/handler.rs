//! The handler as the tests call it: each call a fresh execution
//! environment, so each one is a cold start, with the default metric
//! settings. Every answer is also recorded in
//! `target/test-logs/responses-<pid>.ndjson`, which
//! scripts/check/check_responses.py checks against openapi.yaml after the suite.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use lambda_http::{Body, Request, RequestExt, Response};
use nectr_disconnect::disconnect::DisconnectRepository;
use nectr_disconnect::http::Handler;
use nectr_disconnect::metrics::MetricsSettings;
use nectr_disconnect::ports::Ports;
use serde_json::{Map, Value, json};

pub fn metric_settings() -> MetricsSettings {
    MetricsSettings::from_lookup(|_| None, nectr_disconnect::logging::DEFAULT_SERVICE)
}

pub async fn handle<P: Ports>(
    use_case: &DisconnectRepository<P>,
    request: Request,
) -> Response<Body> {
    let method = request.method().to_string();
    let path = match request.raw_http_path() {
        "" => request.uri().path().to_owned(),
        raw => raw.to_owned(),
    };
    let response = Handler::new(use_case, metric_settings())
        .handle(request)
        .await;
    record(&method, &path, &response);
    response
}

fn record(method: &str, path: &str, response: &Response<Body>) {
    static RESPONSES: OnceLock<Mutex<File>> = OnceLock::new();
    let file = RESPONSES.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-logs");
        std::fs::create_dir_all(&dir).unwrap();
        let name = format!("responses-{}.ndjson", std::process::id());
        Mutex::new(File::create(dir.join(name)).unwrap())
    });
    let headers: Map<String, Value> = response
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), Value::String(value))
        })
        .collect();
    let body = match response.body() {
        Body::Text(text) => text.clone(),
        Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        _ => String::new(),
    };
    let line = json!({
        "method": method,
        "path": path,
        "status": response.status().as_u16(),
        "headers": headers,
        "body": body,
    });
    writeln!(file.lock().unwrap(), "{line}").unwrap();
}
