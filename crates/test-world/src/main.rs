//! The local world's command line, for the scripts (demo, serve, the
//! fixtures' runs under cargo lambda and SAM, the browser cases):
//!
//!     test-world free-port
//!         a loopback port free now
//!     test-world github-stub LISTEN [DIR]
//!         the local stand-in for GitHub's API on LISTEN (host:port), until
//!         killed; HTTPS with DIR's server certificate when given
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
//!         that local test key
//!     test-world graph-password
//!         the local code graph's password, for starting ArcadeDB
//!     test-world seed-graph BOLT_URI
//!         the fixtures' code graph, written over Bolt to the ArcadeDB there
//!     test-world seed
//!         in the AWS at AWS_ENDPOINT_URL (moto), what env.json names: the
//!         table, the OAuth-token key, the signing and Neo4j secrets, the
//!         cleanup queues; then the fixtures' user and installations
//!     test-world reset
//!         moto emptied, then seeded again
//!     test-world function-env GITHUB_API_URL NEO4J_URI [CA_FILE]
//!         env.json's variables of the disconnect, NAME=value per line, with
//!         this run's endpoints (AWS_ENDPOINT_URL's, the seeded queue's) and
//!         SSL_CERT_FILE=CA_FILE, left out without one
//!     test-world sam-env MOTO_PORT GITHUB_PORT BOLT_PORT [--origin ORIGIN] [--empty NAME]
//!         env.json for `sam local --env-vars`: the local world's endpoints at
//!         these ports, reached from the containers as host.docker.internal
//!         (the run's CA covers that name); with --origin, the disconnect's
//!         ALLOWED_ORIGINS, as the template's WebAppOrigin sets it; with
//!         --empty, the disconnect's variable NAME empty, a deploy that
//!         cannot start
//!     test-world item REPO INSTALLATION_ID
//!         the fixtures' user's installation item, in DynamoDB's JSON
//!     test-world queue-receive FILE [SECONDS]
//!         waits up to SECONDS (default 90) for cleanup jobs and writes them
//!         to FILE as the worker's SQS event
//!     test-world queue-settle EVENT RESPONSE
//!         what the event source mapping does once the worker answered
//!         RESPONSE: deletes every message of EVENT not reported as failed
//!     test-world queue-depth
//!         how many jobs the cleanup queue and its dead-letter queue hold
//!
//! AWS is reached with the SDK's own configuration chain (AWS_ENDPOINT_URL,
//! AWS_REGION, the credentials); AWS_CA_BUNDLE, as the AWS CLI reads it, is
//! the CA trusted for it.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_lambda_events::sqs::SqsEvent;
use nectr_disconnect::config;
use serde_json::Value;
use test_world::arcadedb::{self, LOCAL_PASSWORD};
use test_world::cleanup_queue;
use test_world::fixture_state::fixture_state;
use test_world::github_stub;
use test_world::jwt::{self, FIXTURE_KEY, YEAR_2100};
use test_world::local_aws::{LocalAws, disconnect_env, dynamodb_json};
use test_world::moto;
use test_world::tls::{LocalCa, ServerIdentity, TlsTerminator};

const USAGE: &str = "usage: test-world free-port | github-stub LISTEN [DIR] | tls-ca DIR | tls-terminate DIR LISTEN UPSTREAM \
                     | mint-jwt [SUB] [--iat N] [--exp N] | fixture-key | graph-password \
                     | seed-graph BOLT_URI | seed | reset \
                     | function-env GITHUB_API_URL NEO4J_URI [CA_FILE] \
                     | sam-env MOTO_PORT GITHUB_PORT BOLT_PORT [--origin O] [--empty NAME] \
                     | item REPO INSTALLATION_ID | queue-receive FILE [SECONDS] \
                     | queue-settle EVENT RESPONSE | queue-depth";

fn main() -> ExitCode {
    if let Some(ca) = std::env::var_os("AWS_CA_BUNDLE") {
        // SAFETY: no other thread exists yet; the runtime starts below.
        unsafe { std::env::set_var("SSL_CERT_FILE", ca) };
    }
    let runtime = tokio::runtime::Runtime::new().expect("a Tokio runtime");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match runtime.block_on(run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("test-world: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &[&str]) -> Result<(), String> {
    match args {
        ["free-port"] => {
            println!("{}", test_world::free_port());
            Ok(())
        }
        ["github-stub", listen, dir @ ..] if dir.len() <= 1 => {
            github_stub(listen, dir.first().map(Path::new)).await
        }
        ["tls-ca", dir] => write_ca(Path::new(dir)),
        ["tls-terminate", dir, listen, upstream] => {
            terminate(Path::new(dir), listen, upstream).await
        }
        ["mint-jwt", options @ ..] => mint_jwt(options),
        ["fixture-key"] => String::from_utf8(FIXTURE_KEY.to_vec())
            .map(|key| println!("{key}"))
            .map_err(|e| e.to_string()),
        ["graph-password"] => {
            println!("{LOCAL_PASSWORD}");
            Ok(())
        }
        ["seed-graph", uri] => {
            arcadedb::write(uri, LOCAL_PASSWORD, &fixture_state().graph_cypher()).await;
            Ok(())
        }
        ["seed"] => seed().await,
        ["reset"] => {
            moto::reset(&endpoint()?).await?;
            seed().await
        }
        ["function-env", github, neo4j, ca @ ..] if ca.len() <= 1 => {
            function_env(github, neo4j, ca.first().copied()).await
        }
        ["sam-env", moto, github, bolt, options @ ..] => sam_env(moto, github, bolt, options).await,
        ["item", repo, installation_id] => LocalAws::from_env_json()
            .installation(&aws().await, repo, installation_id)
            .await
            .map(|item| println!("{:#}", dynamodb_json(&item)))
            .ok_or_else(|| format!("no installation {installation_id} of {repo}")),
        ["queue-receive", file, seconds @ ..] if seconds.len() <= 1 => {
            let seconds = match seconds.first() {
                Some(value) => value.parse().map_err(|e| format!("{value}: {e}"))?,
                None => 90,
            };
            receive(Path::new(file), Duration::from_secs(seconds)).await
        }
        ["queue-settle", event, response] => settle(Path::new(event), Path::new(response)).await,
        ["queue-depth"] => depth().await,
        _ => Err(USAGE.into()),
    }
}

/// The SDK's own configuration chain: AWS_ENDPOINT_URL, AWS_REGION, the
/// credentials, and SSL_CERT_FILE for the local world's CA.
async fn aws() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

fn endpoint() -> Result<String, String> {
    std::env::var("AWS_ENDPOINT_URL").map_err(|_| "AWS_ENDPOINT_URL is not set".to_owned())
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

async fn seed() -> Result<(), String> {
    let _queue_url = LocalAws::from_env_json()
        .seed(&aws().await, LOCAL_PASSWORD)
        .await;
    Ok(())
}

async fn function_env(github: &str, neo4j: &str, ca: Option<&str>) -> Result<(), String> {
    let (queue_url, _) = LocalAws::from_env_json().queue_urls(&aws().await).await;
    let mut variables = disconnect_env();
    for (name, value) in [
        ("AWS_ENDPOINT_URL", endpoint()?.as_str()),
        (config::GITHUB_API_URL, github),
        (config::NEO4J_URI, neo4j),
        (config::CLEANUP_QUEUE_URL, &queue_url),
    ] {
        variables.insert(name.to_owned(), value.into());
    }
    match ca {
        Some(ca) if !ca.is_empty() => variables.insert("SSL_CERT_FILE".to_owned(), ca.into()),
        _ => variables.remove("SSL_CERT_FILE"),
    };
    for (name, value) in variables {
        println!("{name}={}", value.as_str().unwrap_or_default());
    }
    Ok(())
}

async fn sam_env(moto: &str, github: &str, bolt: &str, options: &[&str]) -> Result<(), String> {
    const HOST: &str = "host.docker.internal";
    let (queue_url, _) = LocalAws::from_env_json().queue_urls(&aws().await).await;
    let queue_path = queue_url
        .splitn(4, '/')
        .nth(3)
        .ok_or_else(|| format!("{queue_url} has no path"))?;
    let endpoints = [
        ("AWS_ENDPOINT_URL", format!("https://{HOST}:{moto}")),
        (config::GITHUB_API_URL, format!("https://{HOST}:{github}")),
        (config::NEO4J_URI, format!("neo4j+s://{HOST}:{bolt}")),
        (
            config::CLEANUP_QUEUE_URL,
            format!("https://{HOST}:{moto}/{queue_path}"),
        ),
    ];
    let (mut origin, mut empty) = (None, None);
    match options {
        [] => {}
        ["--origin", value] => origin = Some(*value),
        ["--empty", name] => empty = Some(*name),
        _ => return Err(USAGE.into()),
    }
    let mut functions = test_world::local_aws::env_json();
    for (function, variables) in functions.iter_mut() {
        let Value::Object(variables) = variables else {
            return Err(format!("env.json's {function} is not a map of variables"));
        };
        for (name, value) in &endpoints {
            if variables.contains_key(*name) {
                variables.insert((*name).to_owned(), value.as_str().into());
            }
        }
        if let Some(origin) = origin.filter(|_| variables.contains_key(config::ALLOWED_ORIGINS)) {
            variables.insert(config::ALLOWED_ORIGINS.to_owned(), origin.into());
        }
        if let Some(name) = empty.filter(|_| function == "DisconnectFunction") {
            variables.insert(name.to_owned(), "".into());
        }
    }
    let json = serde_json::to_string_pretty(&functions).map_err(|e| e.to_string())?;
    println!("{json}");
    Ok(())
}

/// Polls until at least one job is there or `wait` has passed: a job is
/// delayed before its first try (CONTRACT §9).
async fn receive(file: &Path, wait: Duration) -> Result<(), String> {
    let config = aws().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let (url, _) = LocalAws::from_env_json().queue_urls(&config).await;
    let deadline = Instant::now() + wait;
    let mut records = cleanup_queue::receive(&sqs, &url).await;
    while records.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        records = cleanup_queue::receive(&sqs, &url).await;
    }
    println!("{} cleanup job(s) received", records.len());
    for record in &records {
        println!("{}", record.body.as_deref().unwrap_or_default());
    }
    let mut event = SqsEvent::default();
    event.records = records;
    let json = serde_json::to_string_pretty(&event).map_err(|e| e.to_string())?;
    std::fs::write(file, json).map_err(|e| format!("{}: {e}", file.display()))
}

async fn settle(event: &Path, response: &Path) -> Result<(), String> {
    let batch: SqsEvent =
        serde_json::from_str(&read(event)?).map_err(|e| format!("{}: {e}", event.display()))?;
    let response: Value = serde_json::from_str(&read(response)?)
        .map_err(|e| format!("{}: {e}", response.display()))?;
    let failed: Vec<String> = response["batchItemFailures"]
        .as_array()
        .ok_or("the worker's answer has no batchItemFailures")?
        .iter()
        .filter_map(|failure| failure["itemIdentifier"].as_str().map(str::to_owned))
        .collect();
    let config = aws().await;
    let (url, _) = LocalAws::from_env_json().queue_urls(&config).await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    cleanup_queue::settle(&sqs, &url, &batch.records, &failed).await;
    Ok(())
}

async fn depth() -> Result<(), String> {
    let config = aws().await;
    let names = LocalAws::from_env_json();
    let (queue, dead_letters) = names.queue_urls(&config).await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    for (name, url) in [
        (&names.cleanup_queue, queue),
        (&names.dead_letter_queue, dead_letters),
    ] {
        println!("{name}: {} job(s)", cleanup_queue::depth(&sqs, &url).await);
    }
    Ok(())
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

/// The local world's server certificate, as `tls-ca DIR` wrote it.
fn server_identity(dir: &Path) -> Result<ServerIdentity, String> {
    Ok(ServerIdentity {
        chain_pem: read(&dir.join("server.pem"))?,
        key_pem: read(&dir.join("server.key"))?,
    })
}

fn address(value: &str) -> Result<SocketAddr, String> {
    value.parse().map_err(|e| format!("{value}: {e}"))
}

async fn github_stub(listen: &str, tls: Option<&Path>) -> Result<(), String> {
    let identity = tls.map(server_identity).transpose()?;
    github_stub::serve(address(listen)?, identity)
        .await
        .map_err(|e| format!("{listen}: {e}"))
}

async fn terminate(dir: &Path, listen: &str, upstream: &str) -> Result<(), String> {
    let identity = server_identity(dir)?;
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
