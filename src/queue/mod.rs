//! The cleanup worker's Lambda entry: SQS events in (CONTRACT §9).

pub mod handler;

/// The worker's `service`, on its lines and metrics, when
/// `POWERTOOLS_SERVICE_NAME` is unset: what its alarms name.
pub const SERVICE: &str = "nectr-webhook-cleanup";
