//! The routes: `DELETE /api/v1/repos/{owner}/{repo}/install`, declared in
//! `RESOURCES` with the methods each path answers, from which `Allow` and
//! the pre-traffic check's probes are derived.
//!
//! Works on the raw path of the event, so it behaves the same behind an HTTP
//! API, a REST API (stage in the path or not) and a function URL, which has
//! no route template and so no path parameters.

use std::borrow::Cow;

use lambda_http::http::Method;
use percent_encoding::percent_decode_str;

/// A path the API answers, and the methods it answers on it.
#[derive(Debug, PartialEq, Eq)]
pub struct Resource {
    /// As the template's routes write it; `{…}` segments are parameters.
    pub path: &'static str,
    pub methods: &'static [&'static str],
}

impl Resource {
    /// The methods, as an `Allow` header lists them.
    pub fn allow(&self) -> String {
        self.methods.join(", ")
    }

    /// The parameters `segments` give, when they are this path's.
    fn parameters<'a>(&self, segments: &[&'a str]) -> Option<Vec<&'a str>> {
        let template: Vec<&str> = self.path.split('/').skip(1).collect();
        if template.len() != segments.len() {
            return None;
        }
        let mut parameters = Vec::new();
        for (expected, segment) in template.iter().zip(segments) {
            if expected.starts_with('{') {
                parameters.push(*segment);
            } else if expected != segment {
                return None;
            }
        }
        Some(parameters)
    }
}

pub const REPOSITORY_INSTALL: Resource = Resource {
    path: "/api/v1/repos/{owner}/{repo}/install",
    methods: &["DELETE"],
};

/// Every path the API answers.
pub const RESOURCES: [&Resource; 1] = [&REPOSITORY_INSTALL];

#[derive(Debug, PartialEq, Eq)]
pub enum Route<'a> {
    To(Endpoint<'a>),
    /// A path of the API, with a method it does not answer there.
    MethodNotAllowed(&'static Resource),
    NotFound,
}

/// What a request asks of the API, with its path's parameters.
#[derive(Debug, PartialEq, Eq)]
pub enum Endpoint<'a> {
    /// The owner and repo segments, percent-decoded but not yet validated.
    Disconnect {
        owner: Cow<'a, str>,
        repo: Cow<'a, str>,
    },
}

pub fn route<'a>(method: &Method, raw_path: &'a str, stage: Option<&str>) -> Route<'a> {
    let mut segments = raw_path.split('/');
    if segments.next() != Some("") {
        return Route::NotFound;
    }
    let mut segments = segments.peekable();
    if stage.is_some_and(|stage| segments.peek() == Some(&stage)) {
        segments.next();
    }
    let segments: Vec<&str> = segments.collect();
    let Some((resource, parameters)) = RESOURCES
        .into_iter()
        .find_map(|resource| Some((resource, resource.parameters(&segments)?)))
    else {
        return Route::NotFound;
    };
    match (method.as_str(), parameters.as_slice()) {
        ("DELETE", [owner, repo]) if resource == &REPOSITORY_INSTALL => {
            Route::To(Endpoint::Disconnect {
                owner: decode(owner),
                repo: decode(repo),
            })
        }
        _ => Route::MethodNotAllowed(resource),
    }
}

/// A segment that does not decode to UTF-8 stays encoded; its `%` then fails
/// name validation like any other character GitHub refuses.
fn decode(segment: &str) -> Cow<'_, str> {
    percent_decode_str(segment)
        .decode_utf8()
        .unwrap_or(Cow::Borrowed(segment))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disconnect<'a>(owner: &'a str, repo: &'a str) -> Route<'a> {
        Route::To(Endpoint::Disconnect {
            owner: owner.into(),
            repo: repo.into(),
        })
    }

    #[test]
    fn matches_the_route() {
        assert_eq!(
            route(
                &Method::DELETE,
                "/api/v1/repos/acme/my-backend/install",
                None
            ),
            disconnect("acme", "my-backend")
        );
    }

    #[test]
    fn skips_the_stage_segment_of_a_rest_api() {
        assert_eq!(
            route(
                &Method::DELETE,
                "/prod/api/v1/repos/acme/web/install",
                Some("prod")
            ),
            disconnect("acme", "web")
        );
        assert_eq!(
            route(
                &Method::DELETE,
                "/api/v1/repos/acme/web/install",
                Some("prod")
            ),
            disconnect("acme", "web")
        );
    }

    #[test]
    fn decodes_segments_for_validation_to_judge() {
        assert_eq!(
            route(&Method::DELETE, "/api/v1/repos/acme/a%2Fb/install", None),
            disconnect("acme", "a/b")
        );
        assert_eq!(
            route(&Method::DELETE, "/api/v1/repos/acme/%2E%2E/install", None),
            disconnect("acme", "..")
        );
        assert_eq!(
            route(&Method::DELETE, "/api/v1/repos/acme/%ff/install", None),
            disconnect("acme", "%ff")
        );
    }

    #[test]
    fn other_methods_on_the_route_are_not_allowed() {
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::HEAD,
        ] {
            assert_eq!(
                route(&method, "/api/v1/repos/acme/web/install", None),
                Route::MethodNotAllowed(&REPOSITORY_INSTALL)
            );
        }
    }

    /// The table and the routing agree: every method a resource declares
    /// is routed, and no other.
    #[test]
    fn every_declared_method_is_routed_and_no_other() {
        let other = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
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
            for method in other {
                let routed = route(&Method::from_bytes(method.as_bytes()).unwrap(), &path, None);
                let refused = routed == Route::MethodNotAllowed(resource);
                assert_eq!(
                    refused,
                    !resource.methods.contains(&method),
                    "{method} {path}: {routed:?}"
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
            assert_eq!(
                route(&Method::DELETE, path, None),
                Route::NotFound,
                "{path}"
            );
            assert_eq!(route(&Method::GET, path, None), Route::NotFound, "{path}");
        }
    }
}
