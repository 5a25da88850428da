//! No JWT, OAuth token, signing key or ciphertext ever reaches a log line,
//! at any level, whatever path a request takes.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use test_world::jwt::{FIXTURE_KEY, claims, hs256};
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

use crate::support::events::http_api_event;
use crate::support::logs::capture;
use crate::support::test_app::{Seed, TestApp};

#[tokio::test]
async fn no_secret_reaches_the_logs_on_any_path() {
    let app = TestApp::start().await;
    let oauth_token = "gho_logscantoken0123456789";
    let ciphertext = app.seed_user("user-1", oauth_token).await;
    let foreign = app
        .encrypt_for("user-2", "gho_foreigntoken0123456789")
        .await;
    app.put_user("user-3", Some(&foreign)).await;
    for (user, repo) in [
        ("user-1", "ok"),
        ("user-1", "github-fails"),
        ("user-3", "ok"),
    ] {
        app.seed_installation(Seed {
            user,
            repo_full_name: &format!("acme/{repo}"),
            installation_id: "inst",
            webhook_id: Some(7),
            is_active: true,
        })
        .await;
    }
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(403))
        .mount(&app.github)
        .await;
    let good = hs256(FIXTURE_KEY, &claims("user-1"));
    let forged = hs256(b"attacker-guessed-key", &claims("user-1"));
    let session_expired = hs256(FIXTURE_KEY, &claims("user-3"));
    let path = |repo: &str| format!("/api/v1/repos/acme/{repo}/install");

    // Seeding above logs what the test itself sends; capture the function.
    let (logs, _guard) = capture();
    let mut statuses = Vec::new();
    for (token, repo) in [
        (&good, "github-fails"),
        (&good, "ok"),
        (&forged, "ok"),
        (&session_expired, "ok"),
    ] {
        let request = http_api_event(
            "DELETE",
            &path(repo),
            &[("authorization", &format!("Bearer {token}"))],
        );
        statuses.push(app.send(request).await.status);
    }
    let cookie = format!("access_token={good}");
    let request = http_api_event("DELETE", &path("never"), &[("cookie", &cookie)]);
    statuses.push(app.send(request).await.status);

    assert_eq!(statuses, [200, 200, 401, 401, 404], "every path was taken");
    let text = logs.text();
    assert!(
        text.contains("GitHub refused to remove the webhook"),
        "logs were captured:\n{text}"
    );
    let secrets: Vec<(&str, String)> = vec![
        ("JWT", good.clone()),
        ("JWT signature", good.rsplit('.').next().unwrap().to_owned()),
        ("forged JWT", forged.clone()),
        ("JWT of user-3", session_expired.clone()),
        (
            "signing key",
            String::from_utf8(FIXTURE_KEY.to_vec()).unwrap(),
        ),
        ("OAuth token", oauth_token.to_owned()),
        (
            "foreign OAuth token",
            "gho_foreigntoken0123456789".to_owned(),
        ),
        ("ciphertext (base64)", STANDARD.encode(&ciphertext)),
        (
            "ciphertext (base64url)",
            URL_SAFE_NO_PAD.encode(&ciphertext),
        ),
        ("foreign ciphertext (base64)", STANDARD.encode(&foreign)),
    ];
    for (name, secret) in secrets {
        assert!(!text.contains(&secret), "the {name} appears in the logs");
    }
}
