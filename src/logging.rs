//! Log setup. Honours Lambda's advanced logging controls
//! (`AWS_LAMBDA_LOG_LEVEL`, `AWS_LAMBDA_LOG_FORMAT`), like lambda_http's
//! default subscriber, with one difference: dependencies never log below
//! INFO, because at DEBUG and TRACE the AWS SDK prints request and response
//! bodies, which hold OAuth-token ciphertexts and the JWT signing key.

use lambda_http::tracing::Level;
use lambda_http::tracing::subscriber::EnvFilter;
use lambda_http::tracing::subscriber::filter::LevelFilter;

const OWN_TARGET: &str = env!("CARGO_CRATE_NAME");

pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|level| level.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));

    let builder = lambda_http::tracing::subscriber::fmt()
        .with_env_filter(filter(level))
        .with_target(false)
        .without_time();
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// `level` for this crate; at most INFO for everything else.
pub fn filter(level: LevelFilter) -> EnvFilter {
    let dependencies = level.min(LevelFilter::from_level(Level::INFO));
    EnvFilter::new(format!("{dependencies},{OWN_TARGET}={level}"))
}
