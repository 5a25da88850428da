//! The API: every route with the methods it answers, the endpoint each
//! method names, and the use case each endpoint runs, over adapters built
//! once per cold start. A new endpoint is a method in `RESOURCES`, a
//! variant of `Endpoint`, its arms here and its answer in `response`.

use std::borrow::Cow;
use std::time::Instant;

use lambda_http::http::Method;

use super::response::{ApiError, Reply};
use super::router::{Resource, resource_of};
use crate::auth::Authenticator;
use crate::disconnect::{DisconnectRepository, DisconnectRequest};
use crate::domain::Credentials;
use crate::ports::{Adapters, DependencyError, DisconnectPorts};

pub const REPOSITORY_INSTALL: Resource = Resource {
    path: "/api/v1/repos/{owner}/{repo}/install",
    methods: &["DELETE"],
};

/// Every path the API answers.
pub const RESOURCES: [&Resource; 1] = [&REPOSITORY_INSTALL];

/// The count of the disconnect's requests, whatever they answer: each
/// endpoint is counted by a metric of its own.
pub const DISCONNECTS: &str = "Disconnects";

/// What a request asks of the API, with its path's parameters,
/// percent-decoded but not yet validated.
#[derive(Debug, PartialEq, Eq)]
pub enum Endpoint<'a> {
    Disconnect {
        owner: Cow<'a, str>,
        repo: Cow<'a, str>,
    },
}

/// The endpoint `method` names on `raw_path`, or why none answers it.
pub fn endpoint<'a>(
    method: &Method,
    raw_path: &'a str,
    stage: Option<&str>,
) -> Result<Endpoint<'a>, ApiError> {
    let (resource, parameters) =
        resource_of(&RESOURCES, raw_path, stage).ok_or(ApiError::RouteNotFound)?;
    match (method.as_str(), <[_; 2]>::try_from(parameters)) {
        ("DELETE", Ok([owner, repo])) if resource == &REPOSITORY_INSTALL => {
            Ok(Endpoint::Disconnect { owner, repo })
        }
        _ => Err(ApiError::MethodNotAllowed(resource)),
    }
}

/// What the HTTP edge serves: the authenticator every endpoint that needs
/// a caller shares, and each endpoint's use case.
pub struct Api<P: DisconnectPorts> {
    pub authenticator: Authenticator<P::SigningKeys>,
    pub disconnect_repository: DisconnectRepository<P>,
}

impl<P: DisconnectPorts> Api<P> {
    pub fn new(authenticator: Authenticator<P::SigningKeys>, adapters: Adapters<P>) -> Self {
        Self {
            authenticator,
            disconnect_repository: DisconnectRepository { adapters },
        }
    }

    /// See `Authenticator::prefetch`.
    pub async fn prefetch_signing_keys(&self) -> Result<(), DependencyError> {
        self.authenticator.prefetch().await
    }

    /// Starts authenticating the caller, once, and runs the endpoint's use
    /// case, which awaits the caller when it needs to. Each use case's
    /// future is boxed: nested in the handler's and lambda_runtime's, their
    /// types would grow past the compiler's default query depth.
    pub async fn serve(
        &self,
        endpoint: Endpoint<'_>,
        credentials: &Credentials,
        deadline: Instant,
    ) -> Result<Reply, ApiError> {
        let caller = self.authenticator.caller(credentials, deadline);
        match endpoint {
            Endpoint::Disconnect { owner, repo } => {
                let request = DisconnectRequest {
                    owner: &owner,
                    repo: &repo,
                    deadline,
                };
                let disconnect = self.disconnect_repository.disconnect(caller, request);
                Ok(Reply::Disconnected(Box::pin(disconnect).await?))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disconnect<'a>(owner: &'a str, repo: &'a str) -> Endpoint<'a> {
        Endpoint::Disconnect {
            owner: owner.into(),
            repo: repo.into(),
        }
    }

    fn not_routed(result: Result<Endpoint<'_>, ApiError>) -> String {
        match result {
            Ok(endpoint) => format!("{endpoint:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn matches_the_route() {
        assert_eq!(
            endpoint(
                &Method::DELETE,
                "/api/v1/repos/acme/my-backend/install",
                None
            )
            .unwrap(),
            disconnect("acme", "my-backend")
        );
    }

    #[test]
    fn skips_the_stage_segment_of_a_rest_api() {
        for path in [
            "/prod/api/v1/repos/acme/web/install",
            "/api/v1/repos/acme/web/install",
        ] {
            assert_eq!(
                endpoint(&Method::DELETE, path, Some("prod")).unwrap(),
                disconnect("acme", "web"),
                "{path}"
            );
        }
    }

    #[test]
    fn decodes_segments_for_validation_to_judge() {
        for (path, repo) in [
            ("/api/v1/repos/acme/a%2Fb/install", "a/b"),
            ("/api/v1/repos/acme/%2E%2E/install", ".."),
            ("/api/v1/repos/acme/%ff/install", "%ff"),
        ] {
            assert_eq!(
                endpoint(&Method::DELETE, path, None).unwrap(),
                disconnect("acme", repo)
            );
        }
    }

    /// The table and the endpoints agree: every method a resource declares
    /// names an endpoint, and every other is not allowed there.
    #[test]
    fn every_declared_method_is_an_endpoint_and_no_other() {
        let methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
        for resource in RESOURCES {
            let path = resource
                .path
                .split('/')
                .map(|segment| match segment.starts_with('{') {
                    true => "x",
                    false => segment,
                })
                .collect::<Vec<_>>()
                .join("/");
            for method in methods {
                let routed = endpoint(&Method::from_bytes(method.as_bytes()).unwrap(), &path, None);
                let refused = matches!(routed, Err(ApiError::MethodNotAllowed(r)) if r == resource);
                assert_eq!(
                    refused,
                    !resource.methods.contains(&method),
                    "{method} {path}: {}",
                    not_routed(routed)
                );
            }
        }
    }

    #[test]
    fn other_paths_are_not_found() {
        for path in [
            "",
            "/",
            "api/v1/repos/acme/web/install",
            "/api/v1/repos/acme/install",
            "/api/v1/repos/acme/web/install/",
            "/api/v1/repos/acme/web/x/install",
            "/api/v2/repos/acme/web/install",
            "/other/api/v1/repos/acme/web/install",
            "/api/v1/repos/acme/web",
        ] {
            for method in [Method::DELETE, Method::PATCH] {
                let routed = endpoint(&method, path, None);
                assert!(
                    matches!(routed, Err(ApiError::RouteNotFound)),
                    "{method} {path}: {}",
                    not_routed(routed)
                );
            }
        }
    }
}
