//! Every JWT the local world mints, good and hostile: the suite's, the
//! bench's, and through `test-world mint-jwt` the scripts' and the event
//! fixtures'.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::{Value, json};

use crate::secrets;

/// The documented local test key the fixtures in `events/` are signed with;
/// it protects nothing and must never be used outside tests.
pub const FIXTURE_KEY: &[u8] = b"nectr-local-test-signing-key-not-a-secret";
/// 2100-01-01: the expiry of the fixtures' tokens and the demo's.
pub const YEAR_2100: u64 = 4_102_444_800;

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

/// The claims the Nectr web app's backend issues, in its order.
#[derive(Serialize)]
struct IssuedClaims<'a> {
    sub: &'a str,
    iat: u64,
    exp: u64,
}

/// A token as the Nectr web app's backend issues it: the bytes of the event
/// fixtures, whose tokens are minted with fixed times.
pub fn issued(key: &[u8], sub: &str, iat: u64, exp: u64) -> String {
    let claims = serde_json::to_vec(&IssuedClaims { sub, iat, exp }).expect("JSON serializes");
    signed(key, &json!({"alg": "HS256", "typ": "JWT"}), &claims)
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
    signed(
        key,
        header,
        &serde_json::to_vec(claims).expect("JSON serializes"),
    )
}

fn signed(key: &[u8], header: &Value, claims: &[u8]) -> String {
    let message = format!(
        "{}.{}",
        encode(&serde_json::to_vec(header).expect("JSON serializes")),
        encode(claims)
    );
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
        encode(
            &serde_json::to_vec(&json!({"alg": "none", "typ": "JWT"})).expect("JSON serializes")
        ),
        encode(&serde_json::to_vec(claims).expect("JSON serializes"))
    )
}

fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}
