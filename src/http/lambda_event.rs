//! The Lambda event before lambda_http turns it into a request.
//!
//! lambda_http's conversion panics on some inputs instead of failing: a raw
//! query string that is not a valid URI (a space, a quote), a `Host` header
//! that is not a valid authority, a body flagged base64 that is not (see
//! aws-lambda-rust-runtime issues #445, #488, #515). lambda_runtime catches
//! the panic, but the caller gets a 502 and the log an error. The route reads
//! none of these — it uses the raw path, the method and the credentials — so
//! they are removed from the event first.
//!
//! A REST API event carries each header twice: every value the client sent
//! in `multiValueHeaders`, only the last one in `headers`. lambda_http lays
//! the second over the first, so two `Authorization` headers would arrive
//! as one; the rules on ambiguous credentials (CONTRACT §2) need them all,
//! so `multiValueHeaders` decide.
//!
//! lambda_http offers no public step between the event and the request:
//! `lambda_http::run` deserializes and converts in one go. So this module
//! builds on the two `#[doc(hidden)]` items `run` is made of, which
//! lambda_http says are not meant for its users: `request::LambdaRequest`
//! (the event before conversion) and `Adapter` (the conversion as a
//! `Service`, wrapped in main.rs). Hidden items are outside its semver
//! promise, so Cargo.toml holds lambda_http to 1.3.x and an upgrade is a
//! deliberate edit, checked by `tests/suite/hostile/requests.rs`. The
//! upstream issue this works around is aws-lambda-rust-runtime #515 (the
//! conversion panics on an invalid URI; open in the issue index searched
//! on 2026-12-07); once the conversion fails instead of panicking,
//! `lambda_http::run` replaces `Sanitized(Adapter::from(..))`.

use std::task::{Context, Poll};

use lambda_http::http::header::HOST;
use lambda_http::request::LambdaRequest;
use lambda_http::{LambdaEvent, Request, Service};

pub fn sanitize(event: LambdaRequest) -> LambdaRequest {
    match event {
        LambdaRequest::ApiGatewayV2(mut event) => {
            event.raw_query_string = None;
            event.query_string_parameters = Default::default();
            event.headers.remove(HOST);
            event.request_context.domain_name = None;
            event.body = None;
            event.is_base64_encoded = false;
            LambdaRequest::ApiGatewayV2(event)
        }
        LambdaRequest::ApiGatewayV1(mut event) => {
            let single = std::mem::take(&mut event.headers);
            for (name, value) in &single {
                if !event.multi_value_headers.contains_key(name) {
                    event.headers.append(name, value.clone());
                }
            }
            event.query_string_parameters = Default::default();
            event.multi_value_query_string_parameters = Default::default();
            event.headers.remove(HOST);
            event.multi_value_headers.remove(HOST);
            event.request_context.domain_name = None;
            event.body = None;
            event.is_base64_encoded = false;
            LambdaRequest::ApiGatewayV1(event)
        }
        other => other,
    }
}

/// Parses an API Gateway or function URL event the way the runtime does,
/// sanitized; for tests and tools that start from event JSON.
pub fn request_from_json(event: &str) -> Result<Request, serde_json::Error> {
    serde_json::from_str::<LambdaRequest>(event).map(|event| sanitize(event).into())
}

/// Wraps lambda_http's event adapter so every event is sanitized first.
pub struct Sanitized<S>(pub S);

impl<S> Service<LambdaEvent<LambdaRequest>> for Sanitized<S>
where
    S: Service<LambdaEvent<LambdaRequest>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut event: LambdaEvent<LambdaRequest>) -> Self::Future {
        event.payload = sanitize(event.payload);
        self.0.call(event)
    }
}
