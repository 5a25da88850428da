//! Minting JWTs for tests, good and hostile.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use test_world::secrets;

/// The documented local test key the fixtures in `events/` are signed with.
pub const FIXTURE_KEY: &[u8] = b"nectr-local-test-signing-key-not-a-secret";

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// Claims of a token for `sub`, valid for the next hour.
pub fn claims(sub: &str) -> Value {
    json!({ "sub": sub, "iat": now(), "exp": now() + 3600 })
}

pub fn hs256(key: &[u8], claims: &Value) -> String {
    with_algorithm(Algorithm::HS256, key, claims)
}

pub fn with_algorithm(algorithm: Algorithm, key: &[u8], claims: &Value) -> String {
    let token = jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(key),
    )
    .expect("HMAC signing works");
    registered(key, token)
}

/// Every token and key minted here is a secret the logs must never show.
fn registered(key: &[u8], token: String) -> String {
    secrets::register_bytes(key);
    secrets::register(&token);
    token
}

/// A token whose header says `alg` but which is signed with HMAC-SHA256 over
/// `key` anyway: the shape of algorithm-confusion attacks.
pub fn hmac_signed_with_header(header: &Value, key: &[u8], claims: &Value) -> String {
    let message = format!("{}.{}", encode(header), encode(claims));
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(key),
        Algorithm::HS256,
    )
    .expect("HMAC signing works");
    registered(key, format!("{message}.{signature}"))
}

/// `alg: none`: header and claims, no signature.
pub fn unsigned(claims: &Value) -> String {
    format!(
        "{}.{}.",
        encode(&json!({"alg": "none", "typ": "JWT"})),
        encode(claims)
    )
}

fn encode(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON serializes"))
}
