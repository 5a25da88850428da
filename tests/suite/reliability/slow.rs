//! Slow is not broken: dependencies that answer late, but within the
//! invocation deadline, still give a complete disconnect.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_http::RequestExt;
use test_world::fault_proxy::Fault;
use wiremock::ResponseTemplate;

use crate::support::test_app::{TestApp, delete_as, sdk_config};

const LATENCY: Duration = Duration::from_millis(300);

#[tokio::test]
async fn every_dependency_answering_late_within_the_deadline_still_disconnects() {
    let app = TestApp::start().await;
    let key = app.connect("user-1", Some(42)).await;
    app.github_answers(ResponseTemplate::new(204).set_delay(LATENCY))
        .await;
    let proxy = app.aws_proxy().await;
    proxy.inject(None, Fault::Delay(LATENCY));
    let slow = sdk_config(&proxy.endpoint).await;
    let mut aws = app.aws.clone();
    aws.dynamodb = aws_sdk_dynamodb::Client::new(&slow);
    aws.kms = aws_sdk_kms::Client::new(&slow);
    aws.secrets_manager = aws_sdk_secretsmanager::Client::new(&slow);
    let mut context = lambda_http::Context::default();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    context.deadline = (now + Duration::from_secs(5)).as_millis() as u64;

    let answer = app
        .send_with(
            &aws,
            delete_as("user-1", "acme", "my-backend").with_lambda_context(context),
        )
        .await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["webhook"], "removed");
    app.assert_inactive(&key).await;
    let operations: Vec<String> = proxy.calls().into_iter().map(|c| c.operation).collect();
    assert!(
        operations.contains(&"GetSecretValue".to_owned()),
        "{operations:?}"
    );
}
