//! The check every answer of the suite goes through (`support/openapi.rs`):
//! it passes the contract's answers and refuses what `openapi.yaml` does
//! not describe, so that passing it means something.

use lambda_http::http::{HeaderMap, HeaderName, HeaderValue};
use nectr_disconnect::http::api::REPOSITORY_INSTALL;

use crate::support::openapi::check;

const UNAUTHORIZED: &str = r#"{"detail":"Unauthorized"}"#;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(name, value)| {
            (
                HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap(),
            )
        })
        .collect()
}

/// A 401 as the function sends it.
fn unauthorized_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("content-type", "application/json"),
        ("www-authenticate", "Bearer"),
        ("cache-control", "no-store"),
    ]
}

#[test]
fn the_openapi_check_passes_the_contracts_answers() {
    assert_eq!(
        check(
            "DELETE",
            401,
            &headers(&unauthorized_headers()),
            UNAUTHORIZED
        ),
        Ok(())
    );
    let allow = REPOSITORY_INSTALL.allow();
    let not_allowed = headers(&[
        ("content-type", "application/json"),
        ("allow", &allow),
        ("cache-control", "no-store"),
    ]);
    assert_eq!(
        check(
            "PUT",
            405,
            &not_allowed,
            r#"{"detail":"Method Not Allowed"}"#
        ),
        Ok(())
    );
    let outside = headers(&[("content-type", "application/json")]);
    assert_eq!(
        check("GET", 404, &outside, r#"{"detail":"Not Found"}"#),
        Ok(())
    );
}

#[test]
fn the_openapi_check_refuses_what_openapi_yaml_does_not_describe() {
    let without = |name: &str| {
        let mut pairs = unauthorized_headers();
        pairs.retain(|(n, _)| *n != name);
        headers(&pairs)
    };
    let good = headers(&unauthorized_headers());
    for (case, method, status, headers, body) in [
        (
            "an undocumented status",
            "DELETE",
            418,
            good.clone(),
            UNAUTHORIZED,
        ),
        (
            "a body off its schema",
            "DELETE",
            401,
            good.clone(),
            r#"{"detail":"Nope"}"#,
        ),
        (
            "a body that is not JSON",
            "DELETE",
            401,
            good.clone(),
            "Unauthorized",
        ),
        (
            "no JSON content type",
            "DELETE",
            401,
            without("content-type"),
            UNAUTHORIZED,
        ),
        (
            "no WWW-Authenticate",
            "DELETE",
            401,
            without("www-authenticate"),
            UNAUTHORIZED,
        ),
        (
            "a 200 for another method",
            "GET",
            200,
            good.clone(),
            UNAUTHORIZED,
        ),
    ] {
        assert!(check(method, status, &headers, body).is_err(), "{case}");
    }
}
