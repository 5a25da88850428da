//! The Lambda handler: event in, response out, always on the `Ok` side
//! (an `Err` would reach API Gateway as a 502).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use tracing::Instrument;

use super::api::Api;
use super::credentials::credentials;
use super::response::{ApiError, answer};
use super::router::{Endpoint, Route, route};
use crate::disconnect::DisconnectRequest;
use crate::domain::Disconnected;
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
        if let Ok(outcome) = &result {
            span.in_scope(|| log_disconnected(answer.response.status().as_u16(), outcome));
        }
        let invocation = answer.invocation(cold_start, &calls, request_id, xray_trace_id);
        metrics::emit(&invocation.document(&self.metrics, SystemTime::now()));
        answer.response
    }
}

/// Routes the request, authenticates its caller once for the route that
/// needs one, and runs the route's use case.
async fn respond<P: DisconnectPorts>(
    api: &Api<P>,
    request: &Request,
) -> Result<Disconnected, ApiError> {
    let path = match request.raw_http_path() {
        "" => request.uri().path(),
        raw => raw,
    };
    let endpoint = match route(request.method(), path, stage(request)) {
        Route::To(endpoint) => endpoint,
        Route::NotFound => return Err(ApiError::RouteNotFound),
        Route::MethodNotAllowed(resource) => return Err(ApiError::MethodNotAllowed(resource)),
    };
    let deadline = timeouts::deadline(request.lambda_context_ref());
    let credentials = credentials(request.headers());
    let caller = api.authenticator.caller(&credentials, deadline);
    match endpoint {
        Endpoint::Disconnect { owner, repo } => {
            let request = DisconnectRequest {
                owner: &owner,
                repo: &repo,
                deadline,
            };
            Ok(api
                .disconnect_repository
                .disconnect(caller, request)
                .await?)
        }
    }
}

/// The line operators search for a disconnect by (docs/OPERATIONS.md).
fn log_disconnected(status: u16, outcome: &Disconnected) {
    tracing::info!(
        status,
        repo = %outcome.repo_full_name,
        user_id = %outcome.user_id,
        installation_id = %outcome.installation_ids.join(","),
        webhook = outcome.webhook.as_str(),
        "repository disconnected"
    );
}

fn stage(request: &Request) -> Option<&str> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV1(context) => context.stage.as_deref(),
        RequestContext::ApiGatewayV2(context) => context.stage.as_deref(),
        _ => None,
    }
}
