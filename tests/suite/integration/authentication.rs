//! JWT verification with the signing key held in Secrets Manager (moto).

use jsonwebtoken::Algorithm;
use nectr_disconnect::config;
use serde_json::json;
use test_world::jwt::{
    FIXTURE_KEY, claims, hmac_signed_with_header, hs256, now, unsigned, with_algorithm,
};

use crate::support::acting_user::{PATH, USER};
use crate::support::events::http_api_event;
use crate::support::test_app::TestApp;

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn every_rejected_token_gets_401_with_www_authenticate_and_changes_nothing() {
    let (app, _) = TestApp::connected().await;
    let mut expired = claims(USER);
    expired["exp"] = json!(now() - 3600);
    let mut not_yet = claims(USER);
    not_yet["nbf"] = json!(now() + 3600);
    let mut no_sub = claims(USER);
    no_sub.as_object_mut().unwrap().remove("sub");
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("no Authorization header", vec![]),
        (
            "Bearer with garbage",
            vec![("authorization", bearer("garbage"))],
        ),
        (
            "bad signature",
            vec![("authorization", bearer(&hs256(b"wrong-key", &claims(USER))))],
        ),
        (
            "alg none",
            vec![("authorization", bearer(&unsigned(&claims(USER))))],
        ),
        (
            "HS512",
            vec![(
                "authorization",
                bearer(&with_algorithm(
                    Algorithm::HS512,
                    FIXTURE_KEY,
                    &claims(USER),
                )),
            )],
        ),
        (
            "RS256 header",
            vec![(
                "authorization",
                bearer(&hmac_signed_with_header(
                    &json!({"alg": "RS256", "typ": "JWT"}),
                    FIXTURE_KEY,
                    &claims(USER),
                )),
            )],
        ),
        (
            "expired beyond leeway",
            vec![("authorization", bearer(&hs256(FIXTURE_KEY, &expired)))],
        ),
        (
            "nbf in the future",
            vec![("authorization", bearer(&hs256(FIXTURE_KEY, &not_yet)))],
        ),
        (
            "missing sub",
            vec![("authorization", bearer(&hs256(FIXTURE_KEY, &no_sub)))],
        ),
        (
            "user without a user item",
            vec![(
                "authorization",
                bearer(&hs256(FIXTURE_KEY, &claims("nobody"))),
            )],
        ),
        (
            "Basic scheme",
            vec![("authorization", "Basic dXNlcjpwYXNz".to_owned())],
        ),
    ];
    let before = app.items().await;

    for (case, headers) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = app.send(http_api_event("DELETE", PATH, &headers)).await;

        assert_eq!(answer.status, 401, "{case}");
        assert_eq!(answer.body, json!({"detail": "Unauthorized"}), "{case}");
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"), "{case}");
    }
    assert_eq!(app.items().await, before);
    assert!(app.github.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_access_token_cookie_authenticates_when_there_is_no_header() {
    let (app, _) = TestApp::connected().await;
    let cookie = format!(
        "theme=dark; access_token={}",
        hs256(FIXTURE_KEY, &claims(USER))
    );

    let answer = app
        .send(http_api_event("DELETE", PATH, &[("cookie", &cookie)]))
        .await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["status"], "disconnected");
}

#[tokio::test]
async fn after_a_rotation_tokens_signed_with_awsprevious_or_awscurrent_are_accepted() {
    const ROTATED: &str = "the-rotated-signing-key";
    for (version, key) in [
        ("AWSPREVIOUS", FIXTURE_KEY),
        ("AWSCURRENT", ROTATED.as_bytes()),
    ] {
        let (app, _) = TestApp::connected().await;
        app.rotate_signing_key(ROTATED).await;
        let token = hs256(key, &claims(USER));

        let answer = app
            .send(http_api_event(
                "DELETE",
                PATH,
                &[("authorization", &bearer(&token))],
            ))
            .await;

        assert_eq!(answer.status, 200, "signed with {version}: {}", answer.body);
    }
}

#[tokio::test]
async fn a_rotated_away_key_stops_verifying_one_window_after_the_rotation() {
    const ROTATED: &str = "the-key-that-replaced-a-leaked-one";
    let (mut app, _) = TestApp::connected().await;
    app.env.insert(config::JWT_PREVIOUS_KEY_SECONDS, "2".into());
    app.rotate_signing_key(ROTATED).await;
    let leaked = bearer(&hs256(FIXTURE_KEY, &claims(USER)));
    let current = bearer(&hs256(ROTATED.as_bytes(), &claims(USER)));
    let with = |token: &str| http_api_event("DELETE", PATH, &[("authorization", token)]);

    let within_the_window = app.send(with(&leaked)).await;
    app.install(USER, Some(42)).await;
    // Secrets Manager's CreatedDate of AWSCURRENT is in whole seconds.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let after_the_window = app.send(with(&leaked)).await;
    let current_key = app.send(with(&current)).await;

    assert_eq!(within_the_window.status, 200, "{}", within_the_window.body);
    assert_eq!(after_the_window.status, 401, "{}", after_the_window.body);
    assert_eq!(current_key.status, 200, "{}", current_key.body);
}
