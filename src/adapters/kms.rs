//! `TokenDecryptor` over AWS KMS (CONTRACT §4).

use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::KeyState;
use zeroize::Zeroize;

use super::aws_errors::{Meaning, classify, meaning_of};
use crate::domain::{Ciphertext, OAuthToken, UserId};
use crate::metrics::{self, Call};
use crate::ports::{DecryptError, Dependency, DependencyError, TokenDecryptor};

#[derive(Clone)]
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
    /// reads the key's metadata, never a ciphertext; a key that cannot
    /// decrypt (disabled, pending deletion) is a misconfiguration.
    pub async fn open_connection(&self) -> Result<(), DependencyError> {
        let request = self.client.describe_key().key_id(&self.key_id);
        let output = request
            .send()
            .await
            .map_err(|e| classify(Dependency::Kms, &self.key_id, e))?;
        match output.key_metadata.and_then(|key| key.key_state) {
            None | Some(KeyState::Enabled) => Ok(()),
            Some(state) => Err(DependencyError::misconfigured(
                Dependency::Kms,
                format!("KeyState {}", state.as_str()),
                &self.key_id,
                KeyNotUsable(state.as_str().to_owned()),
            )),
        }
    }
}

/// The `CiphertextBlob` lengths KMS `Decrypt` takes (its API reference).
const CIPHERTEXT_LENGTHS: std::ops::RangeInclusive<usize> = 1..=6144;

/// The encryption context every OAuth-token ciphertext is bound to.
pub const ENCRYPTION_CONTEXT_KEY: &str = "user_id";

#[derive(Debug, thiserror::Error)]
#[error("KMS answered without a plaintext")]
struct NoPlaintext;

#[derive(Debug, thiserror::Error)]
#[error("the key is {0}, so it decrypts nothing")]
struct KeyNotUsable(String);

impl TokenDecryptor for KmsTokenDecryptor {
    async fn decrypt(
        &self,
        user: &UserId,
        ciphertext: &Ciphertext,
    ) -> Result<OAuthToken, DecryptError> {
        // KMS answers ValidationException for these, which would otherwise
        // read as our error; the user's stored token is what is wrong.
        if !CIPHERTEXT_LENGTHS.contains(&ciphertext.as_bytes().len()) {
            return Err(DecryptError::Undecryptable(
                "KMS: the ciphertext is empty or longer than 6144 bytes",
            ));
        }
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
            Err(e) => match meaning_of(&e) {
                Meaning::CiphertextRefused(reason) => {
                    return Err(DecryptError::Undecryptable(reason));
                }
                _ => return Err(classify(Dependency::Kms, &self.key_id, e).into()),
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
