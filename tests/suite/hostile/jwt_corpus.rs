//! A corpus of JWT attacks, each through the handler as API Gateway would
//! deliver it. Every one must be a 401 that changes nothing; the few benign
//! variants next to them must still work.

use crate::support::handler::handle;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::support::events::{Answer, http_api_event};
use crate::support::use_case::{Fakes, WEB_APP_ORIGIN};
use test_world::jwt::{
    FIXTURE_KEY, claims, hmac_signed_with_header, hs256, now, unsigned, with_algorithm,
};

use crate::support::subject::USER;
const PATH: &str = "/api/v1/repos/acme/my-backend/install";

/// An RSA public key, as a server configured for RS256 would publish it: the
/// text an algorithm-confusion attacker uses as the HMAC key.
const RSA_PUBLIC_KEY_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo
4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u
+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyeh
kd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ
0iT9wCS0DRTXu269V264Vf/3jvredZiKRkgwlL9xNAwxXFg0x/XFw005UWVRIkdg
cKWTjpBP2dPwVZ4WWC+9aGVd+Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbc
mwIDAQAB
-----END PUBLIC KEY-----";

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// Every attack: a name and the request headers carrying it.
fn attacks() -> Vec<(String, Vec<(&'static str, String)>)> {
    let valid = hs256(FIXTURE_KEY, &claims(USER));
    let bearer = |token: &str| vec![("authorization", format!("Bearer {token}"))];
    let hs256_header = |extra: Value| {
        let mut header = json!({"alg": "HS256", "typ": "JWT"});
        header
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        header
    };
    let mut corpus: Vec<(String, Vec<(&'static str, String)>)> = Vec::new();
    let mut add = |name: &str, headers| corpus.push((name.to_owned(), headers));

    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "typ": "JWT"});
        add(
            &format!("alg {alg}, no signature"),
            bearer(&format!("{}.{}.", b64(&header), b64(&claims(USER)))),
        );
        add(
            &format!("alg {alg}, HMAC signature"),
            bearer(&hmac_signed_with_header(
                &header,
                FIXTURE_KEY,
                &claims(USER),
            )),
        );
    }
    add("alg none via the library", bearer(&unsigned(&claims(USER))));
    add(
        "RS256 header, HMAC keyed with the RSA public key text",
        bearer(&hmac_signed_with_header(
            &json!({"alg": "RS256", "typ": "JWT"}),
            RSA_PUBLIC_KEY_PEM.as_bytes(),
            &claims(USER),
        )),
    );
    add(
        "HS256 header, HMAC keyed with the RSA public key text",
        bearer(&hs256(RSA_PUBLIC_KEY_PEM.as_bytes(), &claims(USER))),
    );
    add(
        "RS256 header, HMAC keyed with the real signing key",
        bearer(&hmac_signed_with_header(
            &json!({"alg": "RS256", "typ": "JWT"}),
            FIXTURE_KEY,
            &claims(USER),
        )),
    );
    for alg in ["ES256", "PS256", "EdDSA", "HS1", ""] {
        add(
            &format!("alg {alg:?}"),
            bearer(&hmac_signed_with_header(
                &json!({"alg": alg, "typ": "JWT"}),
                FIXTURE_KEY,
                &claims(USER),
            )),
        );
    }
    add(
        "no alg",
        bearer(&hmac_signed_with_header(
            &json!({"typ": "JWT"}),
            FIXTURE_KEY,
            &claims(USER),
        )),
    );
    add(
        "HS384",
        bearer(&with_algorithm(
            Algorithm::HS384,
            FIXTURE_KEY,
            &claims(USER),
        )),
    );
    add(
        "HS512",
        bearer(&with_algorithm(
            Algorithm::HS512,
            FIXTURE_KEY,
            &claims(USER),
        )),
    );

    let parts: Vec<&str> = valid.split('.').collect();
    let admin = b64(&claims("admin"));
    add(
        "valid signature over a modified payload",
        bearer(&format!("{}.{admin}.{}", parts[0], parts[2])),
    );
    add(
        "signature stripped",
        bearer(&format!("{}.{}.", parts[0], parts[1])),
    );
    add(
        "signature of another token",
        bearer(&format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            hs256(FIXTURE_KEY, &claims("admin"))
                .split('.')
                .nth(2)
                .unwrap()
        )),
    );
    add("four segments", bearer(&format!("{valid}.{}", parts[2])));
    add(
        "two segments",
        bearer(&format!("{}.{}", parts[0], parts[1])),
    );
    add("empty segments", bearer(".."));
    add(
        "standard base64 with padding",
        bearer(&format!(
            "{}.{}.{}",
            STANDARD.encode(json!({"alg":"HS256"}).to_string()),
            STANDARD.encode(claims(USER).to_string()),
            parts[2]
        )),
    );
    add(
        "header not JSON",
        bearer(&format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode("not json"),
            parts[1],
            parts[2]
        )),
    );

    add(
        "exp as a string",
        bearer(&hs256(
            FIXTURE_KEY,
            &with(claims(USER), "exp", json!((now() + 3600).to_string())),
        )),
    );
    add(
        "nbf as a string",
        bearer(&hs256(
            FIXTURE_KEY,
            &with(claims(USER), "nbf", json!(now().to_string())),
        )),
    );
    add(
        "exp far in the past",
        bearer(&hs256(FIXTURE_KEY, &with(claims(USER), "exp", json!(1)))),
    );
    add(
        "exp zero",
        bearer(&hs256(FIXTURE_KEY, &with(claims(USER), "exp", json!(0)))),
    );
    add(
        "exp negative",
        bearer(&hs256(FIXTURE_KEY, &with(claims(USER), "exp", json!(-1)))),
    );
    add(
        "exp null",
        bearer(&hs256(FIXTURE_KEY, &with(claims(USER), "exp", json!(null)))),
    );
    add(
        "exp expired beyond the 60 s leeway",
        bearer(&hs256(
            FIXTURE_KEY,
            &with(claims(USER), "exp", json!(now() - 120)),
        )),
    );
    add(
        "nbf in the future",
        bearer(&hs256(
            FIXTURE_KEY,
            &with(claims(USER), "nbf", json!(now() + 3600)),
        )),
    );
    add(
        "sub of a user without a user item",
        bearer(&hs256(FIXTURE_KEY, &claims("user-1#PROFILE"))),
    );
    add(
        "sub as an object",
        bearer(&hs256(
            FIXTURE_KEY,
            &with(claims(USER), "sub", json!({"id": USER})),
        )),
    );
    add(
        "oversized token (64 KiB)",
        bearer(&hs256(
            FIXTURE_KEY,
            &with(claims(USER), "pad", json!("x".repeat(64 * 1024))),
        )),
    );
    add(
        "kid pointing elsewhere, signed with the attacker's key",
        bearer(
            &jsonwebtoken::encode(
                &jsonwebtoken::Header {
                    kid: Some("../../../../dev/null".into()),
                    ..jsonwebtoken::Header::new(Algorithm::HS256)
                },
                &claims(USER),
                &jsonwebtoken::EncodingKey::from_secret(b"attacker-key"),
            )
            .unwrap(),
        ),
    );
    add(
        "jku and x5u pointing at the attacker, signed with their key",
        bearer(&hmac_signed_with_header(
            &hs256_header(
                json!({"jku": "https://evil.example/jwks.json", "x5u": "https://evil.example/cert.pem"}),
            ),
            b"attacker-key",
            &claims(USER),
        )),
    );
    add(
        "embedded jwk of the attacker",
        bearer(&hmac_signed_with_header(
            &hs256_header(
                json!({"jwk": {"kty": "oct", "k": URL_SAFE_NO_PAD.encode("attacker-key")}}),
            ),
            b"attacker-key",
            &claims(USER),
        )),
    );

    add(
        "Bearer without a token",
        vec![("authorization", "Bearer".into())],
    );
    add(
        "Bearer and a space",
        vec![("authorization", "Bearer ".into())],
    );
    add(
        "Basic scheme with the token",
        vec![("authorization", format!("Basic {valid}"))],
    );
    add(
        "token without a scheme",
        vec![("authorization", valid.clone())],
    );
    add(
        "two tokens in one header",
        vec![("authorization", format!("Bearer {valid} {valid}"))],
    );
    add(
        "header with garbage beats a valid cookie",
        vec![
            ("authorization", "Bearer garbage".into()),
            ("cookie", format!("access_token={valid}")),
        ],
    );
    add(
        "cookie with another name",
        vec![("cookie", format!("access_tokens={valid}"))],
    );
    let cookie = || ("cookie", format!("access_token={valid}"));
    for (name, origin) in [
        ("cookie from a foreign origin", "https://evil.example"),
        ("cookie from the null origin", "null"),
        (
            "cookie from a look-alike origin",
            "https://app.nectr.ai.evil.example",
        ),
        (
            "cookie from the web app's host over http",
            "http://app.nectr.ai",
        ),
        (
            "cookie from the web app's host on another port",
            "https://app.nectr.ai:8443",
        ),
    ] {
        add(name, vec![cookie(), ("origin", origin.into())]);
    }
    add(
        "cookie sent cross-site",
        vec![cookie(), ("sec-fetch-site", "cross-site".into())],
    );
    add(
        "cookie sent cross-site from the web app's origin",
        vec![
            cookie(),
            ("origin", WEB_APP_ORIGIN.into()),
            ("sec-fetch-site", "cross-site".into()),
        ],
    );
    add(
        "two access_token cookies, the attacker's first",
        vec![(
            "cookie",
            format!("access_token=attacker; access_token={valid}"),
        )],
    );
    add(
        "two access_token cookies, both valid",
        vec![(
            "cookie",
            format!("access_token={valid}; access_token={valid}"),
        )],
    );
    add(
        "cookie with garbage",
        vec![("cookie", "access_token=garbage".into())],
    );
    corpus
}

/// Duplicate `Authorization` headers cannot be written as a JSON object, so
/// this one is built as a REST API event with `multiValueHeaders`.
fn duplicate_authorization_headers() -> lambda_http::Request {
    let valid = hs256(FIXTURE_KEY, &claims(USER));
    let event = json!({
        "resource": "/api/v1/repos/{owner}/{repo}/install",
        "path": PATH,
        "httpMethod": "DELETE",
        "headers": {},
        "multiValueHeaders": {"Authorization": [format!("Bearer {valid}"), "Bearer garbage"]},
        "requestContext": {"stage": "prod", "httpMethod": "DELETE", "path": format!("/prod{PATH}"), "requestId": "r", "accountId": "1", "resourceId": "x", "apiId": "a", "identity": {"sourceIp": "127.0.0.1"}},
        "isBase64Encoded": false
    });
    nectr_disconnect::http::lambda_event::request_from_json(&event.to_string()).unwrap()
}

fn connected() -> Fakes {
    Fakes::with_installation("acme/my-backend", true)
}

async fn send(request: lambda_http::Request) -> (Answer, Fakes) {
    let fakes = connected();
    let answer = Answer::from(handle(&fakes.use_case(), request).await);
    (answer, fakes)
}

#[tokio::test]
async fn every_attack_in_the_corpus_is_401_and_changes_nothing() {
    let mut requests: Vec<(String, lambda_http::Request)> = attacks()
        .into_iter()
        .map(|(name, headers)| {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            (name, http_api_event("DELETE", PATH, &headers))
        })
        .collect();
    requests.push((
        "duplicate Authorization headers".into(),
        duplicate_authorization_headers(),
    ));
    let count = requests.len();

    for (name, request) in requests {
        let (answer, fakes) = send(request).await;

        assert_eq!(answer.status, 401, "{name}: {}", answer.body);
        assert_eq!(answer.body, json!({"detail": "Unauthorized"}), "{name}");
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"), "{name}");
        assert!(
            fakes.store.installations().iter().all(|i| i.is_active),
            "{name}"
        );
        assert!(fakes.webhooks.calls().is_empty(), "{name}");
    }
    println!("JWT attack corpus: {count} cases, all refused");
}

#[tokio::test]
async fn benign_variants_next_to_the_attacks_still_work() {
    let valid = hs256(FIXTURE_KEY, &claims(USER));
    let kid = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some("key-2026".into()),
            ..jsonwebtoken::Header::new(Algorithm::HS256)
        },
        &claims(USER),
        &jsonwebtoken::EncodingKey::from_secret(FIXTURE_KEY),
    )
    .unwrap();
    for (name, headers) in [
        (
            "lowercase scheme",
            vec![("authorization", format!("bearer {valid}"))],
        ),
        (
            "upper-case scheme, extra spaces",
            vec![("authorization", format!("BEARER   {valid}  "))],
        ),
        (
            "a kid the function ignores",
            vec![("authorization", format!("Bearer {kid}"))],
        ),
        (
            "valid header beats a garbage cookie",
            vec![
                ("authorization", format!("Bearer {valid}")),
                ("cookie", "access_token=garbage".into()),
            ],
        ),
        (
            "cookie among others",
            vec![("cookie", format!("a=1; access_token={valid}; b=2"))],
        ),
        (
            "cookie from the web app's origin, same site",
            vec![
                ("cookie", format!("access_token={valid}")),
                ("origin", WEB_APP_ORIGIN.into()),
                ("sec-fetch-site", "same-site".into()),
            ],
        ),
        (
            "Authorization from a foreign origin, cross-site",
            vec![
                ("authorization", format!("Bearer {valid}")),
                ("origin", "https://evil.example".into()),
                ("sec-fetch-site", "cross-site".into()),
            ],
        ),
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (answer, _) = send(http_api_event("DELETE", PATH, &headers)).await;
        assert_eq!(answer.status, 200, "{name}: {}", answer.body);
    }
}
