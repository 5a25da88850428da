//! The one place where outcomes become HTTP responses (CONTRACT §1).

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use super::router::ALLOWED_METHOD;
use crate::disconnect::DisconnectError;
use crate::domain::{Disconnected, KeptGraph, WebhookOutcome};
use crate::logging::chain;
use crate::ports::DependencyError;

/// Seconds a client should wait before retrying after a 503.
const RETRY_AFTER_SECONDS: &str = "2";

/// Every way a request can fail, from routing to the use case.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no such route")]
    RouteNotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
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
    graph: Option<KeptGraph>,
}

#[derive(Serialize)]
struct ErrorBody {
    detail: &'static str,
}

pub fn disconnected(outcome: &Disconnected) -> Response<Body> {
    tracing::info!(
        status = StatusCode::OK.as_u16(),
        repo = %outcome.repo_full_name,
        user_id = %outcome.user_id,
        installation_id = %outcome.installation_ids.join(","),
        webhook = outcome.webhook.as_str(),
        "repository disconnected"
    );
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

pub fn failure(error: &ApiError) -> Response<Body> {
    let (status, detail) = match error {
        ApiError::RouteNotFound => (StatusCode::NOT_FOUND, "Not Found"),
        ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
        ApiError::Disconnect(e) => match e {
            DisconnectError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "Unauthorized"),
            DisconnectError::SessionExpired(_) => (
                StatusCode::UNAUTHORIZED,
                "Session expired \u{2014} please log out and sign in again.",
            ),
            DisconnectError::InstallationNotFound => {
                (StatusCode::NOT_FOUND, "Installation not found")
            }
            DisconnectError::Dependency(DependencyError::Unavailable { .. }) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Service temporarily unavailable",
            ),
            DisconnectError::Dependency(
                DependencyError::Misconfigured { .. } | DependencyError::Failed { .. },
            ) => (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
        },
    };
    log(error, status);
    let mut response = json(status, &ErrorBody { detail });
    let headers = response.headers_mut();
    match status {
        StatusCode::UNAUTHORIZED => {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            headers.insert(header::ALLOW, HeaderValue::from_static(ALLOWED_METHOD));
        }
        StatusCode::SERVICE_UNAVAILABLE => {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        _ => {}
    }
    response
}

/// Why a dependency failed, as the metrics report it: one alarm on
/// `misconfiguration` catches every deployment mistake.
pub fn cause(error: &ApiError) -> Option<&'static str> {
    match error {
        ApiError::Disconnect(DisconnectError::Dependency(e)) => Some(match e {
            DependencyError::Unavailable { .. } => "unavailable",
            DependencyError::Misconfigured { .. } => "misconfiguration",
            DependencyError::Failed { .. } => "unexpected",
        }),
        _ => None,
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

/// The caller sees only the generic body; the operator's log gets the cause
/// chain, which holds error messages and never a token, key or ciphertext.
fn log(error: &ApiError, status: StatusCode) {
    let status = status.as_u16();
    match error {
        ApiError::Disconnect(DisconnectError::Dependency(
            e @ DependencyError::Unavailable { .. },
        )) => {
            tracing::warn!(status, cause = %chain(e), "dependency unavailable");
        }
        ApiError::Disconnect(DisconnectError::Dependency(
            e @ DependencyError::Misconfigured {
                dependency,
                code,
                resource,
                ..
            },
        )) => {
            tracing::error!(
                status,
                aws_service = %dependency,
                aws_error_code = %code,
                resource = %resource,
                cause = %chain(e),
                "the deployment is misconfigured"
            );
        }
        ApiError::Disconnect(DisconnectError::Dependency(e @ DependencyError::Failed { .. })) => {
            tracing::error!(status, cause = %chain(e), "dependency failed");
        }
        ApiError::Disconnect(e @ DisconnectError::SessionExpired(_)) => {
            tracing::warn!(status, reason = %e, "session expired");
        }
        other => tracing::info!(status, reason = %other, "request refused"),
    }
}
