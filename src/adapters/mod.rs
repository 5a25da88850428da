//! One adapter per external system, each implementing one port.

mod aws_errors;
pub mod codedeploy;
pub mod dynamodb;
pub mod github;
pub mod kms;
pub mod lambda;
pub mod neo4j;
pub mod secrets_manager;
pub mod sqs;

pub use codedeploy::CodeDeployReporter;
pub use dynamodb::DynamoDbInstallations;
pub use github::GitHubWebhooks;
pub use kms::KmsTokenDecryptor;
pub use lambda::LambdaInvoker;
pub use neo4j::Neo4jGraph;
pub use secrets_manager::SecretsManagerSigningKeys;
pub use sqs::SqsCleanupQueue;
