//! The cleanup worker's Lambda entry: SQS events in (CONTRACT §9).

pub mod handler;

/// The worker's `service`, on its lines and metrics, when
/// `POWERTOOLS_SERVICE_NAME` is unset: what its alarms name.
pub const SERVICE: &str = "nectr-webhook-cleanup";

/// `eventSource` of the records the pre-traffic check sends (CONTRACT §11).
/// The event source mapping sets this field, and a message sent to the
/// queue cannot, so only a direct invocation carries it.
pub const PRE_TRAFFIC_EVENT_SOURCE: &str = "nectr:pre-traffic";
