//! The one route: `DELETE /api/v1/repos/{owner}/{repo}/install`.
//!
//! Works on the raw path of the event, so it behaves the same behind an HTTP
//! API, a REST API (stage in the path or not) and a function URL, which has
//! no route template and so no path parameters.

use std::borrow::Cow;

use lambda_http::http::Method;
use percent_encoding::percent_decode_str;

#[derive(Debug, PartialEq, Eq)]
pub enum Route<'a> {
    /// The owner and repo segments, percent-decoded but not yet validated.
    Disconnect {
        owner: Cow<'a, str>,
        repo: Cow<'a, str>,
    },
    MethodNotAllowed,
    NotFound,
}

pub const ALLOWED_METHOD: &str = "DELETE";

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
    let ["api", "v1", "repos", owner, repo, "install"] = segments[..] else {
        return Route::NotFound;
    };
    if method.as_str() != ALLOWED_METHOD {
        return Route::MethodNotAllowed;
    }
    Route::Disconnect {
        owner: decode(owner),
        repo: decode(repo),
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
        Route::Disconnect {
            owner: owner.into(),
            repo: repo.into(),
        }
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
                Route::MethodNotAllowed
            );
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
