//! Every dependency against every fault, through the production wiring: the
//! AWS clients reach moto through a fault-injecting proxy (or a port nobody
//! listens on), GitHub is a wiremock server or a raw socket saying nonsense.
//!
//! Each cell must hold the contract's hard rules: a 200 means the
//! installation is inactive, anything else means the caller's items are
//! exactly as before; the answer comes before the invocation deadline; a 5xx
//! body is the contract's and nothing more. The matrix is printed and
//! written to `target/reliability/fault-matrix.md`.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use futures::StreamExt;
use nectr_disconnect::wiring;
use reqwest::Url;
use serde_json::{Value, json};
use test_world::fault_proxy::{Fault, FaultProxy};
use test_world::free_port;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::events::{Answer, within_deadline};
use crate::support::handler::handle;
use crate::support::test_app::{TestApp, delete_as, sdk_config};

/// The invocation deadline each cell runs under.
const DEADLINE: Duration = Duration::from_secs(3);
const GITHUB_TIMEOUT_MS: &str = "1000";
const CELLS_AT_ONCE: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    DynamoDb,
    /// Only `UpdateItem` breaks, after the lookups succeeded.
    DynamoDbUpdate,
    Kms,
    SecretsManager,
    GitHub,
}

const TARGETS: [Target; 5] = [
    Target::DynamoDb,
    Target::DynamoDbUpdate,
    Target::Kms,
    Target::SecretsManager,
    Target::GitHub,
];
/// The matrix's columns, in the order of its heading.
const FAULTS: [Fault; 6] = [
    Fault::ServerError,
    Fault::Throttled,
    Fault::Hang,
    Fault::Refused,
    Fault::Malformed,
    Fault::Truncated,
];

/// What the contract prescribes for a cell: status and webhook outcome.
fn expected(target: Target, fault: &Fault) -> (u16, Option<&'static str>) {
    match (target, fault) {
        // GitHub never blocks a disconnect.
        (Target::GitHub, _) => (200, Some("failed")),
        // The update went through and only its answer was cut: the
        // function reads the item back and finds its own timestamp.
        (Target::DynamoDbUpdate, Fault::Truncated) => (200, Some("removed")),
        _ => (503, None),
    }
}

struct Cell {
    target: Target,
    /// The cell's fault, as its column in FAULTS.
    column: usize,
    status: u16,
    webhook: Option<String>,
    elapsed: Duration,
    violations: Vec<String>,
}

#[tokio::test]
async fn every_dependency_fault_keeps_the_contract() {
    let app = TestApp::start().await;
    // A few cells at a time: enough to keep the run short, few enough that
    // moto's own speed never decides a cell.
    let cells: Vec<Cell> = futures::stream::iter(
        TARGETS
            .iter()
            .flat_map(|t| (0..FAULTS.len()).map(move |column| (*t, column)))
            .enumerate()
            .map(|(n, (target, column))| run_cell(&app, n, target, column)),
    )
    .buffer_unordered(CELLS_AT_ONCE)
    .collect()
    .await;

    let violations: Vec<String> = cells
        .iter()
        .flat_map(|c| {
            c.violations
                .iter()
                .map(move |v| format!("{:?} × {:?}: {v}", c.target, FAULTS[c.column]))
        })
        .collect();
    super::publish("fault-matrix.md", &render(&cells), &violations);
}

async fn run_cell(app: &TestApp, n: usize, target: Target, column: usize) -> Cell {
    let fault = FAULTS[column].clone();
    let user = format!("matrix-{n}");
    let installation_sk = app.connect(&user, Some(42)).await.sk;

    let mut aws = app.aws.clone();
    let mut proxies = Vec::new();
    let mut github_url = None;
    let github = MockServer::start().await;
    match target {
        Target::GitHub => github_url = Some(github_fault(&github, &fault).await),
        _ => {
            let (endpoint, proxy) = aws_fault(app, target, &fault).await;
            proxies.extend(proxy);
            let config = sdk_config(&endpoint).await;
            match target {
                Target::DynamoDb | Target::DynamoDbUpdate => {
                    aws.dynamodb = aws_sdk_dynamodb::Client::new(&config)
                }
                Target::Kms => aws.kms = aws_sdk_kms::Client::new(&config),
                Target::SecretsManager => {
                    aws.secrets_manager = aws_sdk_secretsmanager::Client::new(&config)
                }
                Target::GitHub => unreachable!(),
            }
        }
    }
    if target != Target::GitHub {
        Mock::given(method("DELETE"))
            .respond_with(ResponseTemplate::new(204))
            .mount(&github)
            .await;
    }
    let mut config = app.config();
    config.shared.github.api_url = Url::parse(&github_url.unwrap_or_else(|| github.uri())).unwrap();
    config.shared.github.timeout = Duration::from_millis(GITHUB_TIMEOUT_MS.parse().unwrap());
    let use_case = wiring::production(&config, &aws, wiring::github(&config).unwrap());

    let before = app.items_of(&user).await;
    let started = Instant::now();
    let answer = Answer::from(
        handle(
            &use_case,
            within_deadline(delete_as(&user, "acme", "my-backend"), DEADLINE, &user),
        )
        .await,
    );
    let elapsed = started.elapsed();
    let after = app.items_of(&user).await;

    let mut violations = Vec::new();
    let (status, webhook) = expected(target, &fault);
    if answer.status != status || answer.body["webhook"].as_str() != webhook {
        violations.push(format!(
            "answered {} {}, expected {status} {webhook:?}",
            answer.status, answer.body
        ));
    }
    if elapsed > DEADLINE {
        violations.push(format!("took {elapsed:?}, past the {DEADLINE:?} deadline"));
    }
    if answer.status == 200 {
        let installation = after
            .iter()
            .find(|i| i["sk"].as_s().unwrap() == &installation_sk);
        if installation.map(|i| &i["is_active"]) != Some(&AttributeValue::Bool(false)) {
            violations.push("200 but the installation is still active".into());
        }
    } else if after != before {
        violations.push(format!("{} but the items changed", answer.status));
    }
    if answer.status >= 500 {
        let allowed = [
            json!({"detail": "Service temporarily unavailable"}),
            json!({"detail": "Internal Server Error"}),
        ];
        if !allowed.contains(&answer.body) {
            violations.push(format!("5xx body carries detail: {}", answer.body));
        }
    }
    Cell {
        target,
        column,
        status: answer.status,
        webhook: answer
            .body
            .get("webhook")
            .and_then(Value::as_str)
            .map(str::to_owned),
        elapsed,
        violations,
    }
}

/// The endpoint the broken AWS client should use, and the proxy behind it.
async fn aws_fault(app: &TestApp, target: Target, fault: &Fault) -> (String, Option<FaultProxy>) {
    let operation = match target {
        Target::DynamoDbUpdate => Some("UpdateItem"),
        _ => None,
    };
    if matches!(fault, Fault::Refused) && operation.is_none() {
        return (format!("http://127.0.0.1:{}", free_port()), None);
    }
    let proxy = app.aws_proxy().await;
    proxy.inject(operation, fault.clone());
    (proxy.endpoint.clone(), Some(proxy))
}

/// Makes `github` (or a raw socket) misbehave; returns the URL to use.
async fn github_fault(github: &MockServer, fault: &Fault) -> String {
    let answer = |response: ResponseTemplate| async move {
        Mock::given(method("DELETE"))
            .respond_with(response)
            .mount(github)
            .await;
        github.uri()
    };
    match fault {
        Fault::ServerError => answer(ResponseTemplate::new(502)).await,
        Fault::Throttled => {
            answer(
                ResponseTemplate::new(429)
                    .insert_header("retry-after", "60")
                    .insert_header("x-ratelimit-remaining", "0")
                    .insert_header("x-ratelimit-reset", "1893456000")
                    .set_body_json(json!({"message": "API rate limit exceeded"})),
            )
            .await
        }
        Fault::Hang => answer(ResponseTemplate::new(204).set_delay(Duration::from_secs(30))).await,
        Fault::Refused => format!("http://127.0.0.1:{}", free_port()),
        Fault::Malformed => raw_server(b"this is not HTTP\r\n\r\n").await,
        Fault::Truncated => raw_server(b"HTTP/1.1 204 No Cont").await,
        Fault::Delay(_) | Fault::Hold { .. } | Fault::Aws(_) => {
            unreachable!("{fault:?} is not a column of the matrix")
        }
    }
}

/// A server that answers every connection with `bytes` and hangs up.
async fn raw_server(bytes: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let _ = socket.write_all(bytes).await;
            let _ = socket.shutdown().await;
        }
    });
    url
}

fn render(cells: &[Cell]) -> String {
    let mut table =
        String::from("| dependency | 5xx | throttled | hang | refused | malformed | truncated |\n");
    table.push_str("|---|---|---|---|---|---|---|\n");
    for target in TARGETS {
        let name = match target {
            Target::DynamoDb => "DynamoDB (every call)",
            Target::DynamoDbUpdate => "DynamoDB (UpdateItem only)",
            Target::Kms => "KMS",
            Target::SecretsManager => "Secrets Manager",
            Target::GitHub => "GitHub",
        };
        let _ = write!(table, "| {name} |");
        for column in 0..FAULTS.len() {
            let cell = cells
                .iter()
                .find(|c| c.target == target && c.column == column)
                .unwrap();
            let outcome = match &cell.webhook {
                Some(webhook) => format!("{} {webhook}", cell.status),
                None => cell.status.to_string(),
            };
            let mark = if cell.violations.is_empty() {
                ""
            } else {
                " ✗"
            };
            let _ = write!(
                table,
                " {outcome} ({:.1} s){mark} |",
                cell.elapsed.as_secs_f64()
            );
        }
        table.push('\n');
    }
    table
}
