//! The handler as the tests call it: each call a fresh execution
//! environment, so each one is a cold start, with the default metric
//! settings.

use lambda_http::{Body, Request, Response};
use nectr_disconnect::disconnect::DisconnectRepository;
use nectr_disconnect::http::Handler;
use nectr_disconnect::metrics::MetricsSettings;
use nectr_disconnect::ports::{
    CodeGraph, InstallationStore, SigningKeySource, TokenDecryptor, WebhookRemover,
};

pub fn metric_settings() -> MetricsSettings {
    MetricsSettings::from_lookup(|_| None, nectr_disconnect::logging::DEFAULT_SERVICE)
}

pub async fn handle<S, D, K, W, G>(
    use_case: &DisconnectRepository<S, D, K, W, G>,
    request: Request,
) -> Response<Body>
where
    S: InstallationStore,
    D: TokenDecryptor,
    K: SigningKeySource,
    W: WebhookRemover,
    G: CodeGraph,
{
    Handler::new(use_case, metric_settings())
        .handle(request)
        .await
}
