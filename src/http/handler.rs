//! The Lambda handler: event in, response out, always on the `Ok` side
//! (an `Err` would reach API Gateway as a 502).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_http::request::RequestContext;
use lambda_http::{Body, Context, Request, RequestExt, Response};

use super::credentials::bearer_token;
use super::response::{ApiError, disconnected, failure};
use super::router::{Route, route};
use crate::disconnect::{DisconnectRepository, DisconnectRequest};
use crate::ports::{
    CodeGraph, InstallationStore, SigningKeySource, TokenDecryptor, WebhookRemover,
};

/// Time kept back from the invocation deadline for writing the response.
const RESPONSE_MARGIN: Duration = Duration::from_millis(250);
/// Used when the event carries no Lambda deadline (local tools, tests); the
/// GitHub adapter's own timeout still applies.
const DEFAULT_TIME_LEFT: Duration = Duration::from_secs(30);
/// 2020-01-01 in epoch milliseconds. Lambda's deadline is an epoch time;
/// local emulators send 0 or a duration (`cargo lambda watch` sends 600000),
/// which would otherwise read as long past and leave no time for GitHub.
const PLAUSIBLE_DEADLINE_MS: u64 = 1_577_836_800_000;

pub async fn handle<S, D, K, W, G>(
    use_case: &DisconnectRepository<S, D, K, W, G>,
    request: Request,
) -> Response<Body>
where
    S: InstallationStore,
    D: TokenDecryptor,
    K: SigningKeySource,
    W: WebhookRemover,
    G: CodeGraph,
{
    let path = match request.raw_http_path() {
        "" => request.uri().path(),
        raw => raw,
    };
    match route(request.method(), path, stage(&request)) {
        Route::NotFound => failure(&ApiError::RouteNotFound),
        Route::MethodNotAllowed => failure(&ApiError::MethodNotAllowed),
        Route::Disconnect { owner, repo } => {
            let token = bearer_token(request.headers());
            let outcome = use_case
                .disconnect(DisconnectRequest {
                    token: token.as_ref(),
                    owner: &owner,
                    repo: &repo,
                    deadline: Instant::now()
                        + time_left(request.lambda_context_ref()).saturating_sub(RESPONSE_MARGIN),
                })
                .await;
            match outcome {
                Ok(outcome) => disconnected(&outcome),
                Err(e) => failure(&e.into()),
            }
        }
    }
}

fn stage(request: &Request) -> Option<&str> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV1(context) => context.stage.as_deref(),
        RequestContext::ApiGatewayV2(context) => context.stage.as_deref(),
        _ => None,
    }
}

fn time_left(context: Option<&Context>) -> Duration {
    let Some(deadline_ms) = context
        .map(|c| c.deadline)
        .filter(|d| *d > PLAUSIBLE_DEADLINE_MS)
    else {
        return DEFAULT_TIME_LEFT;
    };
    let deadline = UNIX_EPOCH + Duration::from_millis(deadline_ms);
    deadline
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
}
