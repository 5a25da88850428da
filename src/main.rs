use std::convert::Infallible;
use std::time::{Duration, Instant};

use lambda_http::{Adapter, lambda_runtime, service_fn};
use nectr_disconnect::adapters::GitHubWebhooks;
use nectr_disconnect::config::{Config, FromEnvironment};
use nectr_disconnect::http::{Handler, lambda_event::Sanitized};
use nectr_disconnect::logging::{self, LogSettings};
use nectr_disconnect::metrics::MetricsSettings;
use nectr_disconnect::metrics::millis;
use nectr_disconnect::warm_up::{Moment, warm_up};
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
    let init_span = tracing::info_span!("init", cold_start = true);
    let built = Box::pin(build(started).instrument(init_span.clone())).await?;
    let moment = match built.config.initialized_ahead {
        true => Moment::AheadOfEvents,
        false => Moment::BesideFirstEvent,
    };
    let warm_up = Box::pin(
        built
            .warm_up(started, &metrics, moment)
            .instrument(init_span),
    );

    // lambda_http::run, with the event sanitized before it becomes a request;
    // `Adapter` is hidden in lambda_http (http/lambda_event.rs says why).
    let handler = Handler::new(&built.use_case, metrics.clone());
    let handler =
        service_fn(|request| async { Ok::<_, Infallible>(handler.handle(request).await) });
    let runtime = Box::pin(lambda_runtime::run(Sanitized(Adapter::from(handler))));
    if moment == Moment::AheadOfEvents {
        warm_up.await;
        runtime.await
    } else {
        // On demand, the event that started this environment is already
        // waiting: it is served while the warm-up runs, and waits only for
        // what it needs of it (the signing keys' fetch under way; DESIGN.md,
        // "Cold start").
        tokio::join!(warm_up, runtime).1
    }
}

/// What a cold start builds before any network call.
struct Built {
    config: Config,
    aws: AwsClients,
    github: GitHubWebhooks,
    use_case: Production,
    sdk_config_loaded: Duration,
    clients_built: Duration,
}

async fn build(started: Instant) -> Result<Built, lambda_http::Error> {
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
    Ok(Built {
        config,
        aws,
        github,
        use_case,
        sdk_config_loaded,
        clients_built: started.elapsed(),
    })
}

impl Built {
    async fn warm_up(&self, started: Instant, metrics: &MetricsSettings, moment: Moment) {
        if self.config.warm_up_on_init {
            warm_up(
                &self.use_case,
                &self.github,
                &self.config,
                &self.aws,
                metrics,
                moment,
            )
            .await;
        }
        tracing::info!(
            sdk_config_ms = millis(self.sdk_config_loaded),
            clients_ms = millis(self.clients_built - self.sdk_config_loaded),
            warm_up_ms = millis(started.elapsed() - self.clients_built),
            total_ms = millis(started.elapsed()),
            "init"
        );
    }
}
