//! `TokenDecryptor` over AWS KMS (CONTRACT §4).

use aws_sdk_kms::Client;
use aws_sdk_kms::operation::decrypt::DecryptError as KmsDecryptError;
use aws_sdk_kms::primitives::Blob;

use super::aws_errors::classify;
use crate::domain::{Ciphertext, OAuthToken, UserId};
use crate::ports::{DecryptError, Dependency, DependencyError, TokenDecryptor};

pub struct KmsTokenDecryptor {
    client: Client,
    key_id: String,
}

impl KmsTokenDecryptor {
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        Self {
            client,
            key_id: key_id.into(),
        }
    }
}

/// The encryption context every OAuth-token ciphertext is bound to.
pub const ENCRYPTION_CONTEXT_KEY: &str = "user_id";

#[derive(Debug, thiserror::Error)]
#[error("KMS answered without a plaintext")]
struct NoPlaintext;

impl TokenDecryptor for KmsTokenDecryptor {
    async fn decrypt(
        &self,
        user: &UserId,
        ciphertext: &Ciphertext,
    ) -> Result<OAuthToken, DecryptError> {
        let output = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(ciphertext.as_bytes()))
            .encryption_context(ENCRYPTION_CONTEXT_KEY, user.as_str())
            .send()
            .await;
        let plaintext = match output {
            Ok(output) => output
                .plaintext
                .ok_or_else(|| DependencyError::failed(Dependency::Kms, NoPlaintext))?,
            Err(e) if e.as_service_error().is_some_and(is_refusal) => {
                return Err(DecryptError::Undecryptable);
            }
            Err(e) => return Err(classify(Dependency::Kms, e).into()),
        };
        String::from_utf8(plaintext.into_inner())
            .map(OAuthToken::new)
            .map_err(|_| DecryptError::Undecryptable)
    }
}

/// KMS's answers meaning "this ciphertext will never decrypt here".
fn is_refusal(error: &KmsDecryptError) -> bool {
    error.is_invalid_ciphertext_exception() || error.is_incorrect_key_exception()
}
