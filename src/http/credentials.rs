//! Where the caller's JWT comes from (CONTRACT §2).

use lambda_http::http::HeaderMap;
use lambda_http::http::header::{AUTHORIZATION, COOKIE, ORIGIN};

use crate::domain::{BearerToken, Credentials};

const COOKIE_NAME: &str = "access_token";

/// The token from `Authorization: Bearer`, or from the `access_token` cookie
/// when there is no `Authorization` header at all. A header that is present
/// but unusable (another scheme, repeated, empty) never falls back to the
/// cookie, and two `access_token` cookies are ambiguous.
pub fn credentials(headers: &HeaderMap) -> Credentials {
    let mut authorization = headers.get_all(AUTHORIZATION).iter();
    match (authorization.next(), authorization.next()) {
        (Some(value), None) => value.to_str().ok().and_then(from_authorization).map_or(
            Credentials::Unusable("unusable Authorization header"),
            Credentials::Bearer,
        ),
        (Some(_), Some(_)) => Credentials::Unusable("repeated Authorization header"),
        (None, _) => from_cookies(headers),
    }
}

fn from_authorization(value: &str) -> Option<BearerToken> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
        .then(|| BearerToken::new(token))
}

fn from_cookies(headers: &HeaderMap) -> Credentials {
    let tokens: Vec<&str> = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name.trim() == COOKIE_NAME).then(|| value.trim().trim_matches('"'))
        })
        .collect();
    match tokens.as_slice() {
        [] => Credentials::None,
        [""] => Credentials::Unusable("empty access_token cookie"),
        [token] => Credentials::Cookie {
            token: BearerToken::new(token),
            origin: headers
                .get(ORIGIN)
                .map(|origin| String::from_utf8_lossy(origin.as_bytes()).into_owned()),
            cross_site: headers
                .get("sec-fetch-site")
                .is_some_and(|site| site.as_bytes().eq_ignore_ascii_case(b"cross-site")),
        },
        _ => Credentials::Unusable("more than one access_token cookie"),
    }
}

#[cfg(test)]
mod tests {
    use lambda_http::http::HeaderValue;

    use super::*;

    fn credentials_of(headers: &[(&'static str, &str)]) -> Credentials {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        credentials(&map)
    }

    /// The token, however it came.
    fn token(headers: &[(&'static str, &str)]) -> Option<String> {
        match credentials_of(headers) {
            Credentials::Bearer(token) | Credentials::Cookie { token, .. } => {
                Some(token.expose().to_owned())
            }
            Credentials::None | Credentials::Unusable(_) => None,
        }
    }

    #[test]
    fn reads_a_bearer_header_with_any_scheme_case() {
        for value in ["Bearer abc", "bearer abc", "BEARER  abc "] {
            let read = token(&[("authorization", value)]);
            assert_eq!(read.as_deref(), Some("abc"), "{value}");
        }
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
        for (cookie, read) in [
            ("theme=dark; access_token=abc; other=1", Some("abc")),
            ("access_token=\"abc\"", Some("abc")),
            ("x_access_token=abc", None),
            ("access_token=", None),
        ] {
            assert_eq!(token(&[("cookie", cookie)]).as_deref(), read, "{cookie}");
        }
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

    #[test]
    fn two_access_token_cookies_are_ambiguous() {
        for headers in [
            vec![("cookie", "access_token=a; access_token=b")],
            vec![("cookie", "access_token=a"), ("cookie", "access_token=b")],
            vec![("cookie", "access_token=a; access_token=a")],
        ] {
            assert!(
                matches!(credentials_of(&headers), Credentials::Unusable(_)),
                "{headers:?}"
            );
        }
    }

    #[test]
    fn a_cookie_carries_where_its_request_comes_from() {
        let Credentials::Cookie {
            origin, cross_site, ..
        } = credentials_of(&[
            ("cookie", "access_token=abc"),
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "Cross-Site"),
        ])
        else {
            panic!("a cookie credential");
        };
        assert_eq!(origin.as_deref(), Some("https://evil.example"));
        assert!(cross_site);

        let Credentials::Cookie {
            origin, cross_site, ..
        } = credentials_of(&[
            ("cookie", "access_token=abc"),
            ("sec-fetch-site", "same-site"),
        ])
        else {
            panic!("a cookie credential");
        };
        assert_eq!(origin, None);
        assert!(!cross_site);
    }
}
