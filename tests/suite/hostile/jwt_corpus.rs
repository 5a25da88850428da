//! A corpus of JWT attacks, each through the handler as API Gateway would
//! deliver it. Every one must be a 401 that changes nothing; the few benign
//! variants next to them must still work.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::Algorithm;
use lambda_http::Request;
use serde_json::{Value, json};
use test_world::jwt::{
    FIXTURE_KEY, claims, hmac_signed_with_header, hs256, now, unsigned, with_algorithm,
};

use crate::support::acting_user::{PATH, USER};
use crate::support::events::{Answer, http_api_event, rest_api_event};
use crate::support::handler::handle;
use crate::support::use_case::{Fakes, WEB_APP_ORIGIN};

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

/// A request's headers, as name and value.
type Headers = Vec<(&'static str, String)>;

/// Every attack: a name and the request headers carrying it. Tokens come
/// in an `Authorization: Bearer` header; the last group also places them
/// elsewhere.
fn attacks() -> Vec<(String, Headers)> {
    let valid = hs256(FIXTURE_KEY, &claims(USER));
    [
        algorithm_attacks(),
        structure_attacks(&valid),
        claim_attacks(),
        key_source_attacks(),
    ]
    .into_iter()
    .flatten()
    .map(|(name, token)| (name, vec![("authorization", format!("Bearer {token}"))]))
    .chain(placement_attacks(&valid))
    .collect()
}

/// Tokens whose header names another algorithm than HS256, or none.
fn algorithm_attacks() -> Vec<(String, String)> {
    let signed = |header: Value, key: &[u8]| hmac_signed_with_header(&header, key, &claims(USER));
    let alg = |alg: &str| json!({"alg": alg, "typ": "JWT"});
    let rsa_key_text = RSA_PUBLIC_KEY_PEM.as_bytes();
    let mut attacks = Vec::new();
    for none in ["none", "None", "NONE", "nOnE"] {
        attacks.push((
            format!("alg {none}, no signature"),
            format!("{}.{}.", b64(&alg(none)), b64(&claims(USER))),
        ));
        attacks.push((
            format!("alg {none}, HMAC signature"),
            signed(alg(none), FIXTURE_KEY),
        ));
    }
    attacks.push(("alg none via the library".into(), unsigned(&claims(USER))));
    attacks.push((
        "RS256 header, HMAC keyed with the RSA public key text".into(),
        signed(alg("RS256"), rsa_key_text),
    ));
    attacks.push((
        "HS256 header, HMAC keyed with the RSA public key text".into(),
        hs256(rsa_key_text, &claims(USER)),
    ));
    attacks.push((
        "RS256 header, HMAC keyed with the real signing key".into(),
        signed(alg("RS256"), FIXTURE_KEY),
    ));
    for other in ["ES256", "PS256", "EdDSA", "HS1", ""] {
        attacks.push((format!("alg {other:?}"), signed(alg(other), FIXTURE_KEY)));
    }
    attacks.push(("no alg".into(), signed(json!({"typ": "JWT"}), FIXTURE_KEY)));
    for (name, algorithm) in [("HS384", Algorithm::HS384), ("HS512", Algorithm::HS512)] {
        attacks.push((
            name.into(),
            with_algorithm(algorithm, FIXTURE_KEY, &claims(USER)),
        ));
    }
    attacks
}

/// A valid token taken apart and put together wrongly.
fn structure_attacks(valid: &str) -> Vec<(String, String)> {
    let parts: Vec<&str> = valid.split('.').collect();
    let admin_signature = hs256(FIXTURE_KEY, &claims("admin"));
    let admin_signature = admin_signature.split('.').nth(2).unwrap();
    [
        (
            "valid signature over a modified payload",
            format!("{}.{}.{}", parts[0], b64(&claims("admin")), parts[2]),
        ),
        ("signature stripped", format!("{}.{}.", parts[0], parts[1])),
        (
            "signature of another token",
            format!("{}.{}.{admin_signature}", parts[0], parts[1]),
        ),
        ("four segments", format!("{valid}.{}", parts[2])),
        ("two segments", format!("{}.{}", parts[0], parts[1])),
        ("empty segments", "..".into()),
        (
            "standard base64 with padding",
            format!(
                "{}.{}.{}",
                STANDARD.encode(json!({"alg":"HS256"}).to_string()),
                STANDARD.encode(claims(USER).to_string()),
                parts[2]
            ),
        ),
        (
            "header not JSON",
            format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode("not json"),
                parts[1],
                parts[2]
            ),
        ),
    ]
    .map(|(name, token)| (name.to_owned(), token))
    .into()
}

/// Tokens correctly signed with the real key whose claims must not pass.
fn claim_attacks() -> Vec<(String, String)> {
    let tampered = |claim: &str, value: Value| with(claims(USER), claim, value);
    [
        (
            "exp as a string",
            tampered("exp", json!((now() + 3600).to_string())),
        ),
        ("nbf as a string", tampered("nbf", json!(now().to_string()))),
        ("exp far in the past", tampered("exp", json!(1))),
        ("exp zero", tampered("exp", json!(0))),
        ("exp negative", tampered("exp", json!(-1))),
        ("exp null", tampered("exp", json!(null))),
        (
            "exp expired beyond the 60 s leeway",
            tampered("exp", json!(now() - 120)),
        ),
        ("nbf in the future", tampered("nbf", json!(now() + 3600))),
        (
            "sub of a user without a user item",
            claims("user-1#PROFILE"),
        ),
        ("sub as an object", tampered("sub", json!({"id": USER}))),
        (
            "oversized token (64 KiB)",
            tampered("pad", json!("x".repeat(64 * 1024))),
        ),
    ]
    .map(|(name, claims)| (name.to_owned(), hs256(FIXTURE_KEY, &claims)))
    .into()
}

/// Tokens signed with the attacker's key whose header tells the verifier
/// where to find that key.
fn key_source_attacks() -> Vec<(String, String)> {
    let hs256_header = |extra: Value| {
        let mut header = json!({"alg": "HS256", "typ": "JWT"});
        header
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        header
    };
    let signed_by_attacker =
        |header: Value| hmac_signed_with_header(&header, b"attacker-key", &claims(USER));
    let kid_elsewhere = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some("../../../../dev/null".into()),
            ..jsonwebtoken::Header::new(Algorithm::HS256)
        },
        &claims(USER),
        &jsonwebtoken::EncodingKey::from_secret(b"attacker-key"),
    )
    .unwrap();
    [
        (
            "kid pointing elsewhere, signed with the attacker's key",
            kid_elsewhere,
        ),
        (
            "jku and x5u pointing at the attacker, signed with their key",
            signed_by_attacker(hs256_header(
                json!({"jku": "https://evil.example/jwks.json", "x5u": "https://evil.example/cert.pem"}),
            )),
        ),
        (
            "embedded jwk of the attacker",
            signed_by_attacker(hs256_header(
                json!({"jwk": {"kty": "oct", "k": URL_SAFE_NO_PAD.encode("attacker-key")}}),
            )),
        ),
    ]
    .map(|(name, token)| (name.to_owned(), token))
    .into()
}

/// A valid token where the function must not take it from: the wrong
/// scheme, the wrong cookie, a cookie from a foreign origin or sent
/// cross-site.
fn placement_attacks(valid: &str) -> Vec<(String, Headers)> {
    let authorization = |value: String| vec![("authorization", value)];
    let cookie = || ("cookie", format!("access_token={valid}"));
    let mut attacks: Vec<(&str, Headers)> = vec![
        ("Bearer without a token", authorization("Bearer".into())),
        ("Bearer and a space", authorization("Bearer ".into())),
        (
            "Basic scheme with the token",
            authorization(format!("Basic {valid}")),
        ),
        ("token without a scheme", authorization(valid.to_owned())),
        (
            "two tokens in one header",
            authorization(format!("Bearer {valid} {valid}")),
        ),
        (
            "header with garbage beats a valid cookie",
            vec![("authorization", "Bearer garbage".into()), cookie()],
        ),
        (
            "cookie with another name",
            vec![("cookie", format!("access_tokens={valid}"))],
        ),
    ];
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
        attacks.push((name, vec![cookie(), ("origin", origin.into())]));
    }
    attacks.extend([
        (
            "cookie sent cross-site without an Origin",
            vec![cookie(), ("sec-fetch-site", "cross-site".into())],
        ),
        (
            "cookie sent cross-site from a foreign origin",
            vec![
                cookie(),
                ("origin", "https://evil.example".into()),
                ("sec-fetch-site", "cross-site".into()),
            ],
        ),
        (
            "two Authorization headers, the valid one last",
            vec![
                ("authorization", "Bearer garbage".into()),
                ("authorization", format!("Bearer {valid}")),
            ],
        ),
        (
            "two Authorization headers, the valid one first",
            vec![
                ("authorization", format!("Bearer {valid}")),
                ("authorization", "Bearer garbage".into()),
            ],
        ),
        (
            "two Cookie headers, the attacker's access_token first",
            vec![("cookie", "access_token=attacker".into()), cookie()],
        ),
        (
            "two access_token cookies, the attacker's first",
            vec![(
                "cookie",
                format!("access_token=attacker; access_token={valid}"),
            )],
        ),
        (
            "two access_token cookies, both valid",
            vec![(
                "cookie",
                format!("access_token={valid}; access_token={valid}"),
            )],
        ),
        (
            "cookie with garbage",
            vec![("cookie", "access_token=garbage".into())],
        ),
    ]);
    attacks
        .into_iter()
        .map(|(name, headers)| (name.to_owned(), headers))
        .collect()
}

/// The request as each kind of API Gateway delivers it: the same rules hold
/// behind every event source (CONTRACT §2).
fn through_every_source(headers: &[(&str, String)]) -> [(&'static str, Request); 2] {
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    [
        ("HTTP API", http_api_event("DELETE", PATH, &headers)),
        ("REST API", rest_api_event("DELETE", PATH, &headers)),
    ]
}

async fn send(request: lambda_http::Request) -> (Answer, Fakes) {
    let fakes = Fakes::connected();
    let answer = Answer::from(handle(&fakes.use_case(), request).await);
    (answer, fakes)
}

#[tokio::test]
async fn every_attack_in_the_corpus_is_401_and_changes_nothing() {
    let attacks = attacks();
    let count = attacks.len();

    for (attack, headers) in attacks {
        for (source, request) in through_every_source(&headers) {
            let name = format!("{attack} ({source})");
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
    }
    println!(
        "JWT attack corpus: {count} cases, each behind an HTTP API and a REST API, all refused"
    );
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
            "cookie from the web app's origin on another site",
            vec![
                ("cookie", format!("access_token={valid}")),
                ("origin", WEB_APP_ORIGIN.into()),
                ("sec-fetch-site", "cross-site".into()),
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
        for (source, request) in through_every_source(&headers) {
            let (answer, _) = send(request).await;
            assert_eq!(answer.status, 200, "{name} ({source}): {}", answer.body);
        }
    }
}
