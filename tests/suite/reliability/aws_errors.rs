//! Every error AWS documents for the calls the function makes, answered by
//! the fault proxy with the status and JSON body the service sends
//! (`Fault::Aws`), through the production wiring: each must mean what
//! CONTRACT §1 says. The ciphertext's fault is 401 "Session expired", a
//! transient failure 503, the deployment's fault 500 with one ERROR line
//! naming the service, the code and the resource, and `cause` in the metric
//! document (`misconfiguration`, so one alarm catches them all); every
//! non-200 leaves the items as they were. moto cannot send most of these: it never
//! denies through IAM, never disables a key on Decrypt, and sends a ciphertext
//! under another key as an `AccessDeniedException` without a message.
//!
//! The bodies are those of the API references: KMS Decrypt's errors
//! (docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html), DynamoDB's
//! (docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html),
//! Secrets Manager's common errors and GetSecretValue's
//! (docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html,
//! …/API_GetSecretValue.html). The matrix is printed and written to
//! `target/reliability/aws-errors.md`.

use std::fmt::Write as _;
use std::time::Duration;

use futures::StreamExt;
use nectr_disconnect::wiring::AwsClients;
use serde_json::{Value, json};
use test_world::fault_proxy::{AwsError, Fault};
use wiremock::ResponseTemplate;

use crate::support::events::within_deadline;
use crate::support::logs::{capture, log_lines, metric_documents};
use crate::support::test_app::{TestApp, delete_as, sdk_config};

const DEADLINE: Duration = Duration::from_secs(4);
const CELLS_AT_ONCE: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    GetSecretValue,
    GetItem,
    Query,
    Decrypt,
    UpdateItem,
}

const CALLS: [Call; 5] = [
    Call::GetSecretValue,
    Call::GetItem,
    Call::Query,
    Call::Decrypt,
    Call::UpdateItem,
];

impl Call {
    /// As the function's log lines name it.
    fn service(self) -> &'static str {
        match self {
            Self::GetSecretValue => "Secrets Manager",
            Self::GetItem | Self::Query | Self::UpdateItem => "DynamoDB",
            Self::Decrypt => "KMS",
        }
    }

    fn operation(self) -> &'static str {
        match self {
            Self::GetSecretValue => "GetSecretValue",
            Self::GetItem => "GetItem",
            Self::Query => "Query",
            Self::Decrypt => "Decrypt",
            Self::UpdateItem => "UpdateItem",
        }
    }
}

/// What the contract makes of an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Meaning {
    SessionExpired,
    Unavailable,
    Misconfigured,
}

impl Meaning {
    fn status(self) -> u16 {
        match self {
            Self::SessionExpired => 401,
            Self::Unavailable => 503,
            Self::Misconfigured => 500,
        }
    }

    /// `cause` in the invocation's metric document.
    fn cause(self) -> Option<&'static str> {
        match self {
            Self::SessionExpired => None,
            Self::Unavailable => Some("unavailable"),
            Self::Misconfigured => Some("misconfiguration"),
        }
    }

    fn body(self) -> Value {
        match self {
            Self::SessionExpired => {
                json!({"detail": "Session expired \u{2014} please log out and sign in again."})
            }
            Self::Unavailable => json!({"detail": "Service temporarily unavailable"}),
            Self::Misconfigured => json!({"detail": "Internal Server Error"}),
        }
    }
}

/// One documented error: what it is called in the table, the answer, the
/// calls whose API reference lists it, and what it must mean.
struct Documented {
    name: &'static str,
    error: AwsError,
    calls: &'static [Call],
    meaning: Meaning,
}

const DYNAMODB: &[Call] = &[Call::GetItem, Call::Query, Call::UpdateItem];
const IAM_DENIAL: &str = "User: arn:aws:sts::111122223333:assumed-role/nectr-disconnect-role/nectr-disconnect is not authorized to perform this action on the resource because no identity-based policy allows the action";

fn error(status: u16, code: &'static str, message: &'static str) -> AwsError {
    AwsError {
        status,
        code,
        message,
    }
}

fn documented() -> Vec<Documented> {
    use Meaning::*;
    let all: &'static [Call] = &CALLS;
    vec![
        Documented {
            name: "AccessDeniedException (IAM)",
            error: error(400, "AccessDeniedException", IAM_DENIAL),
            calls: all,
            meaning: Misconfigured,
        },
        Documented {
            name: "AccessDeniedException (the ciphertext's key)",
            error: error(
                400,
                "AccessDeniedException",
                "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
            ),
            calls: &[Call::Decrypt],
            meaning: SessionExpired,
        },
        Documented {
            name: "IncorrectKeyException",
            error: error(
                400,
                "IncorrectKeyException",
                "The key ID in the request does not identify a CMK that can perform this operation.",
            ),
            calls: &[Call::Decrypt],
            meaning: SessionExpired,
        },
        Documented {
            name: "InvalidCiphertextException",
            error: error(400, "InvalidCiphertextException", ""),
            calls: &[Call::Decrypt],
            meaning: SessionExpired,
        },
        Documented {
            name: "DisabledException",
            error: error(
                400,
                "DisabledException",
                "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab is disabled.",
            ),
            calls: &[Call::Decrypt],
            meaning: Misconfigured,
        },
        Documented {
            name: "KMSInvalidStateException",
            error: error(
                400,
                "KMSInvalidStateException",
                "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab is pending deletion.",
            ),
            calls: &[Call::Decrypt],
            meaning: Misconfigured,
        },
        Documented {
            name: "NotFoundException",
            error: error(
                400,
                "NotFoundException",
                "Alias arn:aws:kms:us-east-1:111122223333:alias/nectr-oauth-tokens is not found.",
            ),
            calls: &[Call::Decrypt],
            meaning: Misconfigured,
        },
        Documented {
            name: "ResourceNotFoundException",
            error: error(
                400,
                "ResourceNotFoundException",
                "Requested resource not found",
            ),
            calls: &[
                Call::GetSecretValue,
                Call::GetItem,
                Call::Query,
                Call::UpdateItem,
            ],
            meaning: Misconfigured,
        },
        Documented {
            name: "DecryptionFailure",
            error: error(
                400,
                "DecryptionFailure",
                "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
            ),
            calls: &[Call::GetSecretValue],
            meaning: Misconfigured,
        },
        Documented {
            name: "InvalidRequestException (secret marked for deletion)",
            error: error(
                400,
                "InvalidRequestException",
                "You can't perform this operation on the secret because it was marked for deletion.",
            ),
            calls: &[Call::GetSecretValue],
            meaning: Misconfigured,
        },
        Documented {
            name: "ValidationException (key schema)",
            error: error(
                400,
                "ValidationException",
                "The provided key element does not match the schema",
            ),
            calls: DYNAMODB,
            meaning: Misconfigured,
        },
        Documented {
            name: "ThrottlingException",
            error: error(400, "ThrottlingException", "Rate exceeded"),
            calls: all,
            meaning: Unavailable,
        },
        Documented {
            name: "ProvisionedThroughputExceededException",
            error: error(
                400,
                "ProvisionedThroughputExceededException",
                "The level of configured provisioned throughput for the table was exceeded.",
            ),
            calls: DYNAMODB,
            meaning: Unavailable,
        },
        Documented {
            name: "RequestLimitExceeded",
            error: error(
                400,
                "RequestLimitExceeded",
                "Throughput exceeds the current throughput limit for your account.",
            ),
            calls: DYNAMODB,
            meaning: Unavailable,
        },
        Documented {
            name: "InternalServerError",
            error: error(500, "InternalServerError", "Internal server error"),
            calls: DYNAMODB,
            meaning: Unavailable,
        },
        Documented {
            name: "InternalServiceError",
            error: error(
                500,
                "InternalServiceError",
                "An error occurred on the server side.",
            ),
            calls: &[Call::GetSecretValue],
            meaning: Unavailable,
        },
        Documented {
            name: "KMSInternalException",
            error: error(500, "KMSInternalException", "An internal error occurred."),
            calls: &[Call::Decrypt],
            meaning: Unavailable,
        },
        Documented {
            name: "KeyUnavailableException",
            error: error(
                500,
                "KeyUnavailableException",
                "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab is unavailable.",
            ),
            calls: &[Call::Decrypt],
            meaning: Unavailable,
        },
        Documented {
            name: "DependencyTimeoutException",
            error: error(
                500,
                "DependencyTimeoutException",
                "The system timed out while trying to fulfill the request.",
            ),
            calls: &[Call::Decrypt],
            meaning: Unavailable,
        },
    ]
}

struct Cell {
    row: usize,
    call: Call,
    request_id: String,
    status: u16,
    violations: Vec<String>,
}

#[tokio::test]
async fn every_documented_aws_error_means_what_the_contract_says() {
    let app = TestApp::start().await;
    app.github_answers(ResponseTemplate::new(204)).await;
    let (logs, _guard) = capture();
    let rows = documented();
    let cases: Vec<(usize, Call)> = rows
        .iter()
        .enumerate()
        .flat_map(|(row, d)| d.calls.iter().map(move |call| (row, *call)))
        .collect();
    let mut cells: Vec<Cell> = futures::stream::iter(
        cases
            .iter()
            .enumerate()
            .map(|(n, (row, call))| run_cell(&app, n, *row, &rows[*row], *call)),
    )
    .buffer_unordered(CELLS_AT_ONCE)
    .collect()
    .await;
    let text = logs.text();
    for cell in &mut cells {
        let problems = reported(&text, cell, &rows[cell.row]);
        cell.violations.extend(problems);
    }

    let violations: Vec<String> = cells
        .iter()
        .flat_map(|c| {
            let name = rows[c.row].name;
            c.violations
                .iter()
                .map(move |v| format!("{name} on {:?}: {v}", c.call))
        })
        .collect();
    super::publish("aws-errors.md", &render(&rows, &cells), &violations);
}

async fn run_cell(
    app: &TestApp,
    n: usize,
    row: usize,
    documented: &Documented,
    call: Call,
) -> Cell {
    let user = format!("aws-error-{n}");
    app.connect(&user, Some(42)).await;
    let proxy = app.aws_proxy().await;
    proxy.inject(Some(call.operation()), Fault::Aws(documented.error));
    let broken = sdk_config(&proxy.endpoint).await;
    let mut aws: AwsClients = app.aws.clone();
    match call {
        Call::GetSecretValue => aws.secrets_manager = aws_sdk_secretsmanager::Client::new(&broken),
        Call::GetItem | Call::Query | Call::UpdateItem => {
            aws.dynamodb = aws_sdk_dynamodb::Client::new(&broken)
        }
        Call::Decrypt => aws.kms = aws_sdk_kms::Client::new(&broken),
    }

    let request_id = format!("aws-error-{n}");
    let before = app.items_of(&user).await;
    let answer = app
        .send_with(
            &aws,
            within_deadline(
                delete_as(&user, "acme", "my-backend"),
                DEADLINE,
                &request_id,
            ),
        )
        .await;
    let after = app.items_of(&user).await;

    let mut violations = Vec::new();
    let meaning = documented.meaning;
    if (answer.status, &answer.body) != (meaning.status(), &meaning.body()) {
        violations.push(format!(
            "answered {} {}, expected {} {}",
            answer.status,
            answer.body,
            meaning.status(),
            meaning.body()
        ));
    }
    if meaning == Meaning::Unavailable && answer.header("retry-after").is_none() {
        violations.push("503 without Retry-After".into());
    }
    if after != before {
        violations.push(format!("{} but the items changed", answer.status));
    }
    if !proxy
        .calls()
        .iter()
        .any(|c| c.operation == call.operation())
    {
        violations.push(format!("{} never reached the proxy", call.operation()));
    }
    Cell {
        row,
        call,
        request_id,
        status: answer.status,
        violations,
    }
}

/// What the invocation told the operator: its metric document's `cause`,
/// and for the deployment's fault, one ERROR line naming the service, the
/// AWS error code and the resource.
fn reported(text: &str, cell: &Cell, documented: &Documented) -> Vec<String> {
    let mut problems = Vec::new();
    let mine = |line: &serde_json::Map<String, Value>| {
        line["function_request_id"] == cell.request_id.as_str()
    };
    let expected = documented.meaning.cause();
    let documents: Vec<Value> = metric_documents(text)
        .into_iter()
        .filter(|d| d["function_request_id"] == cell.request_id.as_str())
        .collect();
    let causes: Vec<Option<&str>> = documents.iter().map(|d| d["cause"].as_str()).collect();
    if causes != [expected] {
        problems.push(format!("metric causes {causes:?}, expected [{expected:?}]"));
    }
    let errors: Vec<_> = log_lines(text)
        .into_iter()
        .filter(|line| mine(line) && line["level"] == "ERROR")
        .collect();
    if documented.meaning == Meaning::Misconfigured {
        let named = errors.iter().any(|line| {
            line["message"] == "the deployment is misconfigured"
                && line["aws_service"] == cell.call.service()
                && line["aws_error_code"] == documented.error.code
                && line["resource"].as_str().is_some_and(|r| !r.is_empty())
        });
        if errors.len() != 1 || !named {
            problems.push(format!(
                "ERROR lines {errors:?}, expected one naming the service, code and resource"
            ));
        }
    } else if !errors.is_empty() {
        problems.push(format!(
            "ERROR lines {errors:?} for a {:?}",
            documented.meaning
        ));
    }
    problems
}

fn render(rows: &[Documented], cells: &[Cell]) -> String {
    let mut table = String::from("| AWS error (HTTP status) | meaning |");
    for call in CALLS {
        let _ = write!(table, " {} |", call.operation());
    }
    let _ = write!(table, "\n|---|---|{}\n", "---|".repeat(CALLS.len()));
    for (row, documented) in rows.iter().enumerate() {
        let meaning = match documented.meaning {
            Meaning::SessionExpired => "the ciphertext's fault",
            Meaning::Unavailable => "transient",
            Meaning::Misconfigured => "the deployment's fault",
        };
        let _ = write!(
            table,
            "| {} ({}) | {meaning} |",
            documented.name, documented.error.status
        );
        for call in CALLS {
            let cell = cells.iter().find(|c| c.row == row && c.call == call);
            let text = match cell {
                None => "—".to_owned(),
                Some(c) if c.violations.is_empty() => c.status.to_string(),
                Some(c) => format!("{} ✗", c.status),
            };
            let _ = write!(table, " {text} |");
        }
        table.push('\n');
    }
    table
}
