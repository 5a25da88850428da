//! The process's one TLS crypto provider (CONTRACT §8).
//!
//! rustls is linked with two providers: aws-lc-rs, which the AWS SDK,
//! reqwest and jsonwebtoken use, and *ring*, which neo4rs enables. With two,
//! rustls cannot pick a process default, and neo4rs builds its TLS
//! configuration from that default (`ClientConfig::builder()`): without
//! one, every `bolt+s`, `neo4j+s` or `+ssc` connection panics.

use std::sync::Once;

/// Makes aws-lc-rs the process default. Idempotent; call it before any
/// client is built.
pub fn install_crypto_provider() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        // Err only when a default already exists, and nothing in this
        // process installs another one.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}
