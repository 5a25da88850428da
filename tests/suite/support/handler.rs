//! The handler as the tests call it: each call a fresh execution
//! environment, so each one is a cold start, with the default metric
//! settings. Every answer is checked against openapi.yaml as it comes
//! (`openapi.rs`).

use lambda_http::{Body, Request, RequestExt, Response};
use nectr_disconnect::http::{Api, Handler};
use nectr_disconnect::metrics::MetricsSettings;
use nectr_disconnect::ports::DisconnectPorts;

use super::openapi;

pub fn metric_settings() -> MetricsSettings {
    MetricsSettings::from_lookup(|_| None, nectr_disconnect::logging::DEFAULT_SERVICE)
}

/// The cleanup worker's, as its binary sets them: its own `service`.
pub fn worker_metric_settings() -> MetricsSettings {
    MetricsSettings::from_lookup(|_| None, nectr_disconnect::queue::SERVICE)
}

pub async fn handle<P: DisconnectPorts>(use_case: &Api<P>, request: Request) -> Response<Body> {
    let method = request.method().to_string();
    let path = match request.raw_http_path() {
        "" => request.uri().path().to_owned(),
        raw => raw.to_owned(),
    };
    let response = Handler::new(use_case, metric_settings())
        .handle(request)
        .await;
    check_against_openapi(&method, &path, &response);
    response
}

/// Panics on an answer `openapi.yaml` does not describe, naming the request.
fn check_against_openapi(method: &str, path: &str, response: &Response<Body>) {
    let body = match response.body() {
        Body::Text(text) => text.clone(),
        Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        _ => String::new(),
    };
    let status = response.status().as_u16();
    if let Err(problem) = openapi::check(method, status, response.headers(), &body) {
        panic!("{method} {path} -> {status} is not as openapi.yaml describes it: {problem}");
    }
}
