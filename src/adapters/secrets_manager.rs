//! `SigningKeySource` over AWS Secrets Manager (CONTRACT §2).

use std::time::SystemTime;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;

use super::aws_errors::classify;
use crate::domain::{SigningKey, SigningKeys};
use crate::metrics::{self, Call};
use crate::ports::{Dependency, DependencyError, SigningKeySource};

pub struct SecretsManagerSigningKeys {
    client: Client,
    secret_id: String,
}

impl SecretsManagerSigningKeys {
    pub fn new(client: Client, secret_id: impl Into<String>) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
        }
    }

    /// The version at `stage`, and when it was created.
    async fn version(
        &self,
        stage: &'static str,
    ) -> Result<Option<(SigningKey, Option<SystemTime>)>, DependencyError> {
        let result = metrics::timed(
            Call::SecretsManagerGetSecretValue,
            self.client
                .get_secret_value()
                .secret_id(&self.secret_id)
                .version_stage(stage)
                .send(),
        )
        .await;
        match result {
            Ok(output) => match output.secret_string {
                Some(key) if !key.is_empty() => {
                    let created = output
                        .created_date
                        .and_then(|at| SystemTime::try_from(at).ok());
                    Ok(Some((SigningKey::new(key.into_bytes()), created)))
                }
                _ => Err(missing(stage)),
            },
            // Before the first rotation there is no previous version; a
            // missing current version is a missing secret.
            Err(e)
                if stage == PREVIOUS
                    && e.as_service_error()
                        .is_some_and(GetSecretValueError::is_resource_not_found_exception) =>
            {
                Ok(None)
            }
            Err(e) => Err(classify(Dependency::SecretsManager, &self.secret_id, e)),
        }
    }
}

const CURRENT: &str = "AWSCURRENT";
const PREVIOUS: &str = "AWSPREVIOUS";

#[derive(Debug, thiserror::Error)]
#[error("the signing secret has no {0} SecretString")]
struct MissingKey(&'static str);

fn missing(stage: &'static str) -> DependencyError {
    DependencyError::failed(Dependency::SecretsManager, MissingKey(stage))
}

impl SigningKeySource for SecretsManagerSigningKeys {
    async fn fetch(&self) -> Result<SigningKeys, DependencyError> {
        let (current, previous) = tokio::join!(self.version(CURRENT), self.version(PREVIOUS));
        let (current, current_created) = current?.ok_or_else(|| missing(CURRENT))?;
        // The current key alone verifies every token signed since the
        // rotation: a failed previous read must not turn a cold start into
        // 503s. The next refresh reads both again.
        let previous = previous.unwrap_or_else(|e| {
            tracing::warn!(
                cause = %crate::logging::chain(&e),
                "the previous signing key (AWSPREVIOUS) was not read; the current key alone verifies until the next refresh"
            );
            None
        });
        Ok(SigningKeys {
            current,
            current_created,
            previous: previous.map(|(key, _)| key),
        })
    }
}
