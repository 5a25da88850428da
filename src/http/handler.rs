//! The Lambda handler: event in, response out, always on the `Ok` side
//! (an `Err` would reach API Gateway as a 502).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use tracing::Instrument;

use super::api::{Api, endpoint};
use super::credentials::credentials;
use super::response::{ApiError, Reply, answer};
use crate::metrics::{self, MetricsSettings};
use crate::ports::DisconnectPorts;
use crate::timeouts;

/// The function as Lambda sees it: one per execution environment, so its
/// first invocation is the cold start.
pub struct Handler<'a, P: DisconnectPorts> {
    api: &'a Api<P>,
    metrics: MetricsSettings,
    invoked: AtomicBool,
}

impl<'a, P: DisconnectPorts> Handler<'a, P> {
    pub fn new(api: &'a Api<P>, metrics: MetricsSettings) -> Self {
        Self {
            api,
            metrics,
            invoked: AtomicBool::new(false),
        }
    }

    /// Every log line of the invocation carries `cold_start`,
    /// `function_request_id` and `xray_trace_id`; one metric document
    /// follows the response.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let cold_start = !self.invoked.swap(true, Ordering::Relaxed);
        let context = request.lambda_context_ref();
        let request_id = context
            .map(|c| c.request_id.as_str())
            .filter(|id| !id.is_empty());
        let xray_trace_id = context
            .and_then(|c| c.xray_trace_id.as_deref())
            .filter(|id| !id.is_empty());
        let span = tracing::info_span!(
            "invocation",
            cold_start,
            function_request_id = request_id,
            xray_trace_id
        );
        // Boxed: nested inside lambda_runtime's service, the unboxed future
        // type grows past the compiler's default query depth.
        let respond = Box::pin(respond(self.api, &request).instrument(span.clone()));
        let (result, calls) = metrics::measure(respond).await;
        let answer = span.in_scope(|| answer(&result));
        let invocation = answer.invocation(cold_start, &calls, request_id, xray_trace_id);
        metrics::emit(&invocation.document(&self.metrics, SystemTime::now()));
        answer.response
    }
}

/// Routes the request and serves the endpoint it names.
async fn respond<P: DisconnectPorts>(api: &Api<P>, request: &Request) -> Result<Reply, ApiError> {
    let path = match request.raw_http_path() {
        "" => request.uri().path(),
        raw => raw,
    };
    let endpoint = endpoint(request.method(), path, stage(request))?;
    let deadline = timeouts::deadline(request.lambda_context_ref());
    api.serve(endpoint, &credentials(request.headers()), deadline)
        .await
}

fn stage(request: &Request) -> Option<&str> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV1(context) => context.stage.as_deref(),
        RequestContext::ApiGatewayV2(context) => context.stage.as_deref(),
        _ => None,
    }
}
