//! The suite's TLS set-up (CONTRACT §8): one certificate authority for each
//! run of this binary, trusted the way an operator trusts a private CA in
//! Lambda, through `SSL_CERT_FILE`. It is set before `main`, while the
//! process has one thread, so every TLS stack in the process (the AWS SDK,
//! reqwest, neo4rs) reads the same file whenever it loads its roots; and
//! `SSL_CERT_DIR` is removed, so that the run's CA is all they trust,
//! whatever the machine's environment says.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;

use test_world::tls::{BadCertificate, LocalCa, TlsTerminator};

static RUN_CA: OnceLock<LocalCa> = OnceLock::new();

#[ctor::ctor(unsafe)]
fn trust_the_run_ca() {
    let ca = LocalCa::generate("nectr-disconnect test CA");
    std::fs::write(ca_file(), ca.pem()).expect("the run's CA file is written");
    // SAFETY: constructors run before main, when no other thread can read
    // the environment.
    unsafe {
        std::env::set_var("SSL_CERT_FILE", ca_file());
        std::env::remove_var("SSL_CERT_DIR");
    }
    let _ = RUN_CA.set(ca);
}

fn ca_file() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("run-ca-{}.pem", std::process::id()))
}

pub fn ca() -> &'static LocalCa {
    RUN_CA.get().expect("the run's CA was made before main")
}

/// TLS with a certificate the function trusts, in front of `upstream`.
pub async fn front(upstream: SocketAddr) -> TlsTerminator {
    TlsTerminator::start(&ca().server(), upstream)
        .await
        .expect("a loopback port for TLS")
}

/// TLS with a certificate the function must refuse, in front of `upstream`.
pub async fn bad_front(upstream: SocketAddr, bad: BadCertificate) -> TlsTerminator {
    TlsTerminator::start(&ca().bad_server(bad), upstream)
        .await
        .expect("a loopback port for TLS")
}

/// `host:port` of an `http://` or `bolt://` URL.
pub fn address(url: &str) -> SocketAddr {
    let authority = url.split_once("://").map_or(url, |(_, rest)| rest);
    authority
        .trim_end_matches('/')
        .parse()
        .expect("a loopback host:port")
}
