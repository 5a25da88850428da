//! The cleanup queue as the Lambda event source mapping works it
//! (test-world's `cleanup_queue`), with the worker in the suite's hands.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use aws_sdk_sqs::types::QueueAttributeName;
use lambda_http::lambda_runtime::{Context, LambdaEvent};
use nectr_disconnect::queue::handler::CleanupHandler;
use nectr_disconnect::wiring::WebhookWorker;
use test_world::cleanup_queue;
use test_world::seed::queue_attributes;

use super::handler::worker_metric_settings;
use super::template;

pub struct Queue {
    pub sqs: aws_sdk_sqs::Client,
    pub url: String,
}

impl Queue {
    /// Sends a raw message body, to be delivered at once.
    pub async fn send(&self, body: &str) -> String {
        self.sqs
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .expect("moto takes the message")
            .message_id
            .expect("a sent message has an id")
    }

    /// What a receive gets now, as Lambda's SQS event carries it.
    pub async fn receive(&self) -> Vec<SqsMessage> {
        cleanup_queue::receive(&self.sqs, &self.url).await
    }

    /// The `count` messages the queue holds, over as many receives as moto
    /// takes to hand them all out.
    pub async fn receive_all(&self, count: usize) -> Vec<SqsMessage> {
        let mut messages = Vec::new();
        for _ in 0..10 {
            messages.extend(self.receive().await);
            if messages.len() >= count {
                break;
            }
        }
        assert_eq!(messages.len(), count, "the queue holds {count} messages");
        messages
    }

    /// One invocation of the worker on `messages`, then what the event
    /// source mapping does: the messages not reported are deleted. Returns
    /// the ids reported as failures.
    pub async fn deliver(&self, worker: &WebhookWorker, messages: Vec<SqsMessage>) -> Vec<String> {
        let time_left = worker.0.time_per_job * 2;
        self.deliver_within(worker, messages, time_left).await
    }

    /// `deliver`, with `time_left` until Lambda's deadline.
    pub async fn deliver_within(
        &self,
        worker: &WebhookWorker,
        messages: Vec<SqsMessage>,
        time_left: Duration,
    ) -> Vec<String> {
        let (cleanup, queue) = worker;
        let handler = CleanupHandler::new(cleanup, queue, worker_metric_settings());
        let mut event = SqsEvent::default();
        event.records = messages.clone();
        let mut context = Context::default();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        context.deadline = (now + time_left).as_millis() as u64;
        let response = handler.handle(LambdaEvent::new(event, context)).await;
        let failed: Vec<String> = response
            .batch_item_failures
            .into_iter()
            .map(|failure| failure.item_identifier)
            .collect();
        cleanup_queue::settle(&self.sqs, &self.url, &messages, &failed).await;
        failed
    }

    /// Time passes: the messages the worker pushed back are visible again.
    pub async fn make_visible(&self, messages: &[SqsMessage]) {
        for message in messages {
            self.sqs
                .change_message_visibility()
                .queue_url(&self.url)
                .receipt_handle(message.receipt_handle.clone().unwrap())
                .visibility_timeout(0)
                .send()
                .await
                .expect("moto changes the visibility");
        }
    }

    /// The queue policy of template.yaml, with the stack's ARNs filled in.
    pub async fn guarded_by_the_templates_policy(&self) {
        let policy = template::cleanup_queue_policy();
        self.sqs
            .set_queue_attributes()
            .queue_url(&self.url)
            .attributes(QueueAttributeName::Policy, policy.to_string())
            .send()
            .await
            .expect("moto takes the template's queue policy");
        let stored = queue_attributes(&self.sqs, &self.url, QueueAttributeName::Policy)
            .await
            .remove(&QueueAttributeName::Policy)
            .expect("the queue has a policy");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&stored).unwrap(),
            policy
        );
    }

    /// How many messages the queue holds, visible, delayed or in flight.
    pub async fn depth(&self) -> usize {
        cleanup_queue::depth(&self.sqs, &self.url).await
    }
}
