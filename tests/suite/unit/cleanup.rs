//! The cleanup worker (CONTRACT §9) over in-memory fakes: each outcome of
//! one job, and how a batch is reported back to SQS.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use lambda_http::lambda_runtime::{Context, LambdaEvent};
use nectr_disconnect::cleanup::{CleanupOutcome, WebhookCleanup};
use nectr_disconnect::domain::CleanupJob;
use nectr_disconnect::ports::WebhookRemoval;
use nectr_disconnect::queue::handler::CleanupHandler;
use nectr_disconnect::timeouts::{
    ANSWER_MARGIN, AWS_OPERATION_TIMEOUT, LONGEST_GITHUB_WAIT, LONGEST_VISIBILITY, RECEIPT_MARGIN,
    worst_cleanup_job,
};
use serde_json::Value;
use test_world::secrets;

use crate::support::acting_user::{CIPHERTEXT, DISCONNECTED_AT, OAUTH_TOKEN, USER, cleanup_job};
use crate::support::fakes::{Fault, TRANSIENT, WebhookCall};
use crate::support::handler::worker_metric_settings;
use crate::support::logs::{capture, log_lines, metric_documents};
use crate::support::template::template;
use crate::support::use_case::{FakePorts, Fakes};

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
    cleanup_job(DISCONNECTED_AT)
}

/// A job about another hook than its installation carries: one no
/// disconnect wrote.
fn job_for_another_hook() -> CleanupJob {
    CleanupJob {
        webhook_id: 77,
        ..job()
    }
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

/// A repository renamed on GitHub keeps its hooks; reconnected under its
/// new name, the same hook is in use again.
#[tokio::test]
async fn a_hook_a_renamed_repositorys_installation_carries_is_in_use() {
    let fakes = disconnected();
    fakes
        .store
        .add_installation(USER, "acme/renamed-backend", "inst-2", Some(42), true);

    assert_eq!(clean(&fakes).await, CleanupOutcome::InUse);
    assert!(fakes.webhooks.calls().is_empty());
}

#[tokio::test]
async fn another_users_installation_with_the_same_hook_id_does_not_keep_it() {
    let fakes = disconnected();
    fakes
        .store
        .add_installation("user-2", "acme/my-backend", "inst-9", Some(42), true);

    assert_eq!(clean(&fakes).await, CleanupOutcome::Removed);
}

#[tokio::test]
async fn a_reconnect_with_another_hook_does_not_save_the_old_one() {
    assert_eq!(clean(&reconnected_with(77)).await, CleanupOutcome::Removed);
}

#[tokio::test]
async fn a_reconnect_while_the_token_is_decrypted_keeps_its_hook() {
    let fakes = disconnected();
    let store = fakes.store.clone();
    fakes.tokens.while_decrypting(move || {
        store.add_installation(USER, "acme/my-backend", "inst-2", Some(42), true);
    });

    assert_eq!(clean(&fakes).await, CleanupOutcome::InUse);
    assert_eq!(fakes.tokens.calls(), 1);
    assert!(fakes.webhooks.calls().is_empty(), "the DELETE was not sent");
}

#[tokio::test]
async fn a_refusal_or_a_missing_user_or_token_is_left_behind() {
    let refused = disconnected();
    refused.webhooks.answer(WebhookRemoval::Refused);
    let no_admin = disconnected();
    no_admin.webhooks.answer(WebhookRemoval::NoAdminAccess);
    let inactive_installation = |fakes: Fakes| {
        fakes
            .store
            .add_installation(USER, "acme/my-backend", "inst-1", Some(42), false);
        fakes
    };
    let no_user = inactive_installation(Fakes::new());
    let no_token = inactive_installation(Fakes::new());
    no_token.store.add_user(USER, None);
    let undecryptable = inactive_installation(Fakes::new());
    undecryptable
        .store
        .add_user(USER, Some(b"not-what-kms-encrypted"));

    for (case, fakes, reason) in [
        ("GitHub refuses", refused, "GitHub refused"),
        ("no admin access", no_admin, "no_admin_access"),
        ("no user item", no_user, "the user is gone"),
        ("no token", no_token, "the user has no GitHub token"),
        (
            "a token KMS cannot decrypt",
            undecryptable,
            "the GitHub token cannot be decrypted",
        ),
    ] {
        assert_eq!(
            clean(&fakes).await,
            CleanupOutcome::LeftBehind(reason),
            "{case}"
        );
    }
}

#[tokio::test]
async fn a_job_its_installation_does_not_vouch_for_is_invalid_and_github_is_never_called() {
    let another_hook = job_for_another_hook();
    let another_disconnect = cleanup_job("2026-12-01T00:00:00.000000Z");
    let another_installation = CleanupJob {
        installation_id: "inst-forged".into(),
        ..job()
    };
    let another_user = CleanupJob {
        user_id: "user-2".into(),
        ..job()
    };
    let active = Fakes::with_installation("acme/my-backend", true);
    for (case, fakes, forged, reason) in [
        (
            "another hook",
            disconnected(),
            another_hook,
            "the job's installation carries another webhook",
        ),
        (
            "another disconnected_at",
            disconnected(),
            another_disconnect,
            "the job's installation was disconnected at another time",
        ),
        (
            "no such installation",
            disconnected(),
            another_installation,
            "the job's installation does not exist",
        ),
        (
            "another user's installation",
            disconnected(),
            another_user,
            "the job's installation does not exist",
        ),
        (
            "an active installation",
            active,
            job(),
            "the job's installation is active",
        ),
    ] {
        let outcome = fakes
            .cleanup_worker()
            .clean(&forged, Instant::now() + Duration::from_secs(3))
            .await;

        assert_eq!(outcome, CleanupOutcome::Invalid(reason), "{case}");
        assert!(fakes.webhooks.calls().is_empty(), "{case}");
        assert_eq!(fakes.tokens.calls(), 0, "{case}: no token decrypted");
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
    let worker = fakes.cleanup_worker();
    let time_left = worker.time_per_job * 2;
    handle_batch_with(&worker, fakes, messages, time_left).await
}

/// One invocation with `time_left` until Lambda's deadline; the ids
/// reported as failures.
async fn handle_batch_with(
    worker: &WebhookCleanup<FakePorts>,
    fakes: &Fakes,
    messages: Vec<SqsMessage>,
    time_left: Duration,
) -> Vec<String> {
    let mut event = SqsEvent::default();
    event.records = messages;
    let mut context = Context::default();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    context.deadline = (now + time_left).as_millis() as u64;
    let handler = CleanupHandler::new(worker, &fakes.cleanup, worker_metric_settings());
    let response = handler.handle(LambdaEvent::new(event, context)).await;
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
    let (logs, _guard) = capture();

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
    let outcomes: Vec<Value> = metric_documents(&logs.text())
        .into_iter()
        .map(|document| document["outcome"].clone())
        .collect();
    assert_eq!(outcomes, ["invalid", "unknown_version", "retry"]);
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

/// `count` installations of USER's, disconnected, with hooks 1, 2, …, and
/// a message for each: m-1, m-2, ….
fn disconnected_jobs(fakes: &Fakes, count: u64) -> Vec<SqsMessage> {
    (1..=count)
        .map(|n| {
            let installation_id = format!("inst-{n}");
            fakes
                .store
                .add_installation(USER, "acme/my-backend", &installation_id, Some(n), false);
            let job = CleanupJob {
                installation_id,
                webhook_id: n,
                ..job()
            };
            message(&format!("m-{n}"), &job.to_message(), 1)
        })
        .collect()
}

#[tokio::test]
async fn a_batch_of_hanging_hooks_stops_taking_jobs_before_the_deadline() {
    let fakes = Fakes::new();
    fakes.store.add_user(USER, Some(CIPHERTEXT));
    fakes.tokens.add(USER, CIPHERTEXT, OAUTH_TOKEN);
    let jobs = disconnected_jobs(&fakes, 5);
    fakes.webhooks.hang(Duration::from_millis(300));
    let worker = WebhookCleanup {
        time_per_job: Duration::from_millis(600),
        ..fakes.cleanup_worker()
    };
    let time_left = Duration::from_millis(1_600);
    let deadline = Instant::now() + time_left;

    let failures = handle_batch_with(&worker, &fakes, jobs, time_left + ANSWER_MARGIN).await;

    assert!(
        Instant::now() < deadline,
        "the batch ended past its deadline"
    );
    let ids: Vec<String> = (1..=5).map(|n| format!("m-{n}")).collect();
    assert_eq!(failures, ids, "every job comes back");
    let tried = fakes.webhooks.webhook_ids();
    assert!(
        (1..5).contains(&tried.len()),
        "some jobs are tried, the rest are not: {tried:?}"
    );
    assert_eq!(tried, (1..=tried.len() as u64).collect::<Vec<_>>());
    let postponed: Vec<String> = fakes
        .cleanup
        .postponed()
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    let tried_receipts: Vec<String> = (1..=tried.len())
        .map(|n| format!("receipt-m-{n}"))
        .collect();
    assert_eq!(
        postponed, tried_receipts,
        "only a tried job spends its backoff"
    );
}

/// GitHub asks for 12 hours, the most its headers may say. SQS counts its
/// 12-hour visibility limit from the message's receipt, so the push back
/// is what is left of those hours: the queue takes it.
#[tokio::test]
async fn a_wait_of_twelve_hours_is_cut_to_what_is_left_of_them_since_the_receipt() {
    let fakes = disconnected();
    fakes.webhooks.answer(WebhookRemoval::Transient {
        retry_after: Some(LONGEST_GITHUB_WAIT),
    });
    fakes.cleanup.receive_now();

    let failures = handle_batch(&fakes, vec![message("m-1", &job().to_message(), 1)]).await;

    assert_eq!(failures, ["m-1"]);
    let postponed = fakes.cleanup.postponed();
    let [(receipt, delay)] = postponed.as_slice() else {
        panic!("one postponement: {postponed:?}");
    };
    assert_eq!(receipt, "receipt-m-1");
    let most = LONGEST_VISIBILITY - RECEIPT_MARGIN;
    assert!(
        (most - Duration::from_secs(60)..=most).contains(delay),
        "{delay:?}"
    );
}

/// AWS at its slowest: every call takes the SDK's whole operation timeout
/// and GitHub its longest timeout, with the template's batch size and
/// worker timeout, all scaled down fivefold so the batch runs in 40 s. Every
/// job of the batch still gets its GitHub attempt before the deadline, so
/// each receive the redrive policy counts is an attempt, and no job
/// reaches the dead-letter queue with fewer than 8.
#[tokio::test]
async fn under_aws_slowness_every_job_of_a_full_batch_is_attempted() {
    const SCALE: u32 = 5;
    let template = template();
    let worker = &template["Resources"]["CleanupFunction"]["Properties"];
    let timeout = Duration::from_secs(worker["Timeout"].as_u64().expect("a timeout"));
    let batch = worker["Events"]["CleanupJobs"]["Properties"]["BatchSize"]
        .as_u64()
        .expect("a batch size");
    let slowest_github = template["Parameters"]["GitHubTimeoutMs"]["MaxValue"]
        .as_u64()
        .expect("GitHubTimeoutMs has a maximum");
    let receives =
        template["Resources"]["CleanupQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
            .as_u64()
            .expect("a redrive policy");
    let aws_call = AWS_OPERATION_TIMEOUT / SCALE;
    let github = Duration::from_millis(slowest_github) / SCALE;
    let fakes = Fakes::new();
    fakes.store.add_user(USER, Some(CIPHERTEXT));
    fakes.tokens.add(USER, CIPHERTEXT, OAUTH_TOKEN);
    let jobs = disconnected_jobs(&fakes, batch);
    fakes.store.slow(aws_call);
    fakes.tokens.slow(aws_call);
    fakes.cleanup.slow(aws_call);
    fakes.webhooks.hang(github);
    let worker = WebhookCleanup {
        time_per_job: worst_cleanup_job(aws_call, github),
        ..fakes.cleanup_worker()
    };

    let started = Instant::now();
    let failures = handle_batch_with(&worker, &fakes, jobs, timeout / SCALE).await;
    let took = started.elapsed();

    // The budget counts every call a job makes: a job took about what it
    // was budgeted, never much more.
    let budgeted = worker.time_per_job * batch as u32;
    assert!(took <= budgeted.mul_f64(1.1), "{took:?} for {budgeted:?}");
    let all: Vec<u64> = (1..=batch).collect();
    assert_eq!(
        fakes.webhooks.webhook_ids(),
        all,
        "every job reached GitHub"
    );
    assert_eq!(failures.len() as u64, batch, "every job comes back");
    assert_eq!(fakes.cleanup.postponed().len() as u64, batch);
    assert!(receives >= 8, "{receives} receives, each an attempt");
}

#[tokio::test]
async fn an_invalid_job_is_dropped_not_retried() {
    let fakes = disconnected();
    let forged = job_for_another_hook();

    let failures = handle_batch(&fakes, vec![message("forged", &forged.to_message(), 1)]).await;

    assert!(failures.is_empty());
    assert!(fakes.cleanup.postponed().is_empty());
    assert!(fakes.webhooks.calls().is_empty());
}

/// One metric per message, by outcome: a hook GitHub no longer has is
/// done, and counted `already_gone`.
#[tokio::test]
async fn a_hook_already_gone_is_done_and_counted_as_such() {
    let fakes = disconnected();
    fakes.webhooks.answer(WebhookRemoval::AlreadyGone);
    let (logs, _guard) = capture();

    let failures = handle_batch(&fakes, vec![message("m-1", &job().to_message(), 1)]).await;

    assert!(failures.is_empty());
    let documents = metric_documents(&logs.text());
    let outcomes: Vec<&Value> = documents.iter().map(|d| &d["outcome"]).collect();
    assert_eq!(outcomes, ["already_gone"]);
    assert_eq!(documents[0]["service"], "nectr-webhook-cleanup");
}

#[tokio::test]
async fn done_and_left_behind_jobs_are_not_reported() {
    let fakes = disconnected();
    let failures = handle_batch(&fakes, vec![message("m-1", &job().to_message(), 1)]).await;
    assert!(failures.is_empty());
    assert!(fakes.cleanup.postponed().is_empty());
}

/// The one line the worker wrote about a message, checked to be an ERROR
/// with `outcome`, as the message's one metric has.
fn error_line(text: &str, outcome: &str) -> serde_json::Map<String, serde_json::Value> {
    let lines = log_lines(text);
    assert_eq!(lines.len(), 1, "one line per message: {text}");
    let documents = metric_documents(text);
    assert_eq!(documents.len(), 1, "one metric per message: {text}");
    assert_eq!(documents[0]["outcome"], outcome, "{text}");
    let line = lines.into_iter().next().unwrap();
    assert_eq!(line["level"], "ERROR", "{text}");
    assert_eq!(line["outcome"], outcome, "{text}");
    line
}

#[tokio::test]
async fn a_malformed_message_is_invalid_and_logged_by_field_and_mistake_never_by_its_content() {
    let fakes = disconnected();
    let content = "gho_SentByWhoeverMaySendToTheQueue";
    secrets::register(content);
    let body = job().to_message().replace("42", &format!("\"{content}\""));
    let (logs, _guard) = capture();

    let failures = handle_batch(&fakes, vec![message("m-1", &body, 1)]).await;

    assert!(failures.is_empty(), "dropped, not retried");
    let line = error_line(&logs.text(), "invalid");
    assert_eq!(
        line["message"],
        "not a cleanup job: webhook_id is not a whole number; dropped"
    );
}

#[tokio::test]
async fn an_invalid_job_is_an_error_line_and_an_invalid_metric() {
    let fakes = disconnected();
    let forged = job_for_another_hook();
    let (logs, _guard) = capture();

    handle_batch(&fakes, vec![message("m-1", &forged.to_message(), 1)]).await;

    let line = error_line(&logs.text(), "invalid");
    assert_eq!(
        line["reason"],
        "the job's installation carries another webhook"
    );
}

#[tokio::test]
async fn a_dependency_answering_unusably_is_an_error_not_a_warning() {
    let fakes = disconnected();
    fakes.store.fail_with(Fault::Failed);
    let (logs, _guard) = capture();

    assert_eq!(clean(&fakes).await, CleanupOutcome::Retry { after: None });

    let lines = log_lines(&logs.text());
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["level"], "ERROR");
}
