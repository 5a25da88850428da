//! Where the caller's JWT comes from (CONTRACT §2).

use lambda_http::http::HeaderMap;
use lambda_http::http::header::{AUTHORIZATION, COOKIE};

use crate::domain::BearerToken;

const COOKIE_NAME: &str = "access_token";

/// The token from `Authorization: Bearer`, or from the `access_token` cookie
/// when there is no `Authorization` header at all. A header that is present
/// but unusable (another scheme, repeated, empty) yields no token rather than
/// falling back to the cookie.
pub fn bearer_token(headers: &HeaderMap) -> Option<BearerToken> {
    let mut authorization = headers.get_all(AUTHORIZATION).iter();
    match (authorization.next(), authorization.next()) {
        (Some(value), None) => from_authorization(value.to_str().ok()?),
        (Some(_), Some(_)) => None,
        (None, _) => from_cookies(headers),
    }
}

fn from_authorization(value: &str) -> Option<BearerToken> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
        .then(|| BearerToken::new(token))
}

fn from_cookies(headers: &HeaderMap) -> Option<BearerToken> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name.trim() == COOKIE_NAME).then(|| value.trim().trim_matches('"'))
        })
        .filter(|token| !token.is_empty())
        .map(BearerToken::new)
}

#[cfg(test)]
mod tests {
    use lambda_http::http::HeaderValue;

    use super::*;

    fn token(headers: &[(&'static str, &str)]) -> Option<String> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        bearer_token(&map).map(|t| t.expose().to_owned())
    }

    #[test]
    fn reads_a_bearer_header_with_any_scheme_case() {
        assert_eq!(
            token(&[("authorization", "Bearer abc")]).as_deref(),
            Some("abc")
        );
        assert_eq!(
            token(&[("authorization", "bearer abc")]).as_deref(),
            Some("abc")
        );
        assert_eq!(
            token(&[("authorization", "BEARER  abc ")]).as_deref(),
            Some("abc")
        );
    }

    #[test]
    fn refuses_unusable_authorization_headers() {
        for value in [
            "Bearer",
            "Bearer ",
            "Basic abc",
            "abc",
            "Bearer a b",
            "Token abc",
        ] {
            assert_eq!(token(&[("authorization", value)]), None, "{value}");
        }
        assert_eq!(
            token(&[("authorization", "Bearer a"), ("authorization", "Bearer b")]),
            None
        );
    }

    #[test]
    fn reads_the_access_token_cookie_without_a_header() {
        assert_eq!(
            token(&[("cookie", "theme=dark; access_token=abc; other=1")]).as_deref(),
            Some("abc")
        );
        assert_eq!(
            token(&[("cookie", "access_token=\"abc\"")]).as_deref(),
            Some("abc")
        );
        assert_eq!(token(&[("cookie", "x_access_token=abc")]), None);
        assert_eq!(token(&[("cookie", "access_token=")]), None);
    }

    #[test]
    fn the_header_wins_over_the_cookie() {
        assert_eq!(
            token(&[
                ("authorization", "Bearer header"),
                ("cookie", "access_token=cookie")
            ])
            .as_deref(),
            Some("header")
        );
        assert_eq!(
            token(&[
                ("authorization", "Basic x"),
                ("cookie", "access_token=cookie")
            ]),
            None
        );
    }
}
