//! The cleanup worker (CONTRACT §9) on real parts: jobs in moto's SQS with
//! the template's redrive policy, received and handed to the worker as
//! Lambda's SQS event, moto for DynamoDB and KMS, the GitHub stub behind
//! TLS. Its SQS calls go through a proxy that records what it asked for.
//! After every test, no item has changed: the worker never writes one.

use std::time::{Duration, Instant};

use aws_lambda_events::sqs::SqsMessage;
use nectr_disconnect::config;
use nectr_disconnect::domain::CleanupJob;
use nectr_disconnect::timeouts::ANSWER_MARGIN;
use nectr_disconnect::wiring::{self, AwsClients, WebhookWorker};
use serde_json::Value;
use test_world::fault_proxy::{Fault, FaultProxy};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::acting_user::{DISCONNECTED_AT, USER, cleanup_job};
use crate::support::queue::Queue;
use crate::support::test_app::{Item, MAX_RECEIVES, Seed, TestApp, received, sdk_config};

const HOOK: &str = "/repos/acme/my-backend/hooks/42";

/// A user who disconnected acme/my-backend while GitHub failed: the
/// installation is inactive, one job waits on the queue.
struct Cleanup {
    app: TestApp,
    queue: Queue,
    dead_letters: Queue,
    sqs: FaultProxy,
    worker: WebhookWorker,
    /// The message id of the job.
    job: String,
    before: Vec<Item>,
}

async fn disconnected_with_a_job() -> Cleanup {
    let mut app = TestApp::start().await;
    app.env.insert(config::GITHUB_TIMEOUT_MS, "500".into());
    app.seed_user(USER, "gho_cleanuptoken").await;
    app.seed_installation(Seed {
        user: USER,
        repo_full_name: "acme/my-backend",
        installation_id: "inst-1",
        webhook_id: Some(42),
        is_active: false,
    })
    .await;
    let (queue_url, dead_letter_url) = app.cleanup_queues().await;
    let sqs = app.aws_proxy().await;
    let aws = AwsClients {
        sqs: aws_sdk_sqs::Client::new(&sdk_config(&sqs.endpoint).await),
        ..app.aws.clone()
    };
    let worker = wiring::worker(&app.worker_config(), &aws).unwrap();
    let queue = app.queue(&queue_url);
    let job = queue.send(&job().to_message()).await;
    let before = app.items().await;
    Cleanup {
        dead_letters: app.queue(&dead_letter_url),
        queue,
        app,
        sqs,
        worker,
        job,
        before,
    }
}

/// The job of the disconnect the app seeded: its `disconnected_at`.
fn job() -> CleanupJob {
    cleanup_job(DISCONNECTED_AT)
}

fn delete_of_the_hook(response: ResponseTemplate) -> Mock {
    Mock::given(method("DELETE"))
        .and(path(HOOK))
        .respond_with(response)
}

impl Cleanup {
    async fn github_answers(&self, response: ResponseTemplate) {
        delete_of_the_hook(response).mount(&self.app.github).await;
    }

    /// GitHub answers the first `n` DELETEs so; mounted first, it comes
    /// before a later `github_answers`.
    async fn github_answers_first(&self, n: u64, response: ResponseTemplate) {
        delete_of_the_hook(response)
            .up_to_n_times(n)
            .mount(&self.app.github)
            .await;
    }

    /// One attempt: receive what is visible and deliver it to the worker.
    /// Returns the number of messages received and the failures reported.
    async fn attempt(&self) -> (usize, Vec<String>) {
        let messages = self.queue.receive().await;
        let received = messages.len();
        let failed = self.queue.deliver(&self.worker, messages.clone()).await;
        let retried: Vec<_> = messages
            .into_iter()
            .filter(|m| failed.contains(m.message_id.as_ref().unwrap()))
            .collect();
        self.queue.make_visible(&retried).await;
        (received, failed)
    }

    async fn github_deletes(&self) -> usize {
        let received = self.app.github.received_requests().await.unwrap();
        received
            .iter()
            .filter(|r| r.method.as_str() == "DELETE")
            .count()
    }

    /// The visibility timeouts the worker asked for, in seconds.
    fn postponements(&self) -> Vec<u64> {
        self.sqs
            .calls()
            .iter()
            .filter(|c| c.operation == "ChangeMessageVisibility")
            .map(|c| {
                let request: Value = serde_json::from_str(&c.body).unwrap();
                request["VisibilityTimeout"].as_u64().unwrap()
            })
            .collect()
    }

    async fn assert_no_item_changed(&self) {
        assert_eq!(self.app.items().await, self.before, "the worker wrote");
    }

    /// `messages` delivered to an invocation `time_left` before Lambda's
    /// deadline: the failures it reported, once it is checked to have
    /// ended by the function's own deadline, `ANSWER_MARGIN` earlier, give
    /// or take `slack`.
    async fn deliver_by_the_deadline(
        &self,
        messages: Vec<SqsMessage>,
        time_left: Duration,
        slack: Duration,
    ) -> Vec<String> {
        let deadline = Instant::now() + time_left - ANSWER_MARGIN;
        let failed = self
            .queue
            .deliver_within(&self.worker, messages, time_left)
            .await;
        assert!(
            Instant::now() < deadline + slack,
            "the batch ran past its deadline"
        );
        failed
    }

    /// The user connects acme/my-backend again, as `installation_id` with
    /// `webhook_id`: the state the worker must leave as it is.
    async fn reconnect(&mut self, installation_id: &str, webhook_id: u64) {
        self.app
            .seed_installation(Seed {
                user: USER,
                repo_full_name: "acme/my-backend",
                installation_id,
                webhook_id: Some(webhook_id),
                is_active: true,
            })
            .await;
        self.before = self.app.items().await;
    }
}

#[tokio::test]
async fn a_hook_github_fails_twice_is_removed_on_the_third_attempt_and_the_message_is_gone() {
    let cleanup = disconnected_with_a_job().await;
    cleanup
        .github_answers_first(2, ResponseTemplate::new(502))
        .await;
    cleanup.github_answers(ResponseTemplate::new(204)).await;

    let attempts = [
        cleanup.attempt().await,
        cleanup.attempt().await,
        cleanup.attempt().await,
    ];

    assert_eq!(
        attempts.map(|(n, failed)| (n, failed.len())),
        [(1, 1), (1, 1), (1, 0)]
    );
    assert_eq!(cleanup.queue.depth().await, 0, "the message is gone");
    assert_eq!(cleanup.github_deletes().await, 3);
    // Exponential backoff with jitter: the first wait 30–60 s, the second
    // 60–120 s.
    let waits = cleanup.postponements();
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert!(
        (30..=60).contains(&waits[0]) && (60..=120).contains(&waits[1]),
        "{waits:?}"
    );
    cleanup.assert_no_item_changed().await;
}

#[tokio::test]
async fn a_rate_limit_waits_for_githubs_retry_time() {
    let cleanup = disconnected_with_a_job().await;
    cleanup
        .github_answers(
            ResponseTemplate::new(403)
                .insert_header("retry-after", "900")
                .insert_header("x-ratelimit-remaining", "0"),
        )
        .await;

    let (_, failed) = cleanup.attempt().await;

    assert_eq!(failed.len(), 1);
    assert_eq!(cleanup.postponements(), [900]);
    cleanup.assert_no_item_changed().await;
}

#[tokio::test]
async fn a_permanent_refusal_is_left_behind_without_retries() {
    let cleanup = disconnected_with_a_job().await;
    cleanup.github_answers(ResponseTemplate::new(403)).await;

    let (received, failed) = cleanup.attempt().await;

    assert_eq!((received, failed.len()), (1, 0));
    assert_eq!(cleanup.queue.depth().await, 0);
    assert_eq!(cleanup.github_deletes().await, 1);
    assert!(cleanup.postponements().is_empty());
    cleanup.assert_no_item_changed().await;
}

#[tokio::test]
async fn a_github_that_hangs_is_retried() {
    let cleanup = disconnected_with_a_job().await;
    cleanup
        .github_answers(ResponseTemplate::new(204).set_delay(Duration::from_secs(10)))
        .await;

    let (_, failed) = cleanup.attempt().await;

    assert_eq!(failed.len(), 1);
    assert_eq!(cleanup.postponements().len(), 1);
    cleanup.assert_no_item_changed().await;
}

#[tokio::test]
async fn after_the_attempts_run_out_the_message_is_in_the_dead_letter_queue() {
    let cleanup = disconnected_with_a_job().await;
    cleanup.github_answers(ResponseTemplate::new(502)).await;

    for attempt in 1..=MAX_RECEIVES {
        let (received, failed) = cleanup.attempt().await;
        assert_eq!((received, failed.len()), (1, 1), "attempt {attempt}");
    }
    let (received, _) = cleanup.attempt().await;

    assert_eq!(received, 0, "no ninth attempt");
    assert_eq!(cleanup.queue.depth().await, 0);
    assert_eq!(cleanup.dead_letters.depth().await, 1);
    assert_eq!(cleanup.github_deletes().await, MAX_RECEIVES as usize);
    cleanup.assert_no_item_changed().await;
}

#[tokio::test]
async fn a_reconnect_in_between_is_in_use_and_the_hook_is_untouched() {
    let mut cleanup = disconnected_with_a_job().await;
    cleanup.github_answers(ResponseTemplate::new(204)).await;
    cleanup.reconnect("inst-2", 42).await;

    let (received, failed) = cleanup.attempt().await;

    assert_eq!((received, failed.len()), (1, 0));
    assert_eq!(cleanup.github_deletes().await, 0);
    assert_eq!(cleanup.queue.depth().await, 0);
    cleanup.assert_no_item_changed().await;
}

#[tokio::test]
async fn a_batch_reports_exactly_the_unknown_version_and_the_transient_failure() {
    let cleanup = disconnected_with_a_job().await;
    cleanup.github_answers(ResponseTemplate::new(503)).await;
    let transient = cleanup.job.clone();
    let malformed = cleanup.queue.send("{\"v\": 1, \"user_id\": 7}").await;
    let newer = cleanup
        .queue
        .send(&job().to_message().replace("\"v\":1", "\"v\":2"))
        .await;

    let messages = cleanup.queue.receive_all(3).await;
    let ids: Vec<String> = messages
        .iter()
        .map(|m| m.message_id.clone().unwrap())
        .collect();
    assert!(ids.contains(&malformed) && ids.contains(&newer) && ids.contains(&transient));
    let mut failed = cleanup.queue.deliver(&cleanup.worker, messages).await;

    failed.sort();
    let mut expected = vec![newer, transient];
    expected.sort();
    assert_eq!(failed, expected);
    cleanup.assert_no_item_changed().await;
}

/// What a job about inst-1's hook 42 becomes when it lies about one field.
fn forged() -> Vec<(&'static str, CleanupJob)> {
    vec![
        (
            "another hook",
            CleanupJob {
                webhook_id: 77,
                ..job()
            },
        ),
        (
            "another disconnected_at",
            cleanup_job("2026-12-03T00:00:00.000000Z"),
        ),
        (
            "an active installation",
            CleanupJob {
                installation_id: "inst-active".into(),
                ..job()
            },
        ),
        (
            "no item",
            CleanupJob {
                installation_id: "inst-never".into(),
                ..job()
            },
        ),
    ]
}

#[tokio::test]
async fn forged_jobs_never_reach_github_and_the_genuine_one_still_removes_its_hook() {
    let mut cleanup = disconnected_with_a_job().await;
    cleanup.queue.guarded_by_the_templates_policy().await;
    cleanup.github_answers(ResponseTemplate::new(204)).await;
    cleanup.reconnect("inst-active", 77).await;
    for (_, job) in forged() {
        cleanup.queue.send(&job.to_message()).await;
    }

    let messages = cleanup.queue.receive_all(5).await;
    let failed = cleanup.queue.deliver(&cleanup.worker, messages).await;

    assert!(failed.is_empty(), "invalid jobs are dropped: {failed:?}");
    assert_eq!(
        received(&cleanup.app.github).await,
        [format!("DELETE {HOOK}")]
    );
    assert_eq!(cleanup.queue.depth().await, 0);
    assert!(cleanup.postponements().is_empty());
    cleanup.assert_no_item_changed().await;
}

#[tokio::test]
async fn a_batch_of_hanging_hooks_fits_the_deadline_and_hands_back_what_it_cannot_try() {
    let mut cleanup = disconnected_with_a_job().await;
    // The app's own job, out of the way.
    cleanup.queue.receive().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204).set_delay(Duration::from_secs(10)))
        .mount(&cleanup.app.github)
        .await;
    for n in 1..=5 {
        let installation_id = format!("inst-hanging-{n}");
        cleanup
            .app
            .seed_installation(Seed {
                user: USER,
                repo_full_name: "acme/my-backend",
                installation_id: &installation_id,
                webhook_id: Some(100 + n),
                is_active: false,
            })
            .await;
        let job = CleanupJob {
            installation_id,
            webhook_id: 100 + n,
            ..job()
        };
        cleanup.queue.send(&job.to_message()).await;
    }
    cleanup.before = cleanup.app.items().await;
    let messages = cleanup.queue.receive_all(5).await;
    // GITHUB_TIMEOUT_MS is 500, so a job here takes half a second, but one
    // is begun only with its worst case (six AWS calls at the SDK's timeout
    // and GitHub's) left: one second more than that lets some begin.
    let time_left = cleanup.worker.0.time_per_job + Duration::from_secs(1);

    let failed = cleanup
        .deliver_by_the_deadline(messages, time_left, Duration::ZERO)
        .await;

    assert_eq!(failed.len(), 5, "every job comes back: {failed:?}");
    let tried = cleanup.github_deletes().await;
    assert!((1..5).contains(&tried), "{tried} of 5 tried");
    assert_eq!(
        cleanup.postponements().len(),
        tried,
        "only a tried job spends its backoff"
    );
    cleanup.assert_no_item_changed().await;
}

#[tokio::test]
async fn change_message_visibility_is_cut_off_at_the_deadline() {
    let mut cleanup = disconnected_with_a_job().await;
    // A budget short of the worst case, so that the deadline comes before
    // the SDK's own timeout would end the hanging call.
    cleanup.worker.0.time_per_job = Duration::from_millis(1_500);
    cleanup.github_answers(ResponseTemplate::new(502)).await;
    cleanup
        .sqs
        .inject(Some("ChangeMessageVisibility"), Fault::Hang);
    let messages = cleanup.queue.receive().await;
    let time_left = Duration::from_secs(4);

    // The hanging call is abandoned at the deadline, a moment before the
    // batch answers.
    let failed = cleanup
        .deliver_by_the_deadline(messages, time_left, Duration::from_millis(100))
        .await;

    assert_eq!(failed, std::slice::from_ref(&cleanup.job));
    cleanup.assert_no_item_changed().await;
}
