//! Log setup. Honours Lambda's advanced logging controls
//! (`AWS_LAMBDA_LOG_LEVEL`, `AWS_LAMBDA_LOG_FORMAT`), like lambda_http's
//! default subscriber, with one difference: dependencies never log below
//! INFO, because at DEBUG and TRACE the AWS SDK prints request and response
//! bodies, which hold OAuth-token ciphertexts and the JWT signing key.

use std::error::Error;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

const OWN_TARGET: &str = env!("CARGO_CRATE_NAME");

pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|level| level.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));

    // CloudWatch shows colour codes as text.
    let lines = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_target(false)
        .without_time();
    let subscriber = tracing_subscriber::registry().with(filter(level));
    if json {
        subscriber.with(lines.json()).init();
    } else {
        subscriber.with(lines).init();
    }
}

/// `level` for this crate; at most INFO for everything else.
pub fn filter(level: LevelFilter) -> Targets {
    Targets::new()
        .with_default(level.min(LevelFilter::INFO))
        .with_target(OWN_TARGET, level)
}

/// An error and its causes on one line, for the operator's log.
pub fn chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
