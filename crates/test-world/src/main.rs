//! The local world's command line, for the scripts (demo, serve, fixtures):
//!
//!     test-world tls-ca DIR
//!         a CA for this run: DIR/ca.pem, and DIR/server.pem + DIR/server.key
//!         for the local names, issued by it
//!     test-world tls-terminate DIR LISTEN UPSTREAM
//!         TLS with DIR's server certificate on LISTEN (host:port), relayed
//!         in plain text to UPSTREAM, until killed

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use test_world::tls::{LocalCa, ServerIdentity, TlsTerminator};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match args.as_slice() {
        ["tls-ca", dir] => write_ca(Path::new(dir)),
        ["tls-terminate", dir, listen, upstream] => {
            terminate(Path::new(dir), listen, upstream).await
        }
        _ => Err(
            "usage: test-world tls-ca DIR | test-world tls-terminate DIR LISTEN UPSTREAM".into(),
        ),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("test-world: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write_ca(dir: &Path) -> Result<(), String> {
    let ca = LocalCa::generate("nectr-disconnect local CA");
    let server = ca.server();
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (file, contents) in [
        ("ca.pem", ca.pem()),
        ("server.pem", server.chain_pem),
        ("server.key", server.key_pem),
    ] {
        let path = dir.join(file);
        std::fs::write(&path, contents).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

async fn terminate(dir: &Path, listen: &str, upstream: &str) -> Result<(), String> {
    let read = |file: &str| {
        let path = dir.join(file);
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let identity = ServerIdentity {
        chain_pem: read("server.pem")?,
        key_pem: read("server.key")?,
    };
    let address = |value: &str| {
        value
            .parse::<SocketAddr>()
            .map_err(|e| format!("{value}: {e}"))
    };
    let _terminator = TlsTerminator::listen(address(listen)?, &identity, address(upstream)?)
        .await
        .map_err(|e| format!("{listen}: {e}"))?;
    // Until the script that started it kills it.
    std::future::pending().await
}
