//! Secrets Manager or DynamoDB throttled or unreachable: 503 with
//! `Retry-After`, and nothing changed.

use serde_json::json;
use wiremock::ResponseTemplate;

use nectr_disconnect::app::AwsClients;

use crate::support::world::{World, aws_answering, sdk_config, unreachable_clients};

use crate::support::subject::USER;

async fn connected_world() -> World {
    let world = World::start().await;
    world.connect(USER, Some(42)).await;
    world.github_answers(ResponseTemplate::new(204)).await;
    world
}

#[tokio::test]
async fn unreachable_secrets_manager_is_503() {
    let world = connected_world().await;
    let aws = AwsClients {
        secrets_manager: unreachable_clients().await.secrets_manager,
        ..world.aws.clone()
    };
    world.assert_unavailable_through(&aws).await;
}

#[tokio::test]
async fn throttled_secrets_manager_is_503() {
    let world = connected_world().await;
    let stub = aws_answering(400, "application/x-amz-json-1.1", "ThrottlingException").await;
    let aws = AwsClients {
        secrets_manager: aws_sdk_secretsmanager::Client::new(&sdk_config(&stub.uri()).await),
        ..world.aws.clone()
    };
    world.assert_unavailable_through(&aws).await;
}

#[tokio::test]
async fn unreachable_dynamodb_is_503() {
    let world = connected_world().await;
    let aws = AwsClients {
        dynamodb: unreachable_clients().await.dynamodb,
        ..world.aws.clone()
    };
    world.assert_unavailable_through(&aws).await;
}

#[tokio::test]
async fn throttled_dynamodb_is_503() {
    assert_dynamodb_answering_is_503(400, "ProvisionedThroughputExceededException").await;
}

#[tokio::test]
async fn dynamodb_failing_on_its_side_is_503() {
    assert_dynamodb_answering_is_503(500, "InternalServerError").await;
}

async fn assert_dynamodb_answering_is_503(status: u16, error: &str) {
    let world = connected_world().await;
    let stub = aws_answering(
        status,
        "application/x-amz-json-1.0",
        &format!("com.amazonaws.dynamodb.v20120810#{error}"),
    )
    .await;
    let aws = AwsClients {
        dynamodb: aws_sdk_dynamodb::Client::new(&sdk_config(&stub.uri()).await),
        ..world.aws.clone()
    };
    world.assert_unavailable_through(&aws).await;
}

#[tokio::test]
async fn a_missing_table_is_500_without_internal_detail() {
    let mut world = connected_world().await;
    world.env.insert("TABLE_NAME", "no-such-table".into());
    let before = world.items().await;

    let answer = world.disconnect_as(USER, "acme", "my-backend").await;

    assert_eq!(answer.status, 500);
    assert_eq!(answer.body, json!({"detail": "Internal Server Error"}));
    assert_eq!(world.items().await, before);
}
