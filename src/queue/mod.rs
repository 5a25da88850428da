//! The cleanup worker's Lambda entry: SQS events in (CONTRACT §9).

pub mod handler;
