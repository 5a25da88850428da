//! The cleanup worker's Lambda entry: SQS events in (CONTRACT §9).

pub mod handler;

/// The worker's `service`, on its lines and metrics, when
/// `POWERTOOLS_SERVICE_NAME` is unset: what its alarms name.
pub const SERVICE: &str = "nectr-webhook-cleanup";

/// The one record the pre-traffic check sends the worker (CONTRACT §11):
/// its `eventSource`, which the event source mapping sets and a message
/// sent to the queue cannot, its message id and its body, which is no job.
/// Only a record with all three is the probe: the marker on another
/// record, which anyone who may invoke the worker directly could copy,
/// hides nothing from the invalid-job alarm.
pub const PRE_TRAFFIC_EVENT_SOURCE: &str = "nectr:pre-traffic";
pub const PRE_TRAFFIC_MESSAGE_ID: &str = "pre-traffic-check";
pub const PRE_TRAFFIC_BODY: &str = "a pre-traffic check, not a cleanup job";

/// Whether `message` is the pre-traffic check's probe, exactly.
pub fn is_pre_traffic_probe(message: &aws_lambda_events::sqs::SqsMessage) -> bool {
    message.event_source.as_deref() == Some(PRE_TRAFFIC_EVENT_SOURCE)
        && message.message_id.as_deref() == Some(PRE_TRAFFIC_MESSAGE_ID)
        && message.body.as_deref() == Some(PRE_TRAFFIC_BODY)
}
