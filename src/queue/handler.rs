//! The cleanup worker's Lambda handler (CONTRACT §9): an SQS batch in, a
//! partial batch response out. Each message gets one log line and one
//! `WebhookCleanup` metric; a message to try again is reported as a batch
//! item failure and pushed back by the backoff schedule.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_http::lambda_runtime::LambdaEvent;
use tracing::Instrument;

use crate::cleanup::{CleanupOutcome, MessageOutcome, WebhookCleanup, backoff, jitter};
use crate::domain::{CleanupJob, JobError};
use crate::metrics::{self, MetricsSettings};
use crate::ports::{CleanupPorts, Dependency, Redelivery};
use crate::queue::{PRE_TRAFFIC_EVENT_SOURCE, is_pre_traffic_probe};
use crate::timeouts::{self, within};

/// One per execution environment, so its first invocation is the cold
/// start.
pub struct CleanupHandler<'a, P: CleanupPorts, Q: Redelivery> {
    cleanup: &'a WebhookCleanup<P>,
    queue: &'a Q,
    metrics: MetricsSettings,
    invoked: AtomicBool,
}

/// When the invocation began (the batch was received shortly before) and
/// when every call must have given up.
#[derive(Clone, Copy)]
struct Times {
    invoked: Instant,
    deadline: Instant,
}

/// What became of one message.
struct Handled {
    outcome: MessageOutcome,
    /// Reported as a batch item failure, so SQS delivers it again.
    again: bool,
}

impl Handled {
    fn done(outcome: impl Into<MessageOutcome>) -> Self {
        Self {
            outcome: outcome.into(),
            again: false,
        }
    }

    fn again(outcome: impl Into<MessageOutcome>) -> Self {
        Self {
            outcome: outcome.into(),
            again: true,
        }
    }
}

impl<'a, P: CleanupPorts, Q: Redelivery> CleanupHandler<'a, P, Q> {
    pub fn new(cleanup: &'a WebhookCleanup<P>, queue: &'a Q, metrics: MetricsSettings) -> Self {
        Self {
            cleanup,
            queue,
            metrics,
            invoked: AtomicBool::new(false),
        }
    }

    /// One message after the other: the worker's pace is GitHub's, whose
    /// secondary rate limits punish bursts. A message reached with less
    /// time left than one job needs is handed back untried.
    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> SqsBatchResponse {
        let invoked = Instant::now();
        let cold_start = !self.invoked.swap(true, Ordering::Relaxed);
        let deadline = timeouts::deadline(Some(&event.context));
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
            let handled = if self.time_left_for_a_job(deadline) {
                let times = Times { invoked, deadline };
                self.handle_message(id, message, times)
                    .instrument(span)
                    .await
            } else {
                span.in_scope(|| untried(message))
            };
            let probe = is_pre_traffic_probe(message).then_some(PRE_TRAFFIC_EVENT_SOURCE);
            metrics::emit(&metrics::cleanup_document(
                &self.metrics,
                handled.outcome.as_str(),
                probe,
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

    fn time_left_for_a_job(&self, deadline: Instant) -> bool {
        deadline.saturating_duration_since(Instant::now()) >= self.cleanup.time_per_job
    }

    async fn handle_message(&self, id: &str, message: &SqsMessage, times: Times) -> Handled {
        let attempt = attempt(message);
        let job = match CleanupJob::from_message(message.body.as_deref().unwrap_or_default()) {
            Ok(job) => job,
            // Never a job a disconnect wrote: `invalid`, as a forged one is,
            // and an operator's concern unless it is the probe.
            Err(e @ JobError::Malformed(_)) => {
                if is_pre_traffic_probe(message) {
                    tracing::info!(
                        attempt,
                        outcome = MessageOutcome::Invalid.as_str(),
                        "{e}; the pre-traffic check's, dropped"
                    );
                } else {
                    tracing::error!(
                        attempt,
                        outcome = MessageOutcome::Invalid.as_str(),
                        "{e}; dropped"
                    );
                }
                return Handled::done(MessageOutcome::Invalid);
            }
            Err(e @ JobError::UnknownVersion(_)) => {
                tracing::warn!(
                    attempt,
                    outcome = MessageOutcome::UnknownVersion.as_str(),
                    "{e}; left for a worker that knows it"
                );
                self.postpone(id, message, backoff(attempt, None, jitter(id)), times)
                    .await;
                return Handled::again(MessageOutcome::UnknownVersion);
            }
        };
        let outcome = self.cleanup.clean(&job, times.deadline).await;
        log_outcome(&job, outcome, attempt);
        match outcome {
            CleanupOutcome::Retry { after } => {
                self.postpone(id, message, backoff(attempt, after, jitter(id)), times)
                    .await;
                Handled::again(outcome)
            }
            CleanupOutcome::Removed
            | CleanupOutcome::AlreadyGone
            | CleanupOutcome::InUse
            | CleanupOutcome::LeftBehind(_)
            | CleanupOutcome::Invalid(_) => Handled::done(outcome),
        }
    }

    /// Pushes the message's next delivery back by `delay`, within the
    /// deadline and within what SQS allows: 12 hours from the receipt, so
    /// a wait GitHub asked for near that is cut to what is left. When it
    /// fails the message still comes back, after the queue's own
    /// visibility timeout: logged, and reported as a failure all the same.
    async fn postpone(&self, id: &str, message: &SqsMessage, delay: Duration, times: Times) {
        let delay = delay.min(timeouts::visibility_left(times.invoked));
        let Some(receipt) = message.receipt_handle.as_deref() else {
            tracing::warn!(
                message_id = id,
                "no receipt handle; the queue's visibility timeout applies"
            );
            return;
        };
        let postpone = self.queue.postpone(receipt, delay);
        match within(times.deadline, Dependency::Sqs, postpone).await {
            Ok(()) => tracing::debug!(delay_s = delay.as_secs(), "next attempt postponed"),
            Err(e) => tracing::warn!(
                cause = %crate::logging::chain(&e),
                "ChangeMessageVisibility failed; the queue's visibility timeout applies"
            ),
        }
    }
}

/// A job that is not a disconnect's is an operator's concern (someone may
/// send to the queue who should not); the others are routine.
fn log_outcome(job: &CleanupJob, outcome: CleanupOutcome, attempt: u32) {
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(
                outcome = outcome.as_str(),
                reason = outcome.reason(),
                attempt,
                user_id = %job.user_id,
                repo = %job.repo,
                installation_id = %job.installation_id,
                webhook_id = job.webhook_id,
                "webhook cleanup"
            )
        };
    }
    match outcome {
        CleanupOutcome::Invalid(_) => line!(error),
        CleanupOutcome::Removed
        | CleanupOutcome::AlreadyGone
        | CleanupOutcome::InUse
        | CleanupOutcome::LeftBehind(_)
        | CleanupOutcome::Retry { .. } => line!(info),
    }
}

/// Handed back without an attempt: it comes back after the queue's
/// visibility timeout, its backoff unspent, to a worker with time for it.
fn untried(message: &SqsMessage) -> Handled {
    tracing::warn!(
        attempt = attempt(message),
        outcome = MessageOutcome::Retry.as_str(),
        reason = "no time left in this invocation",
        "webhook cleanup not tried; handed back"
    );
    Handled::again(MessageOutcome::Retry)
}

/// Which delivery of the message this is, as SQS counts them.
fn attempt(message: &SqsMessage) -> u32 {
    message
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|count| count.parse().ok())
        .unwrap_or(1)
}
