//! `nectr-pre-traffic`: the CodeDeploy `PreTraffic` hook of both functions
//! (CONTRACT §11). It checks the version a deployment is about to send
//! traffic to and reports the verdict. Wiring only; the work is
//! `pre_traffic`.

use aws_lambda_events::codedeploy::CodeDeployLifecycleEvent;
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use nectr_disconnect::config::{FromEnvironment, HookConfig};
use nectr_disconnect::logging::{self, LogSettings};
use nectr_disconnect::{timeouts, tls, wiring};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tls::install_crypto_provider();
    logging::init(&LogSettings::from_lookup(logging::environment_of(
        "nectr-pre-traffic",
    )));
    let config = match HookConfig::from_env() {
        Ok(config) => config,
        Err(e) => {
            tracing::error!(cold_start = true, "{e}");
            std::process::exit(1);
        }
    };
    let check = wiring::pre_traffic(&config, &wiring::aws_config_loader().load().await);
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<CodeDeployLifecycleEvent>| {
            let deadline = timeouts::deadline(Some(&event.context));
            let check = &check;
            async move {
                let hook = event.payload;
                check
                    .run(
                        &hook.deployment_id,
                        &hook.lifecycle_event_hook_execution_id,
                        deadline,
                    )
                    .await
                    .map(drop)
            }
        },
    ))
    .await
}
