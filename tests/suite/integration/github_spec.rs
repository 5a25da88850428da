//! The webhook delete, and the repository check a 404 leads to, are valid
//! requests by GitHub's own OpenAPI description: Prism, serving that
//! description with request validation on, stands in for GitHub, as a mock
//! or in front of a stub that answers what the examples do not.

use std::time::{Duration, Instant};

use nectr_disconnect::config;
use serde_json::json;
use test_world::prism::Prism;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::acting_user::USER;
use crate::support::test_app::{ItemKey, TestApp, received};

/// USER connected with webhook 42, the function's GitHub the `prism`
/// `started` with it, and the control passed.
async fn connected_through(started: impl Future<Output = Prism>) -> (TestApp, ItemKey, Prism) {
    let (mut app, prism) = tokio::join!(TestApp::start(), started);
    let key = app.connect(USER, Some(42)).await;
    app.env.insert(config::GITHUB_API_URL, prism.url.clone());
    refuses_an_invalid_request(&prism).await;
    (app, key, prism)
}

/// The control: Prism refuses a request the description does not allow.
/// Its log line may come after its answer, so it is drained here, before
/// the run whose lines the test reads.
async fn refuses_an_invalid_request(prism: &Prism) {
    let invalid = reqwest::Client::new()
        .delete(format!(
            "{}/repos/acme/my-backend/hooks/not-a-number",
            prism.url
        ))
        .send()
        .await
        .expect("Prism answers");
    assert_eq!(invalid.status(), 422);
    let give_up = Instant::now() + Duration::from_secs(10);
    let mut control = Vec::new();
    while !control
        .iter()
        .any(|line: &String| line.contains("Invalid request"))
    {
        assert!(Instant::now() < give_up, "{control:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
        control.extend(prism.log());
    }
}

#[tokio::test]
async fn the_webhook_delete_is_a_valid_request_by_githubs_openapi_description() {
    let (app, key, prism) = connected_through(Prism::github()).await;

    let answer = app.disconnect_as(USER, "acme", "my-backend").await;

    assert_eq!(answer.status, 200);
    // Prism answers a valid request with the description's 204.
    assert_eq!(answer.body["webhook"], "removed", "{}", answer.body);
    app.assert_inactive(&key).await;
    let log = prism.log();
    // Exactly one request, the hook's DELETE, and Prism found it valid.
    for (marker, says) in [
        ("Request received", "delete /repos/acme/my-backend/hooks/42"),
        ("[VALIDATOR]", "The request passed the validation rules"),
    ] {
        let lines: Vec<&String> = log.iter().filter(|line| line.contains(marker)).collect();
        assert_eq!(lines.len(), 1, "{log:#?}");
        assert!(lines[0].contains(says), "{log:#?}");
    }
}

/// GitHub's 404, as its description gives it (`basic-error`).
fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404"
    }))
}

#[tokio::test]
async fn the_repository_check_after_a_404_is_a_valid_request_by_githubs_openapi_description() {
    let upstream = MockServer::start().await;
    for verb in ["DELETE", "GET"] {
        Mock::given(method(verb))
            .respond_with(not_found())
            .mount(&upstream)
            .await;
    }
    let upstream_url = upstream.uri();
    let (app, key, prism) = connected_through(Prism::github_in_front_of(&upstream_url)).await;
    assert!(
        upstream.received_requests().await.unwrap().is_empty(),
        "Prism forwarded an invalid request"
    );

    let answer = app.disconnect_as(USER, "acme", "my-backend").await;

    assert_eq!(answer.status, 200);
    // A 404 for the repository too: the token may not administer it.
    assert_eq!(answer.body["webhook"], "failed", "{}", answer.body);
    app.assert_inactive(&key).await;
    // Prism forwarded both: each passed its validation.
    assert_eq!(
        received(&upstream).await,
        [
            "DELETE /repos/acme/my-backend/hooks/42",
            "GET /repos/acme/my-backend"
        ]
    );
    let log = prism.log();
    assert!(!log.iter().any(|line| line.contains("error")), "{log:#?}");
}
