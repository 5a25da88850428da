//! The local world nectr-disconnect is tested, benchmarked and demonstrated
//! in: real servers on loopback (moto, ArcadeDB, Prism), the proxies that put
//! latency, faults and TLS between them and the function, and the run's own
//! certificate authority. Dev-only: the function never links it.

pub mod arcadedb;
pub mod bolt_proxy;
pub mod cleanup_queue;
pub mod fault_proxy;
pub mod fixture_state;
pub mod github_stub;
pub mod jwt;
pub mod local_aws;
pub mod moto;
pub mod prism;
pub mod process;
pub mod secrets;
pub mod seed;
pub mod tls;

use std::net::TcpListener;
use std::path::{Path, PathBuf};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// The repository's root, where scripts/tools/bootstrap.sh puts `.venv`.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/test-world sits two levels below the root")
        .to_path_buf()
}
