//! `nectr-webhook-cleanup`: the Lambda that removes the webhooks a
//! disconnect had to leave behind, from the SQS queue of cleanup jobs
//! (CONTRACT §9). Wiring only; the work is `worker` and `cleanup`.

use std::convert::Infallible;

use lambda_http::lambda_runtime::{self, service_fn};
use nectr_disconnect::config::{FromEnvironment, WorkerConfig};
use nectr_disconnect::logging::{self, LogSettings};
use nectr_disconnect::metrics::MetricsSettings;
use nectr_disconnect::queue::SERVICE;
use nectr_disconnect::queue::handler::CleanupHandler;
use nectr_disconnect::tls;
use nectr_disconnect::wiring::{self, AwsClients};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tls::install_crypto_provider();
    let env = logging::environment_of(SERVICE);
    let log_settings = LogSettings::from_lookup(env);
    logging::init(&log_settings);
    let metrics = MetricsSettings::from_lookup(env, &log_settings.service);
    let config = match WorkerConfig::from_env() {
        Ok(config) => config,
        Err(e) => {
            tracing::error!(cold_start = true, "{e}");
            std::process::exit(1);
        }
    };
    let aws = AwsClients::new(&wiring::aws_config_loader().load().await);
    let (cleanup, queue) = wiring::worker(&config, &aws)?;
    let handler = CleanupHandler::new(&cleanup, &queue, metrics);
    // Boxed: inside lambda_runtime's service, the unboxed future type
    // nests past the compiler's default query depth.
    lambda_runtime::run(service_fn(|event| async {
        Ok::<_, Infallible>(Box::pin(handler.handle(event)).await)
    }))
    .await
}
