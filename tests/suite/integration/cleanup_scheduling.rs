//! The disconnect's half of durable webhook cleanup (CONTRACT §6, §9), with
//! moto's SQS: a transient GitHub failure queues one job before the answer
//! and reports `scheduled`; a refusal, or a job the queue will not take, is
//! `failed` with the page where the user removes the hook by hand.

use std::time::Duration;

use nectr_disconnect::wiring::AwsClients;
use serde_json::{Value, json};
use test_world::fault_proxy::{Fault, FaultProxy};
use test_world::secrets;
use wiremock::ResponseTemplate;

use crate::support::acting_user::USER;
use crate::support::events::{Answer, within_deadline};
use crate::support::test_app::{ItemKey, TestApp, delete_as, sdk_config};

/// A connected user whose disconnects reach SQS through a proxy that
/// records what they send.
struct Queued {
    app: TestApp,
    key: ItemKey,
    queue_url: String,
    sqs: FaultProxy,
    aws: AwsClients,
}

async fn queued(github: ResponseTemplate) -> Queued {
    let mut app = TestApp::start().await;
    let key = app.connect(USER, Some(42)).await;
    app.github_answers(github).await;
    let queue_url = app.use_cleanup_queue().await;
    let sqs = app.aws_proxy().await;
    let aws = AwsClients {
        sqs: aws_sdk_sqs::Client::new(&sdk_config(&sqs.endpoint).await),
        ..app.aws.clone()
    };
    Queued {
        app,
        key,
        queue_url,
        sqs,
        aws,
    }
}

impl Queued {
    async fn disconnect(&self) -> Answer {
        let answer = self
            .app
            .send_with(&self.aws, delete_as(USER, "acme", "my-backend"))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        self.app.assert_inactive(&self.key).await;
        answer
    }

    /// The SendMessage requests the disconnect made.
    fn sent(&self) -> Vec<Value> {
        self.sqs
            .calls()
            .iter()
            .filter(|c| c.operation == "SendMessage")
            .map(|c| serde_json::from_str(&c.body).expect("SendMessage is JSON"))
            .collect()
    }
}

#[tokio::test]
async fn a_github_outage_queues_one_job_and_the_webhook_is_scheduled() {
    let queued = queued(ResponseTemplate::new(502)).await;

    let answer = queued.disconnect().await;

    assert_eq!(
        answer.body,
        json!({"status": "disconnected", "repo": "acme/my-backend", "webhook": "scheduled"})
    );
    let sent = queued.sent();
    let [request] = sent.as_slice() else {
        panic!("one SendMessage: {sent:?}");
    };
    assert_eq!(request["QueueUrl"], queued.queue_url.as_str());
    assert_eq!(request["DelaySeconds"], 60);
    let body = request["MessageBody"].as_str().unwrap();
    let item = queued.app.item(&queued.key).await;
    assert_eq!(
        serde_json::from_str::<Value>(body).unwrap(),
        json!({
            "v": 1,
            "user_id": USER,
            "repo": "acme/my-backend",
            "installation_id": "inst-1",
            "webhook_id": 42,
            "disconnected_at": item["disconnected_at"].as_s().unwrap(),
        })
    );
    assert_eq!(secrets::leaked_in(body), None, "no secret in the job");
    assert_eq!(queued.app.queue(&queued.queue_url).depth().await, 1);
}

#[tokio::test]
async fn a_rate_limit_queues_the_job_after_githubs_retry_time() {
    let queued = queued(ResponseTemplate::new(429).insert_header("retry-after", "300")).await;

    let answer = queued.disconnect().await;

    assert_eq!(answer.body["webhook"], "scheduled");
    assert_eq!(queued.sent()[0]["DelaySeconds"], 300);
}

/// CONTRACT §6: GitHub silent past the invocation's own deadline is a
/// time-out like any other. The time the SendMessage needs was kept back
/// from the removal, so the job is queued and the hook `scheduled`.
#[tokio::test]
async fn github_silent_until_the_invocations_deadline_is_scheduled_with_one_job() {
    let queued = queued(ResponseTemplate::new(204).set_delay(Duration::from_secs(30))).await;
    let request = within_deadline(
        delete_as(USER, "acme", "my-backend"),
        Duration::from_millis(2_500),
        "req-github-past-the-deadline",
    );

    let answer = queued.app.send_with(&queued.aws, request).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({"status": "disconnected", "repo": "acme/my-backend", "webhook": "scheduled"})
    );
    queued.app.assert_inactive(&queued.key).await;
    assert_eq!(queued.sent().len(), 1);
    assert_eq!(queued.app.queue(&queued.queue_url).depth().await, 1);
}

#[tokio::test]
async fn a_refusal_is_failed_with_the_settings_page_and_queues_nothing() {
    let queued = queued(
        ResponseTemplate::new(403)
            .set_body_json(json!({"message": "Must have admin rights to Repository."})),
    )
    .await;

    let answer = queued.disconnect().await;

    assert_eq!(
        answer.body,
        json!({
            "status": "disconnected",
            "repo": "acme/my-backend",
            "webhook": "failed",
            "webhook_settings_url": format!(
                "{}/acme/my-backend/settings/hooks/42",
                queued.app.github_url()
            ),
        })
    );
    assert!(queued.sent().is_empty());
    assert_eq!(queued.app.queue(&queued.queue_url).depth().await, 0);
}

#[tokio::test]
async fn a_job_the_queue_does_not_take_is_failed_and_the_disconnect_still_succeeds() {
    let queued = queued(ResponseTemplate::new(503)).await;
    queued.sqs.inject(Some("SendMessage"), Fault::ServerError);

    let answer = queued.disconnect().await;

    assert_eq!(answer.body["webhook"], "failed");
    assert!(answer.body["webhook_settings_url"].is_string());
    assert_eq!(queued.app.queue(&queued.queue_url).depth().await, 0);
}
