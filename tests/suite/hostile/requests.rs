//! Bodies, query strings and headers of odd sizes and encodings on the
//! DELETE: ignored when harmless, refused when they carry credentials, never
//! a panic.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use nectr_disconnect::http::lambda_event::request_from_json;
use serde_json::{Value, json};
use test_world::jwt::{FIXTURE_KEY, claims, hs256};

use crate::support::acting_user::{PATH, USER};
use crate::support::events::{Answer, http_api_json, request};
use crate::support::handler::handle;
use crate::support::use_case::Fakes;

fn authorized() -> Value {
    let token = hs256(FIXTURE_KEY, &claims(USER));
    http_api_json(
        "DELETE",
        PATH,
        &[("authorization", &format!("Bearer {token}"))],
    )
}

async fn send(event: Value) -> Answer {
    let fakes = Fakes::connected();
    Answer::from(handle(&fakes.use_case(), request(event)).await)
}

#[tokio::test]
async fn odd_bodies_are_ignored() {
    let huge = "x".repeat(1024 * 1024);
    let binary = STANDARD.encode((0..=255u8).cycle().take(64 * 1024).collect::<Vec<u8>>());
    let cases: Vec<(&str, Value)> = vec![
        (
            "1 MiB text body",
            json!({"body": huge, "isBase64Encoded": false}),
        ),
        (
            "binary body, base64",
            json!({"body": binary, "isBase64Encoded": true}),
        ),
        (
            "JSON body asking for something else",
            json!({"body": r#"{"repo":"other/repo","user":"admin"}"#}),
        ),
        (
            "body with NUL and invalid-looking UTF-16",
            json!({"body": "\u{0}\u{fffd}\u{d7ff}"}),
        ),
        (
            "body flagged base64 that is not",
            json!({"body": "%%% not base64 %%%", "isBase64Encoded": true}),
        ),
    ];
    for (name, extra) in cases {
        let mut event = authorized();
        event
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let answer = send(event).await;
        assert_eq!(answer.status, 200, "{name}: {}", answer.body);
        assert_eq!(answer.body["repo"], "acme/my-backend", "{name}");
    }
}

#[tokio::test]
async fn odd_query_strings_are_ignored() {
    for query in [
        "a=%ZZ&&&=x&%".to_owned(),
        "repo=other%2Frepo&owner=evil".to_owned(),
        format!("q={}", "%41".repeat(16 * 1024)),
        "\u{1F600}=\u{0}".to_owned(),
        "a b=\"<quoted>\"".to_owned(),
    ] {
        let mut event = authorized();
        event["rawQueryString"] = json!(query);
        let answer = send(event).await;
        assert_eq!(answer.status, 200, "{query:.40}: {}", answer.body);
        assert_eq!(answer.body["repo"], "acme/my-backend");
    }
}

#[tokio::test]
async fn odd_headers_are_ignored() {
    let mut event = authorized();
    let headers = event["headers"].as_object_mut().unwrap();
    for n in 0..200 {
        headers.insert(format!("x-filler-{n}"), json!("y".repeat(256)));
    }
    headers.insert("x-unicode".into(), json!("h\u{e9}llo \u{1F600}"));
    headers.insert(
        "content-type".into(),
        json!("application/x-www-form-urlencoded; charset=utf-7"),
    );
    headers.insert("content-length".into(), json!("-1"));
    headers.insert("x-http-method-override".into(), json!("GET"));
    headers.insert("x-forwarded-host".into(), json!("evil.example"));

    let answer = send(event).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn hosts_that_are_not_valid_authorities_are_ignored() {
    for host in ["exa mple", "a:b", "[::1", "x:99999", "@", "%zz"] {
        let mut event = authorized();
        event["headers"]["host"] = json!(host);
        event["requestContext"]["domainName"] = json!(host);
        let answer = send(event).await;
        assert_eq!(answer.status, 200, "{host}: {}", answer.body);
    }
}

#[tokio::test]
async fn credentials_in_odd_encodings_are_refused() {
    let token = hs256(FIXTURE_KEY, &claims(USER));
    for (name, header, value) in [
        (
            "non-ASCII scheme",
            "authorization",
            format!("B\u{e9}arer {token}"),
        ),
        (
            "non-ASCII in the token",
            "authorization",
            format!("Bearer {token}\u{e9}"),
        ),
        (
            "cookie with non-ASCII",
            "cookie",
            format!("access_token=\u{1F600}{token}"),
        ),
        (
            "percent-encoded cookie",
            "cookie",
            format!("access_token={}", token.replace('.', "%2E")),
        ),
    ] {
        let event = http_api_json("DELETE", PATH, &[(header, &value)]);
        let answer = send(event).await;
        assert_eq!(answer.status, 401, "{name}: {}", answer.body);
    }
}

#[test]
fn a_header_with_a_control_character_never_reaches_the_handler() {
    // HTTP forbids control characters in header values; lambda_http refuses
    // such an event while parsing it (an error, not a panic), so the runtime
    // reports a failed invocation and the handler is never called.
    let token = hs256(FIXTURE_KEY, &claims(USER));
    let event = http_api_json(
        "DELETE",
        PATH,
        &[("authorization", &format!("Bearer {token}\u{0}"))],
    );
    assert!(request_from_json(&event.to_string()).is_err());
}
