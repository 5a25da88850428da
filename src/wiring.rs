//! Wiring: the production API from configuration and AWS clients,
//! built once per cold start.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::tls::Provider;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;

use crate::adapters::{
    CodeDeployReporter, DynamoDbInstallations, GitHubWebhooks, KmsTokenDecryptor, LambdaInvoker,
    Neo4jGraph, SecretsManagerSigningKeys, SqsCleanupQueue,
};
use crate::auth::Authenticator;
use crate::cleanup::WebhookCleanup;
use crate::config::{Config, HookConfig, WorkerConfig};
use crate::http::Api;
use crate::ports::{Adapters, CleanupPorts, DisconnectPorts};
use crate::pre_traffic::PreTrafficCheck;
use crate::timeouts;

/// The adapters of the deployed functions.
pub enum ProductionPorts {}

impl DisconnectPorts for ProductionPorts {
    type SigningKeys = SecretsManagerSigningKeys;
    type Installations = DynamoDbInstallations;
    type Tokens = KmsTokenDecryptor;
    type Webhooks = GitHubWebhooks;
    type Graph = Neo4jGraph;
    type Cleanup = SqsCleanupQueue;
}

impl CleanupPorts for ProductionPorts {
    type Installations = DynamoDbInstallations;
    type Tokens = KmsTokenDecryptor;
    type Webhooks = GitHubWebhooks;
}

pub type Production = Api<ProductionPorts>;

/// One client per AWS service; tests swap single clients to point one
/// dependency somewhere else.
#[derive(Clone)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub kms: aws_sdk_kms::Client,
    pub secrets_manager: aws_sdk_secretsmanager::Client,
    pub sqs: aws_sdk_sqs::Client,
}

impl AwsClients {
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            kms: aws_sdk_kms::Client::new(config),
            secrets_manager: aws_sdk_secretsmanager::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
        }
    }
}

/// The SDK's own configuration chain (region, and `AWS_ENDPOINT_URL` for
/// local emulators), with time limits so that a silent dependency cannot
/// hold an invocation until Lambda kills it, and:
/// - one HTTPS client for every AWS client built from it: without one in
///   the shared configuration, each service client builds its own TLS
///   configuration from the trust store at a cold start (about a million
///   instructions each, `make profile`);
/// - credentials from the environment only, where Lambda puts the role's
///   (and every local run its own): the default chain also builds the
///   profile, web identity, ECS and IMDS providers, and the web identity
///   one an STS client, which parsed the trust store during init, before
///   the first call could start (8 of the 45 million instructions to the
///   first answer).
pub fn aws_config_loader() -> ConfigLoader {
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https)
        .credentials_provider(EnvironmentVariableCredentialsProvider::new())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(timeouts::AWS_CONNECT_TIMEOUT)
                .operation_attempt_timeout(timeouts::AWS_ATTEMPT_TIMEOUT)
                .operation_timeout(timeouts::AWS_OPERATION_TIMEOUT)
                .build(),
        )
}

/// The GitHub client, built once: clones share its connection pool, so the
/// init warm-up's connection is the one the use case's first call finds.
pub fn github(config: &Config) -> Result<GitHubWebhooks, reqwest::Error> {
    GitHubWebhooks::new(&config.shared.github)
}

pub fn production(config: &Config, aws: &AwsClients, github: GitHubWebhooks) -> Production {
    // `main` installs it first thing; this makes every wiring of the use
    // case, tests' included, as safe for the graph's TLS as production's.
    crate::tls::install_crypto_provider();
    let adapters = Adapters {
        installations: DynamoDbInstallations::new(aws.dynamodb.clone(), &config.shared.table_name),
        tokens: KmsTokenDecryptor::new(aws.kms.clone(), &config.shared.kms_key_id),
        webhooks: github,
        graph: config
            .neo4j
            .as_ref()
            .map(|neo4j| Neo4jGraph::new(neo4j, aws.secrets_manager.clone())),
        cleanup: config
            .cleanup_queue_url
            .as_ref()
            .map(|url| SqsCleanupQueue::new(aws.sqs.clone(), url)),
    };
    let authenticator = Authenticator::new(
        SecretsManagerSigningKeys::new(aws.secrets_manager.clone(), &config.jwt.secret_id),
        config.jwt.rules.clone(),
        config.jwt.key_lifetime,
    );
    Api::new(authenticator, adapters)
}

/// The cleanup worker and the queue it works off.
pub type WebhookWorker = (WebhookCleanup<ProductionPorts>, SqsCleanupQueue);

/// The cleanup worker and its queue, built once per cold start from the
/// disconnect's own adapters.
pub fn worker(config: &WorkerConfig, aws: &AwsClients) -> Result<WebhookWorker, reqwest::Error> {
    crate::tls::install_crypto_provider();
    let github = GitHubWebhooks::new(&config.shared.github)?;
    let cleanup = WebhookCleanup {
        installations: DynamoDbInstallations::new(aws.dynamodb.clone(), &config.shared.table_name),
        tokens: KmsTokenDecryptor::new(aws.kms.clone(), &config.shared.kms_key_id),
        webhooks: github,
        time_per_job: timeouts::time_per_cleanup_job(config.shared.github.timeout),
    };
    let queue = SqsCleanupQueue::new(aws.sqs.clone(), &config.cleanup_queue_url);
    Ok((cleanup, queue))
}

/// The pre-traffic check of one function's new version.
pub type PreTraffic = PreTrafficCheck<LambdaInvoker, CodeDeployReporter>;

/// The pre-traffic check, built once per cold start.
pub fn pre_traffic(config: &HookConfig, sdk: &SdkConfig) -> PreTraffic {
    PreTrafficCheck {
        invoker: lambda_invoker(sdk),
        reporter: CodeDeployReporter::new(aws_sdk_codedeploy::Client::new(sdk)),
        probed: config.probed,
        new_version: config.new_version.clone(),
    }
}

/// The check's Lambda client keeps only the connect timeout and never
/// retries: a new version's cold start may take seconds, so the check
/// bounds each invocation by the hook's own deadline, and an attempt cut
/// short and retried would start the version again beside itself. The
/// shared configuration's attempt and operation timeouts are disabled
/// explicitly: a client built from it keeps every field it does not set.
pub fn lambda_invoker(sdk: &SdkConfig) -> LambdaInvoker {
    let config = aws_sdk_lambda::config::Builder::from(sdk)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(timeouts::AWS_CONNECT_TIMEOUT)
                .disable_operation_attempt_timeout()
                .disable_operation_timeout()
                .build(),
        )
        .retry_config(RetryConfig::disabled())
        .build();
    LambdaInvoker::new(aws_sdk_lambda::Client::from_conf(config))
}
