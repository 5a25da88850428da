//! The webhook delete is a valid request by GitHub's own OpenAPI description:
//! Prism, serving that description with request validation on, stands in for
//! GitHub.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::support::world::World;
use test_world::prism::Prism;

use crate::support::subject::USER;

#[tokio::test]
async fn the_webhook_delete_is_a_valid_request_by_githubs_openapi_description() {
    let (mut world, prism) = tokio::join!(World::start(), Prism::github());
    let key = world.connect(USER, Some(42)).await;
    world.env.insert("GITHUB_API_URL", prism.url.clone());
    // The control: the mock refuses a request the description does not allow.
    let invalid = reqwest::Client::new()
        .delete(format!(
            "{}/repos/acme/my-backend/hooks/not-a-number",
            prism.url
        ))
        .send()
        .await
        .expect("Prism answers");
    assert_eq!(invalid.status(), 422);
    let _control = prism.log();

    let answer = world.disconnect_as(USER, "acme", "my-backend").await;

    assert_eq!(answer.status, 200);
    // Prism answers a valid request with the description's 204.
    assert_eq!(answer.body["webhook"], "removed", "{}", answer.body);
    assert_eq!(
        world.item(&key).await["is_active"],
        AttributeValue::Bool(false)
    );
    let log = prism.log();
    let received: Vec<&String> = log
        .iter()
        .filter(|line| line.contains("Request received"))
        .collect();
    assert_eq!(received.len(), 1, "{log:#?}");
    assert!(
        received[0].contains("delete /repos/acme/my-backend/hooks/42"),
        "{log:#?}"
    );
    let verdicts: Vec<&String> = log
        .iter()
        .filter(|line| line.contains("[VALIDATOR]"))
        .collect();
    assert_eq!(verdicts.len(), 1, "{log:#?}");
    assert!(
        verdicts[0].contains("The request passed the validation rules"),
        "{log:#?}"
    );
}
