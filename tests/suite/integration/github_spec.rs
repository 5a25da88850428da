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
