//! Values that must never reach a log line, an error body or a panic message.
//!
//! Each type's `Debug` is redacted and none implements `Display`; reading the
//! value takes an explicit `expose`. The `secrecy` wrappers zero the memory
//! when the value is dropped.

use std::fmt;
use std::time::SystemTime;

use secrecy::{ExposeSecret, SecretSlice, SecretString};

/// The caller's JWT, as sent in `Authorization` or the `access_token` cookie.
#[derive(Debug)]
pub struct BearerToken(SecretString);

impl BearerToken {
    pub fn new(token: &str) -> Self {
        Self(SecretString::from(token))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// What a request presents to prove who is calling (CONTRACT §2).
#[derive(Debug)]
pub enum Credentials {
    None,
    /// `Authorization: Bearer`.
    Bearer(BearerToken),
    /// The `access_token` cookie. A browser sends it on its own, so what it
    /// says about where the request comes from matters.
    Cookie {
        token: BearerToken,
        /// The `Origin` header.
        origin: Option<String>,
        /// `Sec-Fetch-Site: cross-site`.
        cross_site: bool,
    },
    /// Present but unusable; the reason is for the log.
    Unusable(&'static str),
}

/// The user's decrypted GitHub OAuth token.
#[derive(Debug)]
pub struct OAuthToken(SecretString);

impl OAuthToken {
    pub fn new(token: String) -> Self {
        Self(SecretString::from(token))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// One version of the HS256 signing key.
#[derive(Debug)]
pub struct SigningKey(SecretSlice<u8>);

impl SigningKey {
    pub fn new(key: Vec<u8>) -> Self {
        Self(SecretSlice::from(key))
    }

    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

/// The signing key versions: `AWSCURRENT`, and after a rotation
/// `AWSPREVIOUS`.
#[derive(Debug)]
pub struct SigningKeys {
    pub current: SigningKey,
    /// When the current version was created: the rotation that made the
    /// previous one previous. `None` when the store did not say.
    pub current_created: Option<SystemTime>,
    pub previous: Option<SigningKey>,
}

/// KMS ciphertext of a GitHub OAuth token. Not secret by itself, but a copy
/// in a log would let anyone with decrypt rights read the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Ciphertext(Vec<u8>);

impl Ciphertext {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Ciphertext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ciphertext([REDACTED {} bytes])", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_value() {
        let shown = format!(
            "{:?} {:?} {:?} {:?}",
            BearerToken::new("jwt-value"),
            OAuthToken::new("gho_value".into()),
            SigningKey::new(b"key-value".to_vec()),
            Ciphertext::new(b"cipher-value".to_vec()),
        );
        for secret in ["jwt-value", "gho_value", "key-value", "cipher-value"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
