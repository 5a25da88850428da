//! Decrypting the OAuth token with KMS (moto): every refusal is "Session
//! expired" and changes nothing; throttling and outages are 503.

use aws_sdk_dynamodb::types::AttributeValue;
use nectr_disconnect::wiring::AwsClients;
use serde_json::json;
use test_world::fault_proxy::{AwsError, Fault};
use test_world::seed::{create_key, encrypt_token};
use wiremock::ResponseTemplate;

use crate::support::acting_user::USER;
use crate::support::test_app::{
    ItemKey, TABLE, TestApp, aws_answering, s, sdk_config, unreachable_clients,
};

async fn app_with_installation() -> TestApp {
    let app = TestApp::start().await;
    app.install(USER, Some(42)).await;
    app.github_answers(ResponseTemplate::new(204)).await;
    app
}

async fn assert_session_expired_and_nothing_changed(app: &TestApp) {
    let before = app.items().await;

    let answer = app.disconnect_as(USER, "acme", "my-backend").await;

    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.body,
        json!({"detail": "Session expired \u{2014} please log out and sign in again."})
    );
    assert_eq!(app.items().await, before);
    assert!(app.github.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn another_users_ciphertext_is_session_expired() {
    let app = app_with_installation().await;
    let theirs = app.encrypt_for("user-2", "gho_someoneelse").await;
    app.put_user(USER, Some(&theirs)).await;

    assert_session_expired_and_nothing_changed(&app).await;
}

#[tokio::test]
async fn a_garbage_ciphertext_is_session_expired() {
    let app = app_with_installation().await;
    app.put_user(USER, Some(b"definitely not a KMS ciphertext"))
        .await;

    assert_session_expired_and_nothing_changed(&app).await;
}

/// AWS answers a Decrypt whose pinned `KeyId` is not the ciphertext's key
/// with `IncorrectKeyException`; moto answers `AccessDeniedException` with
/// no message, which on AWS means an IAM denial. So KMS is reached through
/// the fault proxy, which answers as AWS does.
#[tokio::test]
async fn a_ciphertext_under_another_key_is_session_expired() {
    let mut app = app_with_installation().await;
    let other_key = create_key(&app.aws.kms).await;
    let ciphertext = encrypt_token(&app.aws.kms, &other_key, USER, "gho_otherkey").await;
    app.put_user(USER, Some(&ciphertext)).await;
    let kms = app.aws_proxy().await;
    kms.inject(
        Some("Decrypt"),
        Fault::Aws(AwsError {
            status: 400,
            code: "IncorrectKeyException",
            message: "The key ID in the request does not identify a CMK that can perform this operation.",
        }),
    );
    app.aws.kms = aws_sdk_kms::Client::new(&sdk_config(&kms.endpoint).await);

    assert_session_expired_and_nothing_changed(&app).await;
}

/// `ciphertext` as the user's token, KMS reached through the fault proxy:
/// Session expired, nothing changed, and the calls KMS received.
async fn session_expired_with(ciphertext: &[u8], kms_answer: Option<AwsError>) -> Vec<String> {
    let mut app = app_with_installation().await;
    app.put_user(USER, Some(ciphertext)).await;
    let kms = app.aws_proxy().await;
    if let Some(answer) = kms_answer {
        kms.inject(Some("Decrypt"), Fault::Aws(answer));
    }
    app.aws.kms = aws_sdk_kms::Client::new(&sdk_config(&kms.endpoint).await);

    assert_session_expired_and_nothing_changed(&app).await;
    kms.calls().into_iter().map(|call| call.operation).collect()
}

/// DynamoDB keeps an empty binary attribute outside the key; KMS's Decrypt
/// takes 1 to 6144 bytes and answers anything else ValidationException.
#[tokio::test]
async fn an_empty_github_token_is_session_expired_without_asking_kms() {
    let asked = session_expired_with(b"", None).await;

    assert!(asked.is_empty(), "{asked:?}");
}

#[tokio::test]
async fn a_github_token_longer_than_kms_takes_is_session_expired_without_asking_kms() {
    let asked = session_expired_with(&[7u8; 6145], None).await;

    assert!(asked.is_empty(), "{asked:?}");
}

#[tokio::test]
async fn a_ciphertext_kms_answers_validation_exception_for_is_session_expired() {
    let asked = session_expired_with(
        b"a ciphertext KMS finds out of bounds",
        Some(AwsError {
            status: 400,
            code: "ValidationException",
            message: "1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length less than or equal to 6144",
        }),
    )
    .await;

    assert_eq!(asked, ["Decrypt"]);
}

#[tokio::test]
async fn a_user_without_a_github_token_is_session_expired() {
    let app = app_with_installation().await;
    app.put_user(USER, None).await;

    assert_session_expired_and_nothing_changed(&app).await;
}

#[tokio::test]
async fn a_github_token_of_the_wrong_type_is_session_expired() {
    let app = app_with_installation().await;
    app.put_user(USER, None).await;
    let user = ItemKey::user(USER);
    app.aws
        .dynamodb
        .update_item()
        .table_name(TABLE)
        .key("pk", s(&user.pk))
        .key("sk", s(&user.sk))
        .update_expression("SET github_token = :t")
        .expression_attribute_values(":t", AttributeValue::S("plaintext?".into()))
        .send()
        .await
        .unwrap();

    assert_session_expired_and_nothing_changed(&app).await;
}

#[tokio::test]
async fn throttled_kms_is_503_and_changes_nothing() {
    let app = app_with_installation().await;
    app.seed_user(USER, "gho_token").await;
    let kms = aws_answering(400, "application/x-amz-json-1.1", "ThrottlingException").await;
    let aws = AwsClients {
        kms: aws_sdk_kms::Client::new(&sdk_config(&kms.uri()).await),
        ..app.aws.clone()
    };

    app.assert_unavailable_through(&aws, "KMS throttled").await;
    assert!(
        !kms.received_requests().await.unwrap().is_empty(),
        "KMS was asked"
    );
}

#[tokio::test]
async fn unreachable_kms_is_503_and_changes_nothing() {
    let app = app_with_installation().await;
    app.seed_user(USER, "gho_token").await;
    let aws = AwsClients {
        kms: unreachable_clients().await.kms,
        ..app.aws.clone()
    };

    app.assert_unavailable_through(&aws, "KMS unreachable")
        .await;
}
