//! Removing the webhook on GitHub (a wiremock server): every answer, or
//! none, still disconnects; the body says what happened to the webhook.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::RequestExt;
use nectr_disconnect::config;
use nectr_disconnect::wiring::AwsClients;
use serde_json::json;
use test_world::free_port;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::acting_user::USER;
use crate::support::test_app::{ItemKey, TestApp, delete_as, received, unreachable_clients};

const HOOK: &str = "/repos/acme/my-backend/hooks/42";
/// The token `TestApp::connect` encrypts for the user.
const CONNECTED_TOKEN: &str = "gho_connectedtoken";
const USER_AGENT: &str = concat!("nectr-disconnect/", env!("CARGO_PKG_VERSION"));

async fn connected_app(webhook_id: Option<u64>) -> (TestApp, ItemKey) {
    let mut app = TestApp::start().await;
    app.env.insert(config::GITHUB_TIMEOUT_MS, "2000".into());
    let key = app.connect(USER, webhook_id).await;
    (app, key)
}

async fn github_answers(app: &TestApp, response: ResponseTemplate) {
    Mock::given(method("DELETE"))
        .and(path(HOOK))
        .respond_with(response)
        .mount(&app.github)
        .await;
}

async fn assert_disconnected_with(app: &TestApp, key: &ItemKey, webhook: &str) {
    let answer = app.disconnect_as(USER, "acme", "my-backend").await;

    assert_eq!(answer.status, 200, "{webhook}");
    assert_eq!(answer.body, app.disconnected_body(webhook));
    assert_eq!(
        app.item(key).await["is_active"],
        AttributeValue::Bool(false),
        "{webhook}"
    );
}

/// Whatever GitHub answers, the installation is inactive and the body
/// says what became of the hook (CONTRACT §5).
#[tokio::test]
async fn each_github_answer_is_reported_and_still_disconnects() {
    let answers = [
        (ResponseTemplate::new(204), "removed"),
        (
            ResponseTemplate::new(403)
                .set_body_json(json!({"message": "Must have admin rights to Repository."})),
            "failed",
        ),
        (ResponseTemplate::new(500), "failed"),
        // Past GITHUB_TIMEOUT_MS.
        (
            ResponseTemplate::new(204).set_delay(Duration::from_secs(5)),
            "failed",
        ),
    ];
    for (response, webhook) in answers {
        let (app, key) = connected_app(Some(42)).await;
        github_answers(&app, response).await;
        assert_disconnected_with(&app, &key, webhook).await;
    }
}

/// GitHub's answer to `GET /repos/acme/my-backend` for a token whose user
/// may or may not administer the repository.
fn repository(admin: bool) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": 1296269,
        "full_name": "acme/my-backend",
        "private": true,
        "permissions": {"admin": admin, "maintain": admin, "push": true, "triage": true, "pull": true}
    }))
}

/// The repository check after a 404 answers `response`, and only to the
/// request the DELETE was: the same token and GitHub's headers.
async fn repository_answers(app: &TestApp, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path("/repos/acme/my-backend"))
        .and(header("authorization", format!("Bearer {CONNECTED_TOKEN}")))
        .and(header("accept", "application/vnd.github+json"))
        .and(header("x-github-api-version", "2022-11-28"))
        .and(header("user-agent", USER_AGENT))
        .respond_with(response)
        .mount(&app.github)
        .await;
}

/// GitHub answers 404 both for a hook that is gone and for a token that
/// may not administer the repository (CONTRACT §5).
#[tokio::test]
async fn a_404_is_already_gone_only_when_the_caller_still_administers_the_repository() {
    let answers = [
        (repository(true), "already_gone"),
        (repository(false), "failed"),
        (ResponseTemplate::new(404), "failed"),
        (
            ResponseTemplate::new(403).set_body_json(json!({"message": "Resource not accessible"})),
            "failed",
        ),
    ];
    for (answer, webhook) in answers {
        let (app, key) = connected_app(Some(42)).await;
        github_answers(&app, ResponseTemplate::new(404)).await;
        repository_answers(&app, answer).await;

        assert_disconnected_with(&app, &key, webhook).await;

        assert_eq!(
            received(&app.github).await,
            [
                format!("DELETE {HOOK}"),
                "GET /repos/acme/my-backend".into()
            ],
            "{webhook}"
        );
    }
}

/// `repository(true)` for a token whose scopes GitHub reports in
/// `X-OAuth-Scopes`, of a repository that is private or not.
fn repository_for_scopes(scopes: &str, private: bool) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("x-oauth-scopes", scopes)
        .set_body_json(json!({
            "full_name": "acme/my-backend",
            "private": private,
            "permissions": {"admin": true, "maintain": true, "push": true, "triage": true, "pull": true}
        }))
}

/// The user's role says nothing of what the token may do: where GitHub
/// reports the token's scopes, `already_gone` also needs one that may
/// delete hooks (CONTRACT §5).
#[tokio::test]
async fn a_404_is_already_gone_only_when_the_tokens_scopes_may_delete_hooks() {
    for (scopes, private, webhook) in [
        ("repo, read:org", true, "already_gone"),
        ("admin:repo_hook", true, "already_gone"),
        ("public_repo", false, "already_gone"),
        ("public_repo", true, "failed"),
        ("read:org, write:repo_hook", true, "failed"),
        ("", false, "failed"),
    ] {
        let (app, key) = connected_app(Some(42)).await;
        github_answers(&app, ResponseTemplate::new(404)).await;
        repository_answers(&app, repository_for_scopes(scopes, private)).await;

        let answer = app.disconnect_as(USER, "acme", "my-backend").await;

        assert_eq!(answer.status, 200, "{scopes:?}");
        assert_eq!(answer.body, app.disconnected_body(webhook), "{scopes:?}");
        app.assert_inactive(&key).await;
    }
}

/// No GitHub answer is read past 1 MiB: a longer one is a transient
/// failure, the job queued.
#[tokio::test]
async fn a_repository_answer_longer_than_a_mebibyte_is_a_transient_failure() {
    let (mut app, key) = connected_app(Some(42)).await;
    app.use_cleanup_queue().await;
    github_answers(&app, ResponseTemplate::new(404)).await;
    let padding = "x".repeat(1024 * 1024);
    repository_answers(
        &app,
        ResponseTemplate::new(200).set_body_json(json!({
            "permissions": {"admin": true},
            "description": padding
        })),
    )
    .await;

    let answer = app.disconnect_as(USER, "acme", "my-backend").await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, app.disconnected_body("scheduled"));
    app.assert_inactive(&key).await;
}

#[tokio::test]
async fn only_a_404_costs_the_repository_check() {
    let (app, key) = connected_app(Some(42)).await;
    github_answers(&app, ResponseTemplate::new(204)).await;
    repository_answers(&app, repository(true)).await;

    assert_disconnected_with(&app, &key, "removed").await;

    assert_eq!(app.github.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_repository_check_that_fails_transiently_is_a_transient_failure_of_the_removal() {
    for (answer, case) in [
        (ResponseTemplate::new(502), "502"),
        (
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", "18446744073709551615"),
            "rate limit",
        ),
        (
            repository(true).set_delay(Duration::from_secs(5)),
            "time-out",
        ),
    ] {
        let (mut app, key) = connected_app(Some(42)).await;
        app.use_cleanup_queue().await;
        github_answers(&app, ResponseTemplate::new(404)).await;
        repository_answers(&app, answer).await;

        let answer = app.disconnect_as(USER, "acme", "my-backend").await;

        assert_eq!(answer.status, 200, "{case}");
        assert_eq!(answer.body, app.disconnected_body("scheduled"), "{case}");
        assert_eq!(
            app.item(&key).await["is_active"],
            AttributeValue::Bool(false),
            "{case}"
        );
    }
}

#[tokio::test]
async fn github_refusing_connections_is_failed_and_still_disconnects() {
    let (mut app, key) = connected_app(Some(42)).await;
    app.env.insert(
        config::GITHUB_API_URL,
        format!("https://127.0.0.1:{}", free_port()),
    );
    assert_disconnected_with(&app, &key, "failed").await;
}

#[tokio::test]
async fn without_a_webhook_github_and_kms_are_never_called() {
    let (app, key) = connected_app(None).await;
    let aws = AwsClients {
        kms: unreachable_clients().await.kms,
        ..app.aws.clone()
    };

    let answer = app
        .send_with(&aws, delete_as(USER, "acme", "my-backend"))
        .await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["webhook"], "not_configured");
    app.assert_inactive(&key).await;
    assert!(app.github.received_requests().await.unwrap().is_empty());
}

fn with_deadline(deadline_ms: u64) -> lambda_http::Request {
    let mut context = lambda_http::Context::default();
    context.deadline = deadline_ms;
    delete_as(USER, "acme", "my-backend").with_lambda_context(context)
}

#[tokio::test]
async fn an_invocation_without_time_left_is_503_and_calls_nothing() {
    let (app, key) = connected_app(Some(42)).await;
    github_answers(&app, ResponseTemplate::new(204)).await;
    let before = app.item(&key).await;
    let in_100_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        + 100;

    let answer = app.send(with_deadline(in_100_ms)).await;

    assert_eq!(answer.status, 503);
    assert_eq!(app.item(&key).await, before);
    assert!(app.github.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_deadline_that_is_not_an_epoch_time_does_not_cut_the_github_call() {
    // `cargo lambda watch` sends its 10-minute timeout as the deadline.
    let (app, key) = connected_app(Some(42)).await;
    github_answers(&app, ResponseTemplate::new(204)).await;

    let answer = app.send(with_deadline(600_000)).await;

    assert_eq!(answer.body["webhook"], "removed");
    app.assert_inactive(&key).await;
}
