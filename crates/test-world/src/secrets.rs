//! Every secret the suite creates — JWTs, signing keys, OAuth tokens,
//! ciphertexts, raw and base64 — registered so the log sink can refuse any
//! line that carries one.

use std::collections::BTreeSet;
use std::sync::{LazyLock, Mutex};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// Shorter values are too likely to occur in ordinary text by chance.
const MIN_LEN: usize = 8;
/// Binary secrets that happen to be text (the fakes' ciphertexts) read like
/// words more often; their base64 forms are registered whatever their size.
const MIN_TEXT_LEN: usize = 16;

static SECRETS: LazyLock<Mutex<BTreeSet<String>>> = LazyLock::new(Default::default);

pub fn register(secret: &str) {
    if secret.len() >= MIN_LEN {
        SECRETS.lock().unwrap().insert(secret.to_owned());
    }
}

/// A binary secret: its base64 forms, and its text when it is text.
pub fn register_bytes(secret: &[u8]) {
    for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
        register(&engine.encode(secret));
    }
    if let Ok(text) = std::str::from_utf8(secret)
        && text.len() >= MIN_TEXT_LEN
    {
        register(text);
    }
}

/// The first registered secret `text` contains.
pub fn leaked_in(text: &str) -> Option<String> {
    SECRETS
        .lock()
        .unwrap()
        .iter()
        .find(|secret| text.contains(secret.as_str()))
        .cloned()
}
