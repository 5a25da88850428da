//! Log setup. Honours Lambda's advanced logging controls
//! (`AWS_LAMBDA_LOG_LEVEL`, `AWS_LAMBDA_LOG_FORMAT`), with one difference
//! from lambda_http's default subscriber: dependencies never log below INFO,
//! because at DEBUG and TRACE the AWS SDK prints request and response bodies,
//! which hold OAuth-token ciphertexts and the JWT signing key.

mod lines;

use std::error::Error;

use tracing::Metadata;
use tracing_subscriber::filter::{FilterFn, LevelFilter, Targets, filter_fn};
use tracing_subscriber::prelude::*;

pub use lines::{Format, LambdaLines};

const OWN_TARGET: &str = env!("CARGO_CRATE_NAME");
/// `service` on every line and metric when `POWERTOOLS_SERVICE_NAME` is unset.
pub const DEFAULT_SERVICE: &str = "nectr-disconnect";

/// What the environment asks of the logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSettings {
    pub level: LevelFilter,
    pub format: Format,
    pub service: String,
}

impl LogSettings {
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Lambda's names first (`AWS_LAMBDA_LOG_LEVEL` is set from the
    /// function's `LoggingConfig`), then the ones Powertools users know.
    /// Structured lines unless `Text` is asked for: they are what CloudWatch
    /// Logs Insights can query.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let level = ["AWS_LAMBDA_LOG_LEVEL", "POWERTOOLS_LOG_LEVEL", "RUST_LOG"]
            .into_iter()
            .find_map(|name| lookup(name).and_then(|value| parse_level(&value)))
            .unwrap_or(LevelFilter::INFO);
        let format = match lookup("AWS_LAMBDA_LOG_FORMAT") {
            Some(format) if format.eq_ignore_ascii_case("text") => Format::Text,
            _ => Format::Json,
        };
        let service = lookup(crate::config::POWERTOOLS_SERVICE_NAME)
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| DEFAULT_SERVICE.to_owned());
        Self {
            level,
            format,
            service,
        }
    }
}

/// Lambda's levels, including `FATAL`, which `tracing` calls ERROR.
fn parse_level(value: &str) -> Option<LevelFilter> {
    if value.eq_ignore_ascii_case("fatal") {
        return Some(LevelFilter::ERROR);
    }
    value.parse().ok()
}

pub fn init(settings: &LogSettings) {
    tracing_subscriber::registry()
        .with(LambdaLines::new(settings, std::io::stdout).with_filter(filter(settings.level)))
        .init();
}

/// Events: `level` for this crate, at most INFO for everything else, and
/// metric documents at every level (`AWS_LAMBDA_LOG_LEVEL` is about logs).
/// This crate's spans pass at every level, so that an ERROR line still
/// carries the invocation's keys when INFO is filtered out.
pub fn filter(level: LevelFilter) -> FilterFn<impl Fn(&Metadata<'_>) -> bool> {
    let events = Targets::new()
        .with_default(level.min(LevelFilter::INFO))
        .with_target(OWN_TARGET, level)
        .with_target(crate::metrics::TARGET, LevelFilter::TRACE);
    filter_fn(move |metadata| {
        (metadata.is_span() && metadata.target().starts_with(OWN_TARGET))
            || events.would_enable(metadata.target(), metadata.level())
    })
}

/// The process environment as a binary other than the disconnect reads it:
/// `POWERTOOLS_SERVICE_NAME`, when unset, is that binary's `service`, the
/// name its lines, metrics and alarms use.
pub fn environment_of(service: &'static str) -> impl Fn(&str) -> Option<String> + Copy {
    move |name| {
        std::env::var(name)
            .ok()
            .or_else(|| (name == "POWERTOOLS_SERVICE_NAME").then(|| service.to_owned()))
    }
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
