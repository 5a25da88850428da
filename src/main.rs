use std::convert::Infallible;

use lambda_http::{Adapter, lambda_runtime, service_fn, tracing};
use nectr_disconnect::app::{self, AwsClients};
use nectr_disconnect::config::Config;
use nectr_disconnect::http::{self, lambda_event::Sanitized};
use nectr_disconnect::logging;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    logging::init();

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            tracing::error!("{e}");
            std::process::exit(1);
        }
    };
    let aws = AwsClients::new(&app::aws_config_loader().load().await);
    let use_case = app::production(&config, &aws)?;

    // lambda_http::run, with the event sanitized before it becomes a request.
    let handler =
        service_fn(|request| async { Ok::<_, Infallible>(http::handle(&use_case, request).await) });
    lambda_runtime::run(Sanitized(Adapter::from(handler))).await
}
