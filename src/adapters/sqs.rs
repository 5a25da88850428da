//! `CleanupQueue` over Amazon SQS (CONTRACT §9): the disconnect sends a
//! job, the cleanup worker pushes a job it must retry further back.

use std::time::Duration;

use aws_sdk_sqs::Client;

use super::aws_errors::classify;
use crate::domain::CleanupJob;
use crate::metrics::{self, Call};
use crate::ports::{CleanupQueue, Dependency, DependencyError, Redelivery};

/// SQS's longest `DelaySeconds`.
const MAX_DELAY: Duration = Duration::from_secs(900);
/// SQS's longest visibility timeout.
const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 3_600);

#[derive(Clone)]
pub struct SqsCleanupQueue {
    client: Client,
    queue_url: String,
}

impl SqsCleanupQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }
}

impl Redelivery for SqsCleanupQueue {
    /// Makes a received message visible again only after `delay`: the next
    /// attempt's backoff.
    async fn postpone(&self, receipt: &str, delay: Duration) -> Result<(), DependencyError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(seconds(delay.min(MAX_VISIBILITY)))
            .send()
            .await
            .map(drop)
            .map_err(|e| classify(Dependency::Sqs, &self.queue_url, e))
    }
}

impl CleanupQueue for SqsCleanupQueue {
    async fn schedule(&self, job: &CleanupJob, delay: Duration) -> Result<(), DependencyError> {
        let send = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(job.to_message())
            .delay_seconds(seconds(delay.min(MAX_DELAY)))
            .send();
        metrics::timed(Call::SqsSendMessage, send)
            .await
            .map(drop)
            .map_err(|e| classify(Dependency::Sqs, &self.queue_url, e))
    }
}

fn seconds(delay: Duration) -> i32 {
    i32::try_from(delay.as_secs()).unwrap_or(i32::MAX)
}
