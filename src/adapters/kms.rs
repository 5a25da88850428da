//! `TokenDecryptor` over AWS KMS (CONTRACT §4).

use aws_sdk_kms::Client;
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::operation::decrypt::DecryptError as KmsDecryptError;
use aws_sdk_kms::primitives::Blob;
use zeroize::Zeroize;

use super::aws_errors::classify;
use crate::domain::{Ciphertext, OAuthToken, UserId};
use crate::metrics::{self, Call};
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

    /// Leaves a connection to KMS open in the client's pool. DescribeKey
    /// reads the key's metadata, never a ciphertext.
    pub async fn open_connection(&self) -> Result<(), DependencyError> {
        self.client
            .describe_key()
            .key_id(&self.key_id)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify(Dependency::Kms, e))
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
        let output = metrics::timed(
            Call::KmsDecrypt,
            self.client
                .decrypt()
                .key_id(&self.key_id)
                .ciphertext_blob(Blob::new(ciphertext.as_bytes()))
                .encryption_context(ENCRYPTION_CONTEXT_KEY, user.as_str())
                .send(),
        )
        .await;
        let plaintext = match output {
            Ok(output) => output
                .plaintext
                .ok_or_else(|| DependencyError::failed(Dependency::Kms, NoPlaintext))?,
            Err(e) => match e.as_service_error().and_then(refusal) {
                Some(reason) => return Err(DecryptError::Undecryptable(reason)),
                None => return Err(classify(Dependency::Kms, e).into()),
            },
        };
        match String::from_utf8(plaintext.into_inner()) {
            Ok(token) => Ok(OAuthToken::new(token)),
            Err(not_text) => {
                not_text.into_bytes().zeroize();
                Err(DecryptError::Undecryptable("plaintext is not UTF-8"))
            }
        }
    }
}

/// KMS's answers meaning "this ciphertext will never decrypt here". A
/// ciphertext under another key is `IncorrectKeyException` on AWS and
/// `AccessDeniedException` on moto.
fn refusal(error: &KmsDecryptError) -> Option<&'static str> {
    if error.is_invalid_ciphertext_exception() {
        Some("KMS: invalid ciphertext or encryption context")
    } else if error.is_incorrect_key_exception() {
        Some("KMS: encrypted under another key")
    } else if error.code() == Some("AccessDeniedException") {
        Some("KMS: access denied to the ciphertext's key")
    } else {
        None
    }
}
