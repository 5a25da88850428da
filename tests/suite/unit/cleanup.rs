//! The cleanup worker (CONTRACT §9) over in-memory fakes: each outcome of
//! one job, and how a batch is reported back to SQS.

use std::time::{Duration, Instant};

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use lambda_http::lambda_runtime::{Context, LambdaEvent};

use nectr_disconnect::cleanup::CleanupOutcome;
use nectr_disconnect::domain::CleanupJob;
use nectr_disconnect::ports::WebhookRemoval;
use nectr_disconnect::worker::CleanupHandler;

use crate::support::fakes::{Fault, TRANSIENT, WebhookCall};
use crate::support::handler::metric_settings;
use crate::support::subject::{OAUTH_TOKEN, USER, cleanup_job};
use crate::support::use_case::Fakes;

/// USER disconnected acme/my-backend (webhook 42): the installation is
/// inactive, the job names its hook.
fn disconnected() -> Fakes {
    Fakes::with_installation("acme/my-backend", false)
}

/// Then USER connected the repository again: installation inst-2, active,
/// carrying `webhook_id`.
fn reconnected_with(webhook_id: u64) -> Fakes {
    let fakes = disconnected();
    fakes
        .store
        .add_installation(USER, "acme/my-backend", "inst-2", Some(webhook_id), true);
    fakes
}

fn job() -> CleanupJob {
    cleanup_job("2026-12-02T03:04:05.123456Z")
}

async fn clean(fakes: &Fakes) -> CleanupOutcome {
    fakes
        .cleanup_worker()
        .clean(&job(), Instant::now() + Duration::from_secs(3))
        .await
}

#[tokio::test]
async fn the_hook_is_removed_with_a_fresh_token_and_no_item_changes() {
    let fakes = disconnected();
    let before = fakes.store.installations();

    assert_eq!(clean(&fakes).await, CleanupOutcome::Removed);

    assert_eq!(
        fakes.webhooks.calls(),
        [WebhookCall {
            token: OAUTH_TOKEN.into(),
            repo: "acme/my-backend".into(),
            webhook_id: 42,
        }]
    );
    assert_eq!(fakes.store.installations(), before);
}

#[tokio::test]
async fn a_hook_github_no_longer_has_is_already_gone() {
    let fakes = disconnected();
    fakes.webhooks.answer(WebhookRemoval::AlreadyGone);
    assert_eq!(clean(&fakes).await, CleanupOutcome::AlreadyGone);
}

#[tokio::test]
async fn a_hook_an_active_installation_carries_again_is_in_use_and_untouched() {
    let fakes = reconnected_with(42);

    assert_eq!(clean(&fakes).await, CleanupOutcome::InUse);
    assert!(fakes.webhooks.calls().is_empty());
    assert_eq!(fakes.tokens.calls(), 0, "no token is decrypted");
}

#[tokio::test]
async fn a_reconnect_with_another_hook_does_not_save_the_old_one() {
    assert_eq!(clean(&reconnected_with(77)).await, CleanupOutcome::Removed);
}

#[tokio::test]
async fn a_refusal_or_a_missing_user_or_token_is_left_behind() {
    let refused = disconnected();
    refused.webhooks.answer(WebhookRemoval::Refused);
    let no_user = Fakes::new();
    no_user
        .store
        .add_installation(USER, "acme/my-backend", "inst-1", Some(42), false);
    let no_token = Fakes::new();
    no_token.store.add_user(USER, None);
    let undecryptable = Fakes::new();
    undecryptable
        .store
        .add_user(USER, Some(b"not-what-kms-encrypted"));

    for (case, fakes) in [
        ("GitHub refuses", refused),
        ("no user item", no_user),
        ("no token", no_token),
        ("a token KMS cannot decrypt", undecryptable),
    ] {
        let outcome = clean(&fakes).await;
        assert!(
            matches!(outcome, CleanupOutcome::LeftBehind(_)),
            "{case}: {outcome:?}"
        );
    }
}

#[tokio::test]
async fn github_or_aws_failing_transiently_is_a_retry_at_githubs_time() {
    let github = disconnected();
    github.webhooks.answer(WebhookRemoval::Transient {
        retry_after: Some(Duration::from_secs(90)),
    });
    assert_eq!(
        clean(&github).await,
        CleanupOutcome::Retry {
            after: Some(Duration::from_secs(90))
        }
    );

    let kms = disconnected();
    kms.tokens.fail_with(Fault::Unavailable);
    assert_eq!(clean(&kms).await, CleanupOutcome::Retry { after: None });

    let dynamodb = disconnected();
    dynamodb.store.fail_with(Fault::Unavailable);
    assert_eq!(
        clean(&dynamodb).await,
        CleanupOutcome::Retry { after: None }
    );
}

fn message(id: &str, body: &str, receive_count: u32) -> SqsMessage {
    let mut message = SqsMessage::default();
    message.message_id = Some(id.into());
    message.receipt_handle = Some(format!("receipt-{id}"));
    message.body = Some(body.into());
    message
        .attributes
        .insert("ApproximateReceiveCount".into(), receive_count.to_string());
    message
}

async fn handle_batch(fakes: &Fakes, messages: Vec<SqsMessage>) -> Vec<String> {
    let mut event = SqsEvent::default();
    event.records = messages;
    let worker = fakes.cleanup_worker();
    let handler = CleanupHandler::new(&worker, &fakes.cleanup, metric_settings());
    let response = handler
        .handle(LambdaEvent::new(event, Context::default()))
        .await;
    response
        .batch_item_failures
        .into_iter()
        .map(|failure| failure.item_identifier)
        .collect()
}

#[tokio::test]
async fn a_batch_reports_exactly_the_unknown_version_and_the_transient_failure() {
    let fakes = disconnected();
    fakes.webhooks.answer(TRANSIENT);
    let newer = job().to_message().replace("\"v\":1", "\"v\":2");

    let failures = handle_batch(
        &fakes,
        vec![
            message("malformed", "{\"user_id\": 7}", 1),
            message("newer", &newer, 1),
            message("transient", &job().to_message(), 3),
        ],
    )
    .await;

    assert_eq!(failures, ["newer", "transient"]);
    let postponed = fakes.cleanup.postponed();
    let receipts: Vec<&str> = postponed.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(receipts, ["receipt-newer", "receipt-transient"]);
    // The third attempt of the transient one waits 2 to 4 minutes.
    let delay = postponed[1].1;
    assert!(
        (Duration::from_secs(120)..=Duration::from_secs(240)).contains(&delay),
        "{delay:?}"
    );
}

#[tokio::test]
async fn a_failing_postponement_still_reports_the_failure() {
    let fakes = disconnected();
    fakes.webhooks.answer(TRANSIENT);
    fakes.cleanup.fail_with(Fault::Unavailable);

    let failures = handle_batch(&fakes, vec![message("m-1", &job().to_message(), 1)]).await;

    assert_eq!(failures, ["m-1"]);
}

#[tokio::test]
async fn done_and_left_behind_jobs_are_not_reported() {
    let fakes = disconnected();
    let failures = handle_batch(&fakes, vec![message("m-1", &job().to_message(), 1)]).await;
    assert!(failures.is_empty());
    assert!(fakes.cleanup.postponed().is_empty());
}
