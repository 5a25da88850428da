//! The cleanup worker's Lambda handler (CONTRACT §9): an SQS batch in, a
//! partial batch response out. Each message gets one log line and one
//! `WebhookCleanup` metric; a message to try again is reported as a batch
//! item failure and pushed back by the backoff schedule.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_http::lambda_runtime::LambdaEvent;
use tracing::Instrument;

use crate::budget;
use crate::cleanup::{CleanupOutcome, WebhookCleanup, backoff, jitter};
use crate::domain::{CleanupJob, JobError};
use crate::metrics::{self, MetricsSettings};
use crate::ports::{Ports, Redelivery};

/// One per execution environment, so its first invocation is the cold
/// start.
pub struct CleanupHandler<'a, P: Ports> {
    cleanup: &'a WebhookCleanup<P>,
    queue: &'a P::Cleanup,
    metrics: MetricsSettings,
    invoked: AtomicBool,
}

/// What became of one message.
struct Handled {
    outcome: &'static str,
    /// Reported as a batch item failure, so SQS delivers it again.
    again: bool,
}

impl Handled {
    fn done(outcome: &'static str) -> Self {
        Self {
            outcome,
            again: false,
        }
    }

    fn again(outcome: &'static str) -> Self {
        Self {
            outcome,
            again: true,
        }
    }
}

impl<'a, P: Ports> CleanupHandler<'a, P> {
    pub fn new(
        cleanup: &'a WebhookCleanup<P>,
        queue: &'a P::Cleanup,
        metrics: MetricsSettings,
    ) -> Self {
        Self {
            cleanup,
            queue,
            metrics,
            invoked: AtomicBool::new(false),
        }
    }

    /// One message after the other: the worker's pace is GitHub's, whose
    /// secondary rate limits punish bursts.
    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> SqsBatchResponse {
        let cold_start = !self.invoked.swap(true, Ordering::Relaxed);
        let deadline = budget::deadline(Some(&event.context));
        let xray_trace_id = event
            .context
            .xray_trace_id
            .as_deref()
            .filter(|id| !id.is_empty());
        let request_id = Some(event.context.request_id.as_str()).filter(|id| !id.is_empty());
        let mut response = SqsBatchResponse::default();
        for message in &event.payload.records {
            let Some(id) = message.message_id.as_deref() else {
                tracing::error!("an SQS record without a message id; it cannot be reported");
                continue;
            };
            // The keys of every line of the invocation, as AWS Powertools
            // names them, and the message's.
            let span = tracing::info_span!(
                "message",
                cold_start,
                function_request_id = request_id,
                xray_trace_id,
                message_id = id
            );
            let handled = self
                .handle_message(id, message, deadline)
                .instrument(span)
                .await;
            metrics::emit(&metrics::cleanup_document(
                &self.metrics,
                handled.outcome,
                request_id,
                SystemTime::now(),
            ));
            if handled.again {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id.to_owned();
                response.batch_item_failures.push(failure);
            }
        }
        response
    }

    async fn handle_message(
        &self,
        id: &str,
        message: &SqsMessage,
        deadline: std::time::Instant,
    ) -> Handled {
        let attempt = attempt(message);
        let job = match CleanupJob::from_message(message.body.as_deref().unwrap_or_default()) {
            Ok(job) => job,
            Err(e @ JobError::Malformed(_)) => {
                tracing::error!(attempt, outcome = "malformed", "{e}; dropped");
                return Handled::done("malformed");
            }
            Err(e @ JobError::UnknownVersion(_)) => {
                tracing::warn!(
                    attempt,
                    outcome = "unknown_version",
                    "{e}; left for a worker that knows it"
                );
                self.postpone(id, message, backoff(attempt, None, jitter(id)))
                    .await;
                return Handled::again("unknown_version");
            }
        };
        let outcome = self.cleanup.clean(&job, deadline).await;
        let reason = match outcome {
            CleanupOutcome::LeftBehind(reason) => Some(reason),
            _ => None,
        };
        tracing::info!(
            outcome = outcome.as_str(),
            reason,
            attempt,
            user_id = %job.user_id,
            repo = %job.repo,
            installation_id = %job.installation_id,
            webhook_id = job.webhook_id,
            "webhook cleanup"
        );
        let CleanupOutcome::Retry { after } = outcome else {
            return Handled::done(outcome.as_str());
        };
        self.postpone(id, message, backoff(attempt, after, jitter(id)))
            .await;
        Handled::again(outcome.as_str())
    }

    /// Pushes the message's next delivery back by `delay`. When that fails
    /// the message still comes back, after the queue's own visibility
    /// timeout: logged, and reported as a failure all the same.
    async fn postpone(&self, id: &str, message: &SqsMessage, delay: std::time::Duration) {
        let Some(receipt) = message.receipt_handle.as_deref() else {
            tracing::warn!(
                message_id = id,
                "no receipt handle; the queue's visibility timeout applies"
            );
            return;
        };
        match self.queue.postpone(receipt, delay).await {
            Ok(()) => tracing::debug!(delay_s = delay.as_secs(), "next attempt postponed"),
            Err(e) => tracing::warn!(
                cause = %crate::logging::chain(&e),
                "ChangeMessageVisibility failed; the queue's visibility timeout applies"
            ),
        }
    }
}

/// Which delivery of the message this is, as SQS counts them.
fn attempt(message: &SqsMessage) -> u32 {
    message
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|count| count.parse().ok())
        .unwrap_or(1)
}
