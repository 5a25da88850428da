//! Secrets Manager or DynamoDB throttled or unreachable: 503 with
//! `Retry-After`, and nothing changed.

use nectr_disconnect::config;
use nectr_disconnect::wiring::AwsClients;
use serde_json::json;
use wiremock::MockServer;

use crate::support::acting_user::USER;
use crate::support::test_app::{TestApp, aws_answering, sdk_config, unreachable_clients};

#[derive(Clone, Copy, Debug)]
enum Service {
    SecretsManager,
    DynamoDb,
}

#[tokio::test]
async fn secrets_manager_or_dynamodb_unreachable_throttled_or_failing_is_503() {
    for (service, error) in [
        (Service::SecretsManager, None),
        (Service::SecretsManager, Some((400, "ThrottlingException"))),
        (Service::DynamoDb, None),
        (
            Service::DynamoDb,
            Some((400, "ProvisionedThroughputExceededException")),
        ),
        (Service::DynamoDb, Some((500, "InternalServerError"))),
    ] {
        let (app, _) = TestApp::connected().await;
        let (aws, _stub) = broken(&app, service, error).await;
        let broken = match error {
            None => format!("{service:?} unreachable"),
            Some((status, code)) => format!("{service:?} answering {status} {code}"),
        };
        app.assert_unavailable_through(&aws, &broken).await;
    }
}

/// The app's clients with `service`'s unreachable (no `error`) or
/// answering every call with that status and AWS error code; the stub
/// answers as long as it is kept.
async fn broken(
    app: &TestApp,
    service: Service,
    error: Option<(u16, &str)>,
) -> (AwsClients, Option<MockServer>) {
    let mut aws = app.aws.clone();
    let Some((status, code)) = error else {
        let unreachable = unreachable_clients().await;
        match service {
            Service::SecretsManager => aws.secrets_manager = unreachable.secrets_manager,
            Service::DynamoDb => aws.dynamodb = unreachable.dynamodb,
        }
        return (aws, None);
    };
    let stub = match service {
        Service::SecretsManager => aws_answering(status, "application/x-amz-json-1.1", code).await,
        Service::DynamoDb => {
            let code = format!("com.amazonaws.dynamodb.v20120810#{code}");
            aws_answering(status, "application/x-amz-json-1.0", &code).await
        }
    };
    let config = sdk_config(&stub.uri()).await;
    match service {
        Service::SecretsManager => {
            aws.secrets_manager = aws_sdk_secretsmanager::Client::new(&config)
        }
        Service::DynamoDb => aws.dynamodb = aws_sdk_dynamodb::Client::new(&config),
    }
    (aws, Some(stub))
}

#[tokio::test]
async fn a_missing_table_is_500_without_internal_detail() {
    let (mut app, _) = TestApp::connected().await;
    app.env.insert(config::TABLE_NAME, "no-such-table".into());
    let before = app.items().await;

    let answer = app.disconnect_as(USER, "acme", "my-backend").await;

    assert_eq!(answer.status, 500);
    assert_eq!(answer.body, json!({"detail": "Internal Server Error"}));
    assert_eq!(app.items().await, before);
}
