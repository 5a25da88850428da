//! The one place where outcomes become HTTP responses (CONTRACT §1).

use std::time::Duration;

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use super::api::DISCONNECTS;
use super::router::Resource;
use crate::disconnect::DisconnectError;
use crate::domain::{Disconnected, GraphCounts, WebhookOutcome};
use crate::logging::chain;
use crate::metrics::{Call, Invocation, UNROUTED};
use crate::ports::{DependencyError, Misconfiguration};

/// Seconds a client should wait before retrying after a 503.
const RETRY_AFTER_SECONDS: &str = "2";

/// What an endpoint's use case answers when it succeeds.
#[derive(Debug)]
pub enum Reply {
    Disconnected(Disconnected),
}

/// Every way a request can fail, from routing to the use case.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no such route")]
    RouteNotFound,
    #[error("method not allowed on {}", .0.path)]
    MethodNotAllowed(&'static Resource),
    #[error(transparent)]
    Disconnect(#[from] DisconnectError),
}

#[derive(Serialize)]
struct DisconnectedBody<'a> {
    status: &'static str,
    repo: &'a str,
    webhook: WebhookOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook_settings_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    graph: Option<GraphCounts>,
}

#[derive(Serialize)]
struct ErrorBody {
    detail: &'static str,
}

/// A request's answer, rendered once, with what its metric document
/// reports beside the status.
pub struct Answer {
    pub response: Response<Body>,
    /// The metric that counts it, by the route that answered.
    pub counted: &'static str,
    pub webhook: Option<WebhookOutcome>,
    /// Why a dependency failed, as the metrics report it.
    pub cause: Option<&'static str>,
}

impl Answer {
    /// What the invocation's metric document says of this answer, the
    /// invocation's own facts beside it.
    pub fn invocation<'a>(
        &self,
        cold_start: bool,
        calls: &'a [(Call, Duration)],
        request_id: Option<&'a str>,
        xray_trace_id: Option<&'a str>,
    ) -> Invocation<'a> {
        Invocation {
            counted: self.counted,
            status: self.response.status().as_u16(),
            webhook: self.webhook,
            cause: self.cause,
            cold_start,
            calls,
            request_id,
            xray_trace_id,
        }
    }
}

/// The one way a request's result becomes its answer, and is logged: a
/// failure at the level its row of the table gives it.
pub fn answer(result: &Result<Reply, ApiError>) -> Answer {
    match result {
        Ok(Reply::Disconnected(outcome)) => {
            let response = disconnected(outcome);
            log_disconnected(response.status().as_u16(), outcome);
            Answer {
                response,
                counted: DISCONNECTS,
                webhook: Some(outcome.webhook),
                cause: None,
            }
        }
        Err(error) => {
            let failure = failure_of(error);
            log(error, &failure);
            Answer {
                response: failure.response(),
                counted: counted(error),
                webhook: None,
                cause: failure.cause,
            }
        }
    }
}

fn counted(error: &ApiError) -> &'static str {
    match error {
        ApiError::RouteNotFound | ApiError::MethodNotAllowed(_) => UNROUTED,
        ApiError::Disconnect(_) => DISCONNECTS,
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

fn disconnected(outcome: &Disconnected) -> Response<Body> {
    json(
        StatusCode::OK,
        &DisconnectedBody {
            status: "disconnected",
            repo: &outcome.repo_full_name,
            webhook: outcome.webhook,
            webhook_settings_url: outcome.webhook_settings_url.as_deref(),
            graph: outcome.graph,
        },
    )
}

/// How one kind of failure is answered and logged.
struct Failure<'a> {
    status: StatusCode,
    detail: &'static str,
    /// The header the contract adds to this status.
    header: Option<(header::HeaderName, HeaderValue)>,
    log: Log<'a>,
    /// Why a dependency failed, as the metrics report it: one alarm on
    /// `misconfiguration` catches every deployment mistake.
    cause: Option<&'static str>,
}

/// The log line of a failure: the caller sees only the generic body; the
/// operator's log gets the reason or the cause chain, which holds error
/// messages and never a token, key or ciphertext.
enum Log<'a> {
    /// The caller's mistake, routine: INFO with the reason.
    Refused,
    /// The user must sign in again: WARN with the reason.
    SessionExpired,
    /// A dependency failed for now: WARN with the cause.
    Unavailable(&'a DependencyError),
    /// The deployment is wrong: ERROR naming the service, code and
    /// resource, so an alarm fires.
    Misconfigured(Misconfiguration<'a>, &'a DependencyError),
    /// Anything unexpected: ERROR with the cause.
    Failed(&'a DependencyError),
}

fn unauthorized() -> Option<(header::HeaderName, HeaderValue)> {
    Some((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")))
}

/// The one table from error to answer (CONTRACT §1). Every match is
/// exhaustive, so a new kind of error does not compile until it has a row.
fn failure_of(error: &ApiError) -> Failure<'_> {
    let refused = |status, detail, header| Failure {
        status,
        detail,
        header,
        log: Log::Refused,
        cause: None,
    };
    match error {
        ApiError::RouteNotFound => refused(StatusCode::NOT_FOUND, "Not Found", None),
        ApiError::MethodNotAllowed(resource) => refused(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed",
            HeaderValue::try_from(resource.allow())
                .ok()
                .map(|allow| (header::ALLOW, allow)),
        ),
        ApiError::Disconnect(DisconnectError::Unauthorized(_)) => {
            refused(StatusCode::UNAUTHORIZED, "Unauthorized", unauthorized())
        }
        ApiError::Disconnect(DisconnectError::InstallationNotFound) => {
            refused(StatusCode::NOT_FOUND, "Installation not found", None)
        }
        ApiError::Disconnect(DisconnectError::SessionExpired(_)) => Failure {
            status: StatusCode::UNAUTHORIZED,
            detail: "Session expired \u{2014} please log out and sign in again.",
            header: unauthorized(),
            log: Log::SessionExpired,
            cause: None,
        },
        ApiError::Disconnect(DisconnectError::Dependency(e)) => match e {
            DependencyError::Unavailable { .. } => Failure {
                status: StatusCode::SERVICE_UNAVAILABLE,
                detail: "Service temporarily unavailable",
                header: Some((
                    header::RETRY_AFTER,
                    HeaderValue::from_static(RETRY_AFTER_SECONDS),
                )),
                log: Log::Unavailable(e),
                cause: Some(e.metric_cause()),
            },
            DependencyError::Misconfigured {
                dependency,
                code,
                resource,
                ..
            } => Failure {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                detail: "Internal Server Error",
                header: None,
                log: Log::Misconfigured(
                    Misconfiguration {
                        dependency: *dependency,
                        code,
                        resource,
                    },
                    e,
                ),
                cause: Some(e.metric_cause()),
            },
            DependencyError::Failed { .. } => Failure {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                detail: "Internal Server Error",
                header: None,
                log: Log::Failed(e),
                cause: Some(e.metric_cause()),
            },
        },
    }
}

impl Failure<'_> {
    fn response(&self) -> Response<Body> {
        let mut response = json(
            self.status,
            &ErrorBody {
                detail: self.detail,
            },
        );
        if let Some((name, value)) = &self.header {
            response.headers_mut().insert(name, value.clone());
        }
        response
    }
}

fn json(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    let body = serde_json::to_string(body).unwrap_or_default();
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn log(error: &ApiError, failure: &Failure<'_>) {
    let status = failure.status.as_u16();
    match failure.log {
        Log::Refused => tracing::info!(status, reason = %error, "request refused"),
        Log::SessionExpired => tracing::warn!(status, reason = %error, "session expired"),
        Log::Unavailable(e) => tracing::warn!(status, cause = %chain(e), "dependency unavailable"),
        Log::Failed(e) => tracing::error!(status, cause = %chain(e), "dependency failed"),
        Log::Misconfigured(misconfiguration, error) => misconfiguration.log(
            Some(status),
            Some(&chain(error).to_string()),
            "the deployment is misconfigured",
        ),
    }
}
