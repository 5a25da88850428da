//! Removing the webhook on GitHub (a wiremock server): every answer, or
//! none, still disconnects; the body says what happened to the webhook.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::RequestExt;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use nectr_disconnect::app::AwsClients;

use crate::support::world::{World, delete_as, unreachable_clients};
use test_world::free_port;

use crate::support::subject::USER;
const HOOK: &str = "/repos/acme/my-backend/hooks/42";

async fn connected_world(webhook_id: Option<u64>) -> (World, (String, String)) {
    let mut world = World::start().await;
    world.env.insert("GITHUB_TIMEOUT_MS", "300".into());
    let key = world.connect(USER, webhook_id).await;
    (world, key)
}

async fn github_answers(world: &World, response: ResponseTemplate) {
    Mock::given(method("DELETE"))
        .and(path(HOOK))
        .respond_with(response)
        .mount(&world.github)
        .await;
}

async fn assert_disconnected_with(world: &World, key: &(String, String), webhook: &str) {
    let answer = world.disconnect_as(USER, "acme", "my-backend").await;

    assert_eq!(answer.status, 200, "{webhook}");
    assert_eq!(answer.body, world.disconnected_body(webhook));
    assert_eq!(
        world.item(key).await["is_active"],
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
        (ResponseTemplate::new(404), "already_gone"),
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
        let (world, key) = connected_world(Some(42)).await;
        github_answers(&world, response).await;
        assert_disconnected_with(&world, &key, webhook).await;
    }
}

#[tokio::test]
async fn github_refusing_connections_is_failed_and_still_disconnects() {
    let (mut world, key) = connected_world(Some(42)).await;
    world.env.insert(
        "GITHUB_API_URL",
        format!("https://127.0.0.1:{}", free_port()),
    );
    assert_disconnected_with(&world, &key, "failed").await;
}

#[tokio::test]
async fn without_a_webhook_github_and_kms_are_never_called() {
    let (world, key) = connected_world(None).await;
    let aws = AwsClients {
        kms: unreachable_clients().await.kms,
        ..world.aws.clone()
    };

    let answer = world
        .send_with(&aws, delete_as(USER, "acme", "my-backend"))
        .await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["webhook"], "not_configured");
    assert_eq!(
        world.item(&key).await["is_active"],
        AttributeValue::Bool(false)
    );
    assert!(world.github.received_requests().await.unwrap().is_empty());
}

fn with_deadline(deadline_ms: u64) -> lambda_http::Request {
    let mut context = lambda_http::Context::default();
    context.deadline = deadline_ms;
    delete_as(USER, "acme", "my-backend").with_lambda_context(context)
}

#[tokio::test]
async fn an_invocation_without_time_left_is_503_and_calls_nothing() {
    let (world, key) = connected_world(Some(42)).await;
    github_answers(&world, ResponseTemplate::new(204)).await;
    let before = world.item(&key).await;
    let in_100_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        + 100;

    let answer = world.send(with_deadline(in_100_ms)).await;

    assert_eq!(answer.status, 503);
    assert_eq!(world.item(&key).await, before);
    assert!(world.github.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_deadline_that_is_not_an_epoch_time_does_not_cut_the_github_call() {
    // `cargo lambda watch` sends its 10-minute timeout as the deadline.
    let (world, key) = connected_world(Some(42)).await;
    github_answers(&world, ResponseTemplate::new(204)).await;

    let answer = world.send(with_deadline(600_000)).await;

    assert_eq!(answer.body["webhook"], "removed");
    assert_eq!(
        world.item(&key).await["is_active"],
        AttributeValue::Bool(false)
    );
}
