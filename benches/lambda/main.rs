//! The function as Lambda runs it: the release binary under a local Runtime
//! API (`runtime_api.rs`), against moto for DynamoDB, KMS and Secrets Manager
//! and a wiremock GitHub, with a latency L added to every call (and 2·L to
//! every new connection) by proxies.
//! Measures warm latency per L, what the code graph read adds to it (with
//! ArcadeDB as the Bolt server), cold start, and memory over 1,000
//! invocations. `make bench` builds the binary first; results go to stdout
//! and `target/bench/lambda.md`.

mod graph;
mod runtime_api;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use nectr_disconnect::adapters::dynamodb::{installation_sk, user_pk};
use nectr_disconnect::domain::{RepoName, UserId};
use runtime_api::RuntimeApi;
use serde_json::Value;
use test_world::fault_proxy::{Call, Fault, FaultProxy};
use test_world::jwt::FIXTURE_USER;
use test_world::moto::Moto;
use test_world::tls::{LocalCa, ServerIdentity};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const LATENCIES_MS: [u64; 3] = [0, 20, 50];
const WARM_SAMPLES: usize = 100;
const COLD_STARTS: usize = 15;
const COLD_LATENCIES_MS: [u64; 2] = [0, 20];
/// `BENCH_MEMORY_INVOCATIONS` runs longer, to see where RSS settles.
fn memory_invocations() -> usize {
    std::env::var("BENCH_MEMORY_INVOCATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000)
}

/// `BENCH_SECTIONS=warm,graph,cold,memory` (the default: all of them).
fn sections() -> Vec<&'static str> {
    let wanted = std::env::var("BENCH_SECTIONS").unwrap_or_default();
    ["warm", "graph", "cold", "memory"]
        .into_iter()
        .filter(|s| wanted.is_empty() || wanted.split(',').any(|w| w.trim() == *s))
        .collect()
}

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

/// One kind of invocation: the fixture event, the status it gets, the item
/// it deactivates, and the calls on its critical path, step by step (calls
/// in one step run side by side).
struct Case {
    name: &'static str,
    event: String,
    status: u16,
    installation: Option<(&'static str, &'static str)>,
    steps: &'static [&'static [&'static str]],
}

fn cases() -> [Case; 3] {
    let event = |file: &str| std::fs::read_to_string(root().join("events").join(file)).unwrap();
    [
        Case {
            name: "webhook",
            event: event("http-api-disconnect-with-webhook.json"),
            status: 200,
            installation: Some(("acme/my-backend", "inst-backend")),
            steps: &[
                &["GetItem", "Query"],
                &["Decrypt"],
                &["UpdateItem", "GitHub"],
            ],
        },
        Case {
            name: "no webhook",
            event: event("http-api-disconnect-without-webhook.json"),
            status: 200,
            installation: Some(("acme/docs", "inst-docs")),
            steps: &[&["GetItem", "Query"], &["UpdateItem"]],
        },
        // No dependency call at all: the function and the runtime API alone.
        Case {
            name: "bad token (401)",
            event: event("http-api-bad-token.json"),
            status: 401,
            installation: None,
            steps: &[],
        },
    ]
}

struct World {
    moto: Moto,
    /// What the proxies serve over TLS, issued by a CA made for this run;
    /// the function trusts it through `SSL_CERT_FILE`.
    tls: ServerIdentity,
    ca_file: PathBuf,
    cleanup_queue_url: String,
    dynamodb: aws_sdk_dynamodb::Client,
    secrets_manager: aws_sdk_secretsmanager::Client,
    api: RuntimeApi,
}

impl World {
    async fn start() -> Self {
        let moto = Moto::start().await;
        let seeded = Command::new(root().join(".venv/bin/python"))
            .arg("local_aws.py")
            .arg("setup")
            .current_dir(root().join("scripts/local"))
            .envs(aws_env(&moto.endpoint))
            .status()
            .expect("the seeding script runs");
        assert!(seeded.success(), "scripts/local/local_aws.py setup failed");
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&moto.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("local", "local", None, None, "bench"))
            .load()
            .await;
        let cleanup_queue_url = format!("{}/123456789012/nectr-webhook-cleanup", moto.endpoint);
        let ca = LocalCa::generate("nectr-disconnect bench CA");
        let ca_file = root().join("target/bench/ca.pem");
        std::fs::write(&ca_file, ca.pem()).unwrap();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            secrets_manager: aws_sdk_secretsmanager::Client::new(&config),
            moto,
            tls: ca.server(),
            ca_file,
            cleanup_queue_url,
            api: RuntimeApi::start().await,
        }
    }

    /// Marks the installation active again, directly in moto, between
    /// measured invocations.
    async fn reconnect(&self, (repo, installation_id): (&str, &str)) {
        let repo = RepoName::parse_full_name(repo).expect("a fixture repository");
        self.dynamodb
            .update_item()
            .table_name("nectr-local")
            .key("pk", AttributeValue::S(user_pk(&UserId::new(FIXTURE_USER))))
            .key(
                "sk",
                AttributeValue::S(installation_sk(&repo, installation_id)),
            )
            .update_expression("SET is_active = :t REMOVE disconnected_at")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .send()
            .await
            .expect("moto updates the item");
    }

    /// The Neo4j credentials secret of `scripts/local/local_aws.py`, pointed at
    /// a server with this password.
    async fn store_neo4j_password(&self, password: &str) {
        let credentials =
            serde_json::json!({"username": test_world::arcadedb::USERNAME, "password": password});
        self.secrets_manager
            .put_secret_value()
            .secret_id("nectr/local/neo4j")
            .secret_string(credentials.to_string())
            .send()
            .await
            .expect("moto stores the Neo4j credentials");
    }

    fn spawn(
        &self,
        binary: &Path,
        aws_endpoint: &str,
        github: &str,
        log: &str,
        warm_up: bool,
    ) -> Child {
        self.spawn_configured(binary, aws_endpoint, github, log, warm_up, None)
    }

    /// The current build with warm-up at init, reading the code graph at
    /// `graph` (a Bolt URI) if given.
    fn spawn_with_graph(
        &self,
        aws_endpoint: &str,
        github: &str,
        log: &str,
        graph: Option<&str>,
    ) -> Child {
        self.spawn_configured(&binary(), aws_endpoint, github, log, true, graph)
    }

    /// Starts `binary` with every AWS call going to `aws_endpoint`; its log
    /// goes to `target/bench/{log}`.
    fn spawn_configured(
        &self,
        binary: &Path,
        aws_endpoint: &str,
        github: &str,
        log: &str,
        warm_up: bool,
        graph: Option<&str>,
    ) -> Child {
        self.api.reset_first_poll();
        let log = std::fs::File::create(root().join("target/bench").join(log)).unwrap();
        let mut command = Command::new(binary);
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
                // As deployed; the disconnect sends to it only when GitHub
                // fails, which no measured case does.
                ("CLEANUP_QUEUE_URL", self.cleanup_queue_url.as_str()),
                ("WARM_UP_ON_INIT", if warm_up { "true" } else { "false" }),
            ])
            .env("SSL_CERT_FILE", &self.ca_file)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        if let Some(uri) = graph {
            command.envs([("NEO4J_URI", uri), ("NEO4J_SECRET_ID", "nectr/local/neo4j")]);
        }
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
        let window = self.invoke_in(case).await;
        window.end - window.start
    }

    async fn invoke_in(&self, case: &Case) -> Range<Instant> {
        self.invoke_with_graph(case, false).await
    }

    /// As `invoke_in`; a 200 must carry `graph` exactly when `graph` is set,
    /// so a variant whose graph read failed is never measured as if it ran.
    async fn invoke_with_graph(&self, case: &Case, graph: bool) -> Range<Instant> {
        let started = Instant::now();
        let completion = self.api.invoke(&case.event).await;
        let window = started..Instant::now();
        assert!(!completion.error, "the invocation failed");
        let response: Value = serde_json::from_slice(&completion.body).unwrap();
        assert_eq!(response["statusCode"], case.status, "{response}");
        if case.status == 200 {
            let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
            assert_eq!(body.get("graph").is_some(), graph, "{body}");
        }
        if let Some(installation) = case.installation {
            self.reconnect(installation).await;
        }
        window
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

async fn github() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    server
}

/// How the function reaches the proxies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    Plain,
    Tls,
}

/// Proxies in front of moto and of the GitHub stub that add `latency` to
/// every call, and twice that to the first call on a new connection: a
/// round trip each for the TCP and the TLS handshake. Over TLS the
/// handshake itself is real too, so its CPU cost is in the figures.
async fn network(
    world: &World,
    github: &str,
    latency: Duration,
    transport: Transport,
) -> (FaultProxy, FaultProxy) {
    let (aws, github) = match transport {
        Transport::Plain => (
            FaultProxy::plain(&world.moto.endpoint).await,
            FaultProxy::plain(github).await,
        ),
        Transport::Tls => (
            FaultProxy::start(&world.moto.endpoint, &world.tls).await,
            FaultProxy::start(github, &world.tls).await,
        ),
    };
    for proxy in [&aws, &github] {
        proxy.inject(None, Fault::Delay(latency));
        proxy.handshake(2 * latency);
    }
    (aws, github)
}

/// Time inside `window` during which at least one call was in flight at a
/// proxy: the invocation's wait on its dependencies.
fn time_in_calls(window: &Range<Instant>, calls: &[Call]) -> Duration {
    let mut spans: Vec<(Instant, Instant)> = calls
        .iter()
        .filter(|c| c.arrived >= window.start && c.arrived < window.end)
        .map(|c| (c.arrived, c.answered.min(window.end)))
        .collect();
    spans.sort();
    let mut total = Duration::ZERO;
    let mut covered_until = window.start;
    for (start, end) in spans {
        let start = start.max(covered_until);
        if end > start {
            total += end - start;
            covered_until = end;
        }
    }
    total
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
        "{WARM_SAMPLES} invocations per row, after 5 warm-ups; a proxy in front of moto and one in front of the GitHub stub add L to every call to DynamoDB, KMS, Secrets Manager and GitHub, and 2·L more to the first call on a new connection (TCP and TLS handshakes).\n"
    );
    let _ = writeln!(
        report,
        "`(p50 − p50 at L = 0) / L` counts the calls that wait on each other: what L adds, in units of L. Each invocation splits into time *in calls* (at least one call in flight at a proxy: L, moto's service time, forwarding) and time *outside calls* (the function's own work, the HTTP client, the runtime API's two hops). `moto` is moto's median service time summed over the critical path (the slower call of each step).\n"
    );
    let _ = writeln!(
        report,
        "| L | case | p50 | p99 | min | max | p50 / L | (p50 − p50 at L = 0) / L | in calls (p50) | outside calls (p50) | moto | Secrets Manager calls while warm |"
    );
    let _ = writeln!(report, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut p50_at_zero: BTreeMap<&str, Duration> = BTreeMap::new();
    let mut service_times = String::new();
    let github = github().await;
    for latency_ms in LATENCIES_MS {
        let latency = Duration::from_millis(latency_ms);
        let (aws, github) = network(world, &github.uri(), latency, Transport::Plain).await;
        let mut function = world.spawn(
            &binary(),
            &aws.endpoint,
            &github.endpoint,
            &format!("warm-{latency_ms}ms.log"),
            true,
        );
        for case in &cases {
            for _ in 0..5 {
                world.invoke(case).await;
            }
        }
        let calls_before = aws.calls().len();
        let secrets_before = secret_fetches(&aws);
        let mut windows: Vec<Vec<Range<Instant>>> = vec![Vec::new(); cases.len()];
        for _ in 0..WARM_SAMPLES {
            for (case, windows) in cases.iter().zip(&mut windows) {
                windows.push(world.invoke_in(case).await);
            }
        }
        let secret_calls = secret_fetches(&aws) - secrets_before;
        let calls: Vec<Call> = aws.calls().into_iter().chain(github.calls()).collect();
        let moto = MotoTimes::of(&aws.calls()[calls_before..]);
        let _ = writeln!(service_times, "| {latency_ms} ms | {} |", moto.describe());
        for (case, windows) in cases.iter().zip(windows) {
            let sorted = |mut v: Vec<Duration>| {
                v.sort();
                v
            };
            let totals = sorted(windows.iter().map(|w| w.end - w.start).collect());
            let inside = sorted(windows.iter().map(|w| time_in_calls(w, &calls)).collect());
            let outside = sorted(
                windows
                    .iter()
                    .map(|w| (w.end - w.start) - time_in_calls(w, &calls))
                    .collect(),
            );
            let p50 = percentile(&totals, 50.0);
            let p50_at_zero = *p50_at_zero.entry(case.name).or_insert(p50);
            let (ratio, steps) = if latency_ms == 0 {
                ("—".to_owned(), "—".to_owned())
            } else {
                let per_l = |d: Duration| format!("{:.2}", ms(d) / latency_ms as f64);
                (per_l(p50), per_l(p50.saturating_sub(p50_at_zero)))
            };
            let _ = writeln!(
                report,
                "| {latency_ms} ms | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {ratio} | {steps} | {:.1} ms | {:.1} ms | {:.1} ms | {secret_calls} |",
                case.name,
                ms(p50),
                ms(percentile(&totals, 99.0)),
                ms(totals[0]),
                ms(*totals.last().unwrap()),
                ms(percentile(&inside, 50.0)),
                ms(percentile(&outside, 50.0)),
                ms(moto.critical_path(case.steps)),
            );
        }
        let _ = function.kill();
        let _ = function.wait();
    }
    let _ = writeln!(
        report,
        "\nmoto's median service time per operation, as the proxy measured it (request forwarded → answer read):\n"
    );
    let _ = writeln!(report, "| L | per operation |\n|---|---|\n{service_times}");
}

/// moto's median service time per operation over a set of calls.
struct MotoTimes(BTreeMap<String, Duration>);

impl MotoTimes {
    fn of(calls: &[Call]) -> Self {
        let mut by_operation: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
        for call in calls {
            if let Some(time) = call.upstream_time {
                by_operation
                    .entry(call.operation.clone())
                    .or_default()
                    .push(time);
            }
        }
        Self(
            by_operation
                .into_iter()
                .map(|(operation, mut times)| {
                    times.sort();
                    (operation, percentile(&times, 50.0))
                })
                .collect(),
        )
    }

    /// The slowest call of each step, summed; calls that do not go to moto
    /// (GitHub) count as zero.
    fn critical_path(&self, steps: &[&[&str]]) -> Duration {
        steps
            .iter()
            .map(|step| {
                step.iter()
                    .filter_map(|operation| self.0.get(*operation).copied())
                    .max()
                    .unwrap_or_default()
            })
            .sum()
    }

    fn describe(&self) -> String {
        self.0
            .iter()
            .map(|(operation, time)| format!("{operation} {:.1} ms", ms(*time)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn secret_fetches(proxy: &FaultProxy) -> usize {
    proxy
        .calls()
        .iter()
        .filter(|c| c.operation == "GetSecretValue")
        .count()
}

/// A binary and how it starts, for the cold-start comparison.
struct Variant {
    name: String,
    binary: PathBuf,
    warm_up: bool,
}

fn variants() -> Vec<Variant> {
    let mut variants = vec![
        Variant {
            name: "no network work at init".into(),
            binary: binary(),
            warm_up: false,
        },
        Variant {
            name: "warm-up at init".into(),
            binary: binary(),
            warm_up: true,
        },
    ];
    // Earlier builds to compare with in the same run, e.g. from before a
    // dependency change: BENCH_BASELINE_BOOTSTRAP=path[:path...].
    if let Some(baselines) = std::env::var_os("BENCH_BASELINE_BOOTSTRAP") {
        for binary in std::env::split_paths(&baselines) {
            variants.push(Variant {
                name: format!("baseline {}", binary.display()),
                binary,
                warm_up: false,
            });
        }
    }
    variants
}

/// Init steps as the function logs them (`name=12.3` fields).
const INIT_STEPS: [&str; 7] = [
    "sdk_config_ms",
    "clients_ms",
    "signing_keys_ms",
    "dynamodb_ms",
    "kms_ms",
    "github_ms",
    "warm_up_ms",
];

/// The init steps of a log of JSON lines; the bench stops when a log has
/// none, so the column can never be silently empty.
fn logged_steps(log: &Path) -> BTreeMap<&'static str, f64> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<Value> = text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let steps: BTreeMap<&'static str, f64> = INIT_STEPS
        .iter()
        .filter_map(|step| Some((*step, lines.iter().find_map(|line| line[*step].as_f64())?)))
        .collect();
    assert!(
        !steps.is_empty(),
        "no init steps in {}: {text}",
        log.display()
    );
    steps
}

/// CPU time the process has used so far, over all its threads.
fn cpu_time(pid: u32) -> Duration {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the process runs");
    let nanos: u64 = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}

async fn cold_start(world: &World, report: &mut String) {
    let github = github().await;
    let case = &cases()[0];
    let variants = variants();
    let _ = writeln!(report, "\n## Cold start\n");
    let _ = writeln!(
        report,
        "{COLD_STARTS} fresh processes per row, variants interleaved; the webhook case; L added to every call and 2·L to every new connection, as above; the proxies answer in plain text or over TLS (a CA made for the run, trusted through SSL_CERT_FILE). CPU is the process's own (all threads, /proc schedstat) from start to its first answer. Init steps are the function's own log lines (median, ms).\n"
    );
    let _ = writeln!(
        report,
        "| L | transport | variant | start → first poll (median, min–max) | first invocation (median, min–max) | start → first answer (median) | CPU to first answer (median, min–max) | init steps |"
    );
    let _ = writeln!(report, "|---|---|---|---|---|---|---|---|");
    for latency_ms in COLD_LATENCIES_MS {
        let latency = Duration::from_millis(latency_ms);
        for transport in [Transport::Plain, Transport::Tls] {
            let (aws, github) = network(world, &github.uri(), latency, transport).await;
            let mut cpus = vec![Vec::new(); variants.len()];
            let mut inits = vec![Vec::new(); variants.len()];
            let mut firsts = vec![Vec::new(); variants.len()];
            let mut totals = vec![Vec::new(); variants.len()];
            let mut steps: Vec<BTreeMap<&str, Vec<f64>>> = vec![BTreeMap::new(); variants.len()];
            for n in 0..COLD_STARTS {
                for (v, variant) in variants.iter().enumerate() {
                    let scheme = if transport == Transport::Tls {
                        "tls"
                    } else {
                        "plain"
                    };
                    let log = format!("cold-{latency_ms}ms-{scheme}-{v}-{n}.log");
                    let started = Instant::now();
                    let mut function = world.spawn(
                        &variant.binary,
                        &aws.endpoint,
                        &github.endpoint,
                        &log,
                        variant.warm_up,
                    );
                    let init = world.wait_for_first_poll(started).await;
                    let first = world.invoke(case).await;
                    inits[v].push(init);
                    firsts[v].push(first);
                    totals[v].push(started.elapsed());
                    cpus[v].push(cpu_time(function.id()));
                    let _ = function.kill();
                    let _ = function.wait();
                    for (step, value) in logged_steps(&root().join("target/bench").join(&log)) {
                        steps[v].entry(step).or_default().push(value);
                    }
                }
            }
            for (v, variant) in variants.iter().enumerate() {
                let range = |samples: &mut Vec<Duration>| {
                    samples.sort();
                    format!(
                        "{:.1} ms ({:.1}–{:.1})",
                        ms(percentile(samples, 50.0)),
                        ms(samples[0]),
                        ms(*samples.last().unwrap())
                    )
                };
                let init_steps = INIT_STEPS
                    .iter()
                    .filter_map(|step| {
                        let values = steps[v].get_mut(step)?;
                        values.sort_by(f64::total_cmp);
                        Some(format!(
                            "{} {:.1}",
                            step.trim_end_matches("_ms"),
                            values[values.len() / 2]
                        ))
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                totals[v].sort();
                let _ = writeln!(
                    report,
                    "| {latency_ms} ms | {} | {} | {} | {} | {:.1} ms | {} | {init_steps} |",
                    if transport == Transport::Tls {
                        "TLS"
                    } else {
                        "plain"
                    },
                    variant.name,
                    range(&mut inits[v]),
                    range(&mut firsts[v]),
                    ms(percentile(&totals[v], 50.0)),
                    range(&mut cpus[v]),
                );
            }
        }
    }
    let _ = writeln!(report);
    let binaries: BTreeMap<&Path, u64> = variants
        .iter()
        .map(|v| {
            (
                v.binary.as_path(),
                std::fs::metadata(&v.binary).unwrap().len(),
            )
        })
        .collect();
    for (binary, size) in binaries {
        let _ = writeln!(
            report,
            "- {}: {size} bytes ({:.2} MB, x86_64)",
            binary.display(),
            size as f64 / 1e6
        );
    }
}

async fn memory(world: &World, report: &mut String) {
    let github = github().await;
    let case = &cases()[0];
    let mut function = world.spawn(
        &binary(),
        &world.moto.endpoint,
        &github.uri(),
        "memory.log",
        true,
    );
    let pid = function.id();
    let mut samples = Vec::new();
    let invocations = memory_invocations();
    for n in 1..=invocations {
        world.invoke(case).await;
        if (n <= 1_000 && n % 100 == 0) || n % 1_000 == 0 {
            samples.push((n, rss_kib(pid, "VmRSS:")));
        }
    }
    let peak = rss_kib(pid, "VmHWM:");
    let _ = function.kill();
    let _ = function.wait();
    let _ = writeln!(report, "\n## Memory\n");
    let _ = writeln!(
        report,
        "One process, warm-up at init, {invocations} webhook-case invocations at L = 0. RSS (VmRSS) every 100 invocations up to 1,000, then every 1,000, in KiB:\n"
    );
    let header: Vec<String> = samples.iter().map(|(n, _)| n.to_string()).collect();
    let values: Vec<String> = samples.iter().map(|(_, kib)| kib.to_string()).collect();
    let _ = writeln!(report, "| after | {} |", header.join(" | "));
    let _ = writeln!(report, "|---|{}", "---|".repeat(samples.len()));
    let _ = writeln!(report, "| RSS | {} |", values.join(" | "));
    let growth = samples.last().unwrap().1 as i64 - samples[0].1 as i64;
    let _ = writeln!(
        report,
        "\nPeak RSS (VmHWM): {:.1} MiB. From the 100th to the {invocations}th invocation: {growth:+} KiB.",
        peak as f64 / 1024.0
    );
}

#[tokio::main]
async fn main() {
    std::fs::create_dir_all(root().join("target/bench")).unwrap();
    let world = World::start().await;
    let mut report = String::from("# nectr-disconnect under a local Lambda runtime\n\n");
    let sections = sections();
    if sections.contains(&"warm") {
        warm_latency(&world, &mut report).await;
    }
    if sections.contains(&"graph") {
        graph::graph_read_cost(&world, &mut report).await;
    }
    if sections.contains(&"cold") {
        cold_start(&world, &mut report).await;
    }
    if sections.contains(&"memory") {
        memory(&world, &mut report).await;
    }
    println!("{report}");
    std::fs::write(root().join("target/bench/lambda.md"), &report).unwrap();
}
