//! First-time network work, done during Lambda's init phase: the signing
//! keys fetched and connections to DynamoDB, KMS and GitHub opened, side by
//! side.
//! On a cold start the first invocation then costs what a warm one does,
//! and with provisioned concurrency the work is off every request's path.

use std::fmt::Display;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use crate::adapters::{DynamoDbInstallations, GitHubWebhooks, KmsTokenDecryptor};
use crate::config::Config;
use crate::metrics::{self, MetricsSettings, millis};
use crate::ports::{DependencyError, Misconfiguration};
use crate::timeouts::WARM_UP_STEP;
use crate::wiring::{AwsClients, Production};

/// When the warm-up runs, which decides what it opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moment {
    /// Within an init ahead of any event: all the first request will use.
    AheadOfEvents,
    /// Beside the first event, whose two reads open DynamoDB connections
    /// of their own meanwhile: one DescribeTable checks the table, and a
    /// second would only compete with them.
    BesideFirstEvent,
}

/// Runs every step and logs what each cost. A step that fails only logs a
/// warning: the request path does the same work again and maps its errors;
/// but a deployment mistake (denied, disabled, missing) is an ERROR here
/// already, with the metric a request meeting it would publish, so the
/// alarm fires (and a new version is rolled back) before the first user
/// meets it.
/// `github` is a clone of the use case's own client (the two share their
/// pool); the AWS clients are shared by cloning them too.
pub async fn warm_up(
    use_case: &Production,
    github: &GitHubWebhooks,
    config: &Config,
    aws: &AwsClients,
    settings: &MetricsSettings,
    moment: Moment,
) {
    let dynamodb_connections = match moment {
        Moment::AheadOfEvents => 2,
        Moment::BesideFirstEvent => 1,
    };
    let dynamodb = DynamoDbInstallations::new(aws.dynamodb.clone(), &config.shared.table_name);
    let kms = KmsTokenDecryptor::new(aws.kms.clone(), &config.shared.kms_key_id);
    let (signing_keys, dynamodb, kms, github) = tokio::join!(
        step("signing keys", use_case.prefetch_signing_keys(), settings),
        step(
            "DynamoDB connections",
            dynamodb.open_connections(dynamodb_connections),
            settings
        ),
        step("KMS connection", kms.open_connection(), settings),
        step("GitHub connection", github.open_connection(), settings),
    );
    tracing::info!(
        signing_keys_ms = millis(signing_keys),
        dynamodb_ms = millis(dynamodb),
        kms_ms = millis(kms),
        github_ms = millis(github),
        "warm-up"
    );
}

/// A warm-up step's failure: only an AWS one can name a deployment mistake.
trait StepError: Display {
    fn misconfiguration(&self) -> Option<Misconfiguration<'_>>;
}

impl StepError for DependencyError {
    fn misconfiguration(&self) -> Option<Misconfiguration<'_>> {
        DependencyError::misconfiguration(self)
    }
}

impl StepError for reqwest::Error {
    fn misconfiguration(&self) -> Option<Misconfiguration<'_>> {
        None
    }
}

async fn step<E: StepError>(
    name: &'static str,
    work: impl Future<Output = Result<(), E>>,
    settings: &MetricsSettings,
) -> Duration {
    let started = Instant::now();
    match tokio::time::timeout(WARM_UP_STEP, work).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => match e.misconfiguration() {
            Some(misconfiguration) => {
                misconfiguration.log(
                    None,
                    None,
                    &format!(
                        "warm-up: {name}: the deployment is misconfigured, every request will fail: {e}"
                    ),
                );
                metrics::emit(&metrics::dependency_error_document(
                    settings,
                    Misconfiguration::METRIC_CAUSE,
                    SystemTime::now(),
                ));
            }
            None => tracing::warn!("warm-up: {name} failed, left to the first request: {e}"),
        },
        Err(_) => tracing::warn!("warm-up: {name} timed out, left to the first request"),
    }
    started.elapsed()
}
