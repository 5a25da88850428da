//! The function as Lambda runs it: the release binary under a local Runtime
//! API (`runtime_api.rs`), against moto for DynamoDB, KMS and Secrets Manager
//! and a wiremock GitHub, with a latency L added to every call by a proxy.
//! Measures warm latency per L, cold start, and memory over 1,000
//! invocations. `make bench` builds the binary first; results go to stdout
//! and `target/bench/lambda.md`.

#[allow(dead_code)]
#[path = "../../tests/suite/support/fault_proxy.rs"]
mod fault_proxy;
#[allow(dead_code)]
#[path = "../../tests/suite/support/moto.rs"]
mod moto;
mod runtime_api;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use fault_proxy::{Fault, FaultProxy};
use moto::Moto;
use runtime_api::RuntimeApi;
use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const LATENCIES_MS: [u64; 3] = [0, 20, 50];
const WARM_SAMPLES: usize = 100;
const COLD_STARTS: usize = 15;
const MEMORY_INVOCATIONS: usize = 1_000;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn binary() -> PathBuf {
    let path = root().join("target/lambda-bench/nectr-disconnect/bootstrap");
    assert!(
        path.exists(),
        "{} is missing: run `make bench`",
        path.display()
    );
    path
}

/// One disconnect flavour: the fixture event and the item it deactivates.
struct Case {
    name: &'static str,
    event: String,
    sk: &'static str,
}

fn cases() -> [Case; 2] {
    let event = |file: &str| std::fs::read_to_string(root().join("events").join(file)).unwrap();
    [
        Case {
            name: "webhook",
            event: event("http-api-disconnect-with-webhook.json"),
            sk: "INSTALL#acme/my-backend#inst-backend",
        },
        Case {
            name: "no webhook",
            event: event("http-api-disconnect-without-webhook.json"),
            sk: "INSTALL#acme/docs#inst-docs",
        },
    ]
}

struct World {
    moto: Moto,
    dynamodb: aws_sdk_dynamodb::Client,
    api: RuntimeApi,
}

impl World {
    async fn start() -> Self {
        let moto = Moto::start().await;
        let seeded = Command::new(root().join(".venv/bin/python"))
            .arg("local_aws.py")
            .arg("setup")
            .current_dir(root().join("scripts"))
            .envs(aws_env(&moto.endpoint))
            .status()
            .expect("the seeding script runs");
        assert!(seeded.success(), "scripts/local_aws.py setup failed");
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&moto.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("local", "local", None, None, "bench"))
            .load()
            .await;
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            moto,
            api: RuntimeApi::start().await,
        }
    }

    /// Marks the installation active again, directly in moto, between
    /// measured invocations.
    async fn reconnect(&self, sk: &str) {
        self.dynamodb
            .update_item()
            .table_name("nectr-local")
            .key("pk", AttributeValue::S("USER#fixture-user".into()))
            .key("sk", AttributeValue::S(sk.into()))
            .update_expression("SET is_active = :t REMOVE disconnected_at")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .send()
            .await
            .expect("moto updates the item");
    }

    /// Starts the function with every AWS call going to `aws_endpoint`.
    fn spawn(&self, aws_endpoint: &str, github: &str, log: &str) -> Child {
        self.api.reset_first_poll();
        let log = std::fs::File::create(root().join("target/bench").join(log)).unwrap();
        let mut command = Command::new(binary());
        command
            .env_clear()
            .envs(aws_env(aws_endpoint))
            .envs([
                ("AWS_LAMBDA_RUNTIME_API", self.api.address.as_str()),
                ("AWS_LAMBDA_FUNCTION_NAME", "nectr-disconnect"),
                ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
                ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
                ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/nectr-disconnect"),
                ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
                ("TABLE_NAME", "nectr-local"),
                ("JWT_SECRET_ID", "nectr/local/jwt-signing-key"),
                ("KMS_KEY_ID", "alias/nectr-local-oauth-tokens"),
                ("GITHUB_API_URL", github),
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        command.spawn().expect("the bootstrap starts")
    }

    async fn wait_for_first_poll(&self, started: Instant) -> Duration {
        loop {
            if let Some(poll) = self.api.first_poll() {
                return poll - started;
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    /// One invocation of `case`, timed from queueing the event to the
    /// function's answer; the installation is reconnected afterwards.
    async fn invoke(&self, case: &Case) -> Duration {
        let started = Instant::now();
        let completion = self.api.invoke(&case.event).await;
        let elapsed = started.elapsed();
        assert!(!completion.error, "the invocation failed");
        let response: Value = serde_json::from_slice(&completion.body).unwrap();
        assert_eq!(response["statusCode"], 200, "{response}");
        self.reconnect(case.sk).await;
        elapsed
    }
}

fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "local".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "local".to_owned()),
    ]
}

async fn github(latency: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204).set_delay(latency))
        .mount(&server)
        .await;
    server
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap()
}

async fn warm_latency(world: &World, report: &mut String) {
    let cases = cases();
    let _ = writeln!(report, "## Warm invocations\n");
    let _ = writeln!(
        report,
        "{WARM_SAMPLES} invocations per row, after 5 warm-ups; L is added to every call to DynamoDB, KMS, Secrets Manager and GitHub.\n"
    );
    let _ = writeln!(
        report,
        "| L | case | p50 | p99 | min | max | p50 / L | Secrets Manager calls while warm |"
    );
    let _ = writeln!(report, "|---|---|---|---|---|---|---|---|");
    for latency_ms in LATENCIES_MS {
        let latency = Duration::from_millis(latency_ms);
        let proxy = FaultProxy::start(&world.moto.endpoint).await;
        proxy.inject(None, Fault::Delay(latency));
        let github = github(latency).await;
        let mut function = world.spawn(
            &proxy.endpoint,
            &github.uri(),
            &format!("warm-{latency_ms}ms.log"),
        );
        for case in &cases {
            for _ in 0..5 {
                world.invoke(case).await;
            }
        }
        let secrets_before = secret_fetches(&proxy);
        let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
        for _ in 0..WARM_SAMPLES {
            for (case, samples) in cases.iter().zip(&mut samples) {
                samples.push(world.invoke(case).await);
            }
        }
        let secret_calls = secret_fetches(&proxy) - secrets_before;
        for (case, mut samples) in cases.iter().zip(samples) {
            samples.sort();
            let p50 = percentile(&samples, 50.0);
            let ratio = if latency_ms == 0 {
                "—".to_owned()
            } else {
                format!("{:.2}", ms(p50) / latency_ms as f64)
            };
            let _ = writeln!(
                report,
                "| {latency_ms} ms | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {ratio} | {secret_calls} |",
                case.name,
                ms(p50),
                ms(percentile(&samples, 99.0)),
                ms(samples[0]),
                ms(*samples.last().unwrap()),
            );
        }
        let _ = function.kill();
        let _ = function.wait();
    }
}

fn secret_fetches(proxy: &FaultProxy) -> usize {
    proxy
        .calls()
        .iter()
        .filter(|c| c.operation == "GetSecretValue")
        .count()
}

async fn cold_start(world: &World, report: &mut String) {
    let github = github(Duration::ZERO).await;
    let case = &cases()[0];
    let (mut inits, mut firsts) = (Vec::new(), Vec::new());
    for n in 0..COLD_STARTS {
        let started = Instant::now();
        let mut function = world.spawn(
            &world.moto.endpoint,
            &github.uri(),
            &format!("cold-{n}.log"),
        );
        inits.push(world.wait_for_first_poll(started).await);
        firsts.push(world.invoke(case).await);
        let _ = function.kill();
        let _ = function.wait();
    }
    inits.sort();
    firsts.sort();
    let size = std::fs::metadata(binary()).unwrap().len();
    let _ = writeln!(report, "\n## Cold start\n");
    let _ = writeln!(
        report,
        "{COLD_STARTS} fresh processes, L = 0. Binary: {size} bytes ({:.1} MiB, x86_64).\n",
        size as f64 / 1048576.0
    );
    let _ = writeln!(report, "| measure | median | min | max |");
    let _ = writeln!(report, "|---|---|---|---|");
    for (name, samples) in [
        ("process start → first poll for an event", &inits),
        ("first invocation (webhook case)", &firsts),
    ] {
        let _ = writeln!(
            report,
            "| {name} | {:.1} ms | {:.1} ms | {:.1} ms |",
            ms(percentile(samples, 50.0)),
            ms(samples[0]),
            ms(*samples.last().unwrap())
        );
    }
}

async fn memory(world: &World, report: &mut String) {
    let github = github(Duration::ZERO).await;
    let case = &cases()[0];
    let mut function = world.spawn(&world.moto.endpoint, &github.uri(), "memory.log");
    let pid = function.id();
    let mut at_100 = 0;
    for n in 1..=MEMORY_INVOCATIONS {
        world.invoke(case).await;
        if n == 100 {
            at_100 = rss_kib(pid, "VmRSS:");
        }
    }
    let at_1000 = rss_kib(pid, "VmRSS:");
    let peak = rss_kib(pid, "VmHWM:");
    let _ = function.kill();
    let _ = function.wait();
    let _ = writeln!(report, "\n## Memory\n");
    let _ = writeln!(
        report,
        "| RSS after 100 invocations | RSS after {MEMORY_INVOCATIONS} | peak RSS (VmHWM) |"
    );
    let _ = writeln!(report, "|---|---|---|");
    let _ = writeln!(
        report,
        "| {:.1} MiB | {:.1} MiB | {:.1} MiB |",
        at_100 as f64 / 1024.0,
        at_1000 as f64 / 1024.0,
        peak as f64 / 1024.0
    );
}

#[tokio::main]
async fn main() {
    std::fs::create_dir_all(root().join("target/bench")).unwrap();
    let world = World::start().await;
    let mut report = String::from("# nectr-disconnect under a local Lambda runtime\n\n");
    warm_latency(&world, &mut report).await;
    cold_start(&world, &mut report).await;
    memory(&world, &mut report).await;
    println!("{report}");
    std::fs::write(root().join("target/bench/lambda.md"), &report).unwrap();
}
