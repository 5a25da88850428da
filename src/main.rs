use std::convert::Infallible;
use std::time::Instant;

use lambda_http::{Adapter, lambda_runtime, service_fn};
use nectr_disconnect::config::{Config, FromEnvironment};
use nectr_disconnect::http::{Handler, lambda_event::Sanitized};
use nectr_disconnect::logging::{self, LogSettings};
use nectr_disconnect::metrics::MetricsSettings;
use nectr_disconnect::metrics::millis;
use nectr_disconnect::warm_up::warm_up;
use nectr_disconnect::wiring::{self, AwsClients, Production};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let started = Instant::now();
    nectr_disconnect::tls::install_crypto_provider();
    let log_settings = LogSettings::from_env();
    logging::init(&log_settings);
    let metrics =
        MetricsSettings::from_lookup(|name| std::env::var(name).ok(), &log_settings.service);

    // Init belongs to the cold start, and its lines say so. Boxed: unboxed,
    // main's future type nests past the compiler's default query depth.
    let use_case = Box::pin(
        init(started, &metrics).instrument(tracing::info_span!("init", cold_start = true)),
    )
    .await?;

    // lambda_http::run, with the event sanitized before it becomes a request.
    let handler = Handler::new(&use_case, metrics);
    let handler =
        service_fn(|request| async { Ok::<_, Infallible>(handler.handle(request).await) });
    lambda_runtime::run(Sanitized(Adapter::from(handler))).await
}

async fn init(
    started: Instant,
    metrics: &MetricsSettings,
) -> Result<Production, lambda_http::Error> {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            tracing::error!("{e}");
            std::process::exit(1);
        }
    };
    if config.neo4j.is_none() {
        tracing::warn!("NEO4J_URI is not set: 200 responses leave out the code graph");
    }
    let sdk_config = wiring::aws_config_loader().load().await;
    let sdk_config_loaded = started.elapsed();
    let aws = AwsClients::new(&sdk_config);
    let github = wiring::github(&config)?;
    let use_case = wiring::production(&config, &aws, github.clone());
    let clients_built = started.elapsed();
    if config.warm_up_on_init {
        warm_up(&use_case, &github, &config, &aws, metrics).await;
    }
    tracing::info!(
        sdk_config_ms = millis(sdk_config_loaded),
        clients_ms = millis(clients_built - sdk_config_loaded),
        warm_up_ms = millis(started.elapsed() - clients_built),
        total_ms = millis(started.elapsed()),
        "init"
    );
    Ok(use_case)
}
