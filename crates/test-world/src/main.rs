//! The local world's command line, for the scripts (demo, serve, fixtures):
//!
//!     test-world tls-ca DIR
//!         a CA for this run: DIR/ca.pem, and DIR/server.pem + DIR/server.key
//!         for the local names, issued by it
//!     test-world tls-terminate DIR LISTEN UPSTREAM
//!         TLS with DIR's server certificate on LISTEN (host:port), relayed
//!         in plain text to UPSTREAM, until killed
//!     test-world mint-jwt [SUB] [--iat UNIX_SECONDS] [--exp UNIX_SECONDS]
//!         an HS256 token as the Nectr web app's backend issues it, signed
//!         with the fixtures' local test key; SUB defaults to the fixtures'
//!         user, iat to now, exp to 2100
//!     test-world fixture-key
//!         that local test key, for seeding the demo's Secrets Manager
//!     test-world fixture-graph
//!         the Cypher that writes the fixtures' code graph
//!     test-world seed NEO4J_PASSWORD
//!         in the AWS at AWS_ENDPOINT_URL (moto), what env.json names: the
//!         table, the OAuth-token key, the signing and Neo4j secrets, the
//!         cleanup queues; then the fixtures' user and installations
//!     test-world item REPO INSTALLATION_ID
//!         the fixtures' user's installation item, in DynamoDB's JSON

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use aws_config::{BehaviorVersion, SdkConfig};
use test_world::fixture_state::fixture_state;
use test_world::jwt::{self, FIXTURE_KEY, YEAR_2100};
use test_world::local_aws::{LocalAws, dynamodb_json};
use test_world::tls::{LocalCa, ServerIdentity, TlsTerminator};

const USAGE: &str = "usage: test-world tls-ca DIR | tls-terminate DIR LISTEN UPSTREAM \
                     | mint-jwt [SUB] [--iat N] [--exp N] | fixture-key | fixture-graph \
                     | seed NEO4J_PASSWORD | item REPO INSTALLATION_ID";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match args.as_slice() {
        ["tls-ca", dir] => write_ca(Path::new(dir)),
        ["tls-terminate", dir, listen, upstream] => {
            terminate(Path::new(dir), listen, upstream).await
        }
        ["mint-jwt", options @ ..] => mint_jwt(options),
        ["fixture-key"] => String::from_utf8(FIXTURE_KEY.to_vec())
            .map(|key| println!("{key}"))
            .map_err(|e| e.to_string()),
        ["fixture-graph"] => {
            println!("{}", fixture_state().graph_cypher());
            Ok(())
        }
        ["seed", neo4j_password] => {
            let _queue_url = LocalAws::from_env_json()
                .seed(&aws().await, neo4j_password)
                .await;
            Ok(())
        }
        ["item", repo, installation_id] => LocalAws::from_env_json()
            .installation(&aws().await, repo, installation_id)
            .await
            .map(|item| println!("{:#}", dynamodb_json(&item)))
            .ok_or_else(|| format!("no installation {installation_id} of {repo}")),
        _ => Err(USAGE.into()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("test-world: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The SDK's own configuration chain: AWS_ENDPOINT_URL, AWS_REGION, the
/// credentials, and SSL_CERT_FILE for the local world's CA.
async fn aws() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
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

fn mint_jwt(options: &[&str]) -> Result<(), String> {
    let state = fixture_state();
    let (mut sub, mut iat, mut exp) = (state.user.as_str(), jwt::now(), YEAR_2100);
    let mut options = options.iter();
    while let Some(option) = options.next() {
        let mut seconds = || -> Result<u64, String> {
            let value = options.next().ok_or(USAGE)?;
            value.parse().map_err(|e| format!("{option} {value}: {e}"))
        };
        match *option {
            "--iat" => iat = seconds()?,
            "--exp" => exp = seconds()?,
            value if !value.starts_with('-') => sub = value,
            _ => return Err(USAGE.into()),
        }
    }
    println!("{}", jwt::issued(FIXTURE_KEY, sub, iat, exp));
    Ok(())
}
