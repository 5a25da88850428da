//! The disconnect itself against moto and a wiremock GitHub: responses and
//! the resulting DynamoDB items, attribute by attribute.

use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use aws_sdk_dynamodb::types::AttributeValue;
use nectr_disconnect::adapters::{DynamoDbInstallations, dynamodb};
use nectr_disconnect::domain::{Installation, RepoName, UserId};
use nectr_disconnect::ports::{Deactivation, Disconnection, InstallationStore};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::acting_user::USER;
use crate::support::test_app::{Item, ItemKey, Seed, TABLE, TestApp, delete_as, s, sdk_config};

const OAUTH_TOKEN: &str = "gho_integrationtoken1";

async fn github_answers(app: &TestApp, hook_path: &str, status: u16) {
    Mock::given(method("DELETE"))
        .and(path(hook_path))
        .respond_with(ResponseTemplate::new(status))
        .mount(&app.github)
        .await;
}

/// USER connected to acme/my-backend (`inst-1`, webhook 42), which GitHub
/// removes: the app and the installation's key.
async fn connected() -> (TestApp, ItemKey) {
    let app = TestApp::start().await;
    app.seed_user(USER, OAUTH_TOKEN).await;
    let key = app
        .seed_installation(seed(USER, "acme/my-backend", "inst-1", Some(42), true))
        .await;
    github_answers(&app, "/repos/acme/my-backend/hooks/42", 204).await;
    (app, key)
}

fn seed<'a>(
    user: &'a str,
    repo: &'a str,
    id: &'a str,
    webhook: Option<u64>,
    active: bool,
) -> Seed<'a> {
    Seed {
        user,
        repo_full_name: repo,
        installation_id: id,
        webhook_id: webhook,
        is_active: active,
    }
}

/// Asserts `after` is `before` with exactly `is_active = false` and a fresh
/// RFC 3339 `disconnected_at`.
fn assert_disconnected(before: &Item, after: &Item) {
    assert_eq!(after["is_active"], AttributeValue::Bool(false));
    let at = after["disconnected_at"]
        .as_s()
        .expect("disconnected_at is a string");
    let at = DateTime::from_str(at, DateTimeFormat::DateTime).expect("RFC 3339");
    let age = SystemTime::now()
        .duration_since(SystemTime::try_from(at).unwrap())
        .unwrap_or_default();
    assert!(
        age < Duration::from_secs(300),
        "disconnected_at {at} is not recent"
    );
    let mut unchanged = after.clone();
    unchanged.insert("is_active".into(), AttributeValue::Bool(true));
    unchanged.remove("disconnected_at");
    assert_eq!(&unchanged, before);
}

#[tokio::test]
async fn disconnect_answers_200_and_changes_only_is_active_and_disconnected_at() {
    let (app, key) = connected().await;
    let items_before = app.items().await.len();
    let user_before = app.user_item(USER).await;
    let installation_before = app.item(&key).await;

    let answer = app.disconnect_as(USER, "acme", "my-backend").await;

    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body,
        json!({"status": "disconnected", "repo": "acme/my-backend", "webhook": "removed"})
    );
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_disconnected(&installation_before, &app.item(&key).await);
    assert_eq!(
        app.items().await.len(),
        items_before,
        "nothing created, nothing deleted"
    );
    assert_eq!(
        app.user_item(USER).await,
        user_before,
        "the user item is untouched"
    );
}

#[tokio::test]
async fn the_update_addresses_the_item_the_query_found_by_its_own_key() {
    let app = TestApp::start().await;
    app.seed_user(USER, OAUTH_TOKEN).await;
    // A sort key that does not end in the item's installation_id, as an
    // earlier writer may have left it: only the item's own key reaches it.
    let key = ItemKey {
        pk: ItemKey::user(USER).pk,
        sk: "INSTALL#acme/my-backend#2025-legacy".to_owned(),
    };
    app.put(Item::from([
        ("pk".into(), s(&key.pk)),
        ("sk".into(), s(&key.sk)),
        ("installation_id".into(), s("inst-1")),
        ("repo_full_name".into(), s("acme/my-backend")),
        ("webhook_id".into(), AttributeValue::N("42".into())),
        ("is_active".into(), AttributeValue::Bool(true)),
        ("installed_at".into(), s("2025-06-07T08:09:10Z")),
    ]))
    .await;
    github_answers(&app, "/repos/acme/my-backend/hooks/42", 204).await;
    let before = app.item(&key).await;
    let items_before = app.items().await.len();

    let answer = app.disconnect_as(USER, "acme", "my-backend").await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["webhook"], "removed");
    assert_disconnected(&before, &app.item(&key).await);
    assert_eq!(app.items().await.len(), items_before, "no item created");
}

#[tokio::test]
async fn the_webhook_delete_carries_the_headers_github_requires() {
    let app = TestApp::start().await;
    app.seed_user(USER, OAUTH_TOKEN).await;
    app.seed_installation(seed(USER, "acme/my-backend", "inst-1", Some(42), true))
        .await;
    Mock::given(method("DELETE"))
        .and(path("/repos/acme/my-backend/hooks/42"))
        .and(header(
            "authorization",
            format!("Bearer {OAUTH_TOKEN}").as_str(),
        ))
        .and(header("accept", "application/vnd.github+json"))
        .and(header("x-github-api-version", "2022-11-28"))
        .and(header(
            "user-agent",
            concat!("nectr-disconnect/", env!("CARGO_PKG_VERSION")),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&app.github)
        .await;

    let answer = app.disconnect_as(USER, "acme", "my-backend").await;

    assert_eq!(answer.body["webhook"], "removed");
    app.github.verify().await;
}

#[tokio::test]
async fn lookup_ignores_case_and_answers_with_the_stored_name() {
    let (app, key) = connected().await;
    let before = app.item(&key).await;

    let answer = app.disconnect_as(USER, "ACME", "My-Backend").await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["repo"], "acme/my-backend");
    assert_disconnected(&before, &app.item(&key).await);
}

#[tokio::test]
async fn another_users_installation_is_invisible() {
    let app = TestApp::start().await;
    app.seed_user(USER, OAUTH_TOKEN).await;
    app.seed_user("user-2", "gho_user2").await;
    app.seed_installation(seed(USER, "acme/my-backend", "inst-1", Some(42), true))
        .await;
    github_answers(&app, "/repos/acme/my-backend/hooks/42", 204).await;
    let before = app.items().await;

    let answer = app.disconnect_as("user-2", "acme", "my-backend").await;

    assert_eq!(answer.status, 404);
    assert_eq!(answer.body, json!({"detail": "Installation not found"}));
    assert_eq!(app.items().await, before);
    assert!(app.github.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_second_disconnect_is_not_found_and_changes_nothing() {
    let (app, _) = connected().await;
    assert_eq!(
        app.disconnect_as(USER, "acme", "my-backend").await.status,
        200
    );
    let after_first = app.items().await;

    let answer = app.disconnect_as(USER, "acme", "my-backend").await;

    assert_eq!(answer.status, 404);
    assert_eq!(answer.body, json!({"detail": "Installation not found"}));
    assert_eq!(app.items().await, after_first);
}

#[tokio::test]
async fn a_reconnected_repository_disconnects_only_the_active_installation() {
    let app = TestApp::start().await;
    app.seed_user(USER, OAUTH_TOKEN).await;
    let old = app
        .seed_installation(seed(USER, "acme/my-backend", "inst-old", Some(41), false))
        .await;
    let new = app
        .seed_installation(seed(USER, "acme/my-backend", "inst-new", Some(42), true))
        .await;
    github_answers(&app, "/repos/acme/my-backend/hooks/42", 204).await;
    let (old_before, new_before) = (app.item(&old).await, app.item(&new).await);

    let answer = app.disconnect_as(USER, "acme", "my-backend").await;

    assert_eq!(answer.status, 200);
    assert_eq!(app.item(&old).await, old_before, "history is untouched");
    assert_disconnected(&new_before, &app.item(&new).await);
    assert_eq!(
        app.items().await.len(),
        3,
        "user, old and new installation remain"
    );
    let calls = app.github.received_requests().await.unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].url.path(), "/repos/acme/my-backend/hooks/42");
}

#[tokio::test]
async fn two_concurrent_disconnects_give_one_200_and_one_404() {
    let (app, key) = connected().await;
    let before = app.item(&key).await;
    let proxy = app.aws_proxy().await;
    let mut aws = app.aws.clone();
    aws.dynamodb = aws_sdk_dynamodb::Client::new(&sdk_config(&proxy.endpoint).await);
    let (first, second) = (app.use_case_with(&aws), app.use_case_with(&aws));

    let (a, b) = tokio::join!(
        crate::support::handler::handle(&first, delete_as(USER, "acme", "my-backend")),
        crate::support::handler::handle(&second, delete_as(USER, "acme", "my-backend")),
    );

    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 404]);
    assert_disconnected(&before, &app.item(&key).await);
}

#[tokio::test]
async fn the_conditional_update_refuses_an_installation_that_is_no_longer_active() {
    let app = TestApp::start().await;
    let key = app
        .seed_installation(seed(USER, "acme/my-backend", "inst-1", Some(42), false))
        .await;
    let before = app.item(&key).await;

    let outcome = deactivate_directly(&app, "inst-1", Some(42)).await;

    assert_eq!(outcome, Deactivation::NotActive);
    assert_eq!(
        app.item(&key).await,
        before,
        "disconnected_at is not rewritten"
    );
}

#[tokio::test]
async fn the_conditional_update_never_creates_an_item() {
    let app = TestApp::start().await;

    let outcome = deactivate_directly(&app, "gone", None).await;

    assert_eq!(outcome, Deactivation::NotActive);
    assert!(app.items().await.is_empty());
}

/// The adapter's conditional update of `USER`'s acme/my-backend
/// installation, called directly rather than through the use case.
async fn deactivate_directly(
    app: &TestApp,
    installation_id: &str,
    webhook_id: Option<u64>,
) -> Deactivation {
    let store = DynamoDbInstallations::new(app.aws.dynamodb.clone(), TABLE);
    let repo = RepoName::parse("acme", "my-backend").unwrap();
    let installation = Installation {
        sort_key: dynamodb::installation_sk(&repo, installation_id),
        installation_id: installation_id.into(),
        repo_full_name: "acme/my-backend".into(),
        webhook_id,
    };
    store
        .deactivate(&Disconnection {
            user: &UserId::new(USER),
            repo: &repo,
            installation: &installation,
            at: SystemTime::now(),
        })
        .await
        .unwrap()
}
