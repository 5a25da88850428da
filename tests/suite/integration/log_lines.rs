//! Log lines as Lambda users know them from AWS Powertools, written by the
//! production line writer for a real disconnect over moto and wiremock.

use serde_json::{Value, json};

use crate::support::acting_user::USER;
use crate::support::events::{invocation, xray_trace_id};
use crate::support::handler::metric_settings;
use crate::support::logged_invocations::{log_of_a_disconnect, log_of_a_refused_request};
use crate::support::logs::{LOG_KEYS, capture, log_lines};
use crate::support::test_app::{TestApp, delete_as};

#[tokio::test]
async fn a_disconnect_logs_its_outcome_on_one_line() {
    let lines = log_lines(&log_of_a_disconnect(204, "req-outcome").await);
    let outcome: Vec<_> = lines
        .iter()
        .filter(|line| line["message"] == "repository disconnected")
        .collect();
    assert_eq!(outcome.len(), 1, "{lines:#?}");
    let outcome = outcome[0];
    for (key, expected) in [
        ("level", json!("INFO")),
        ("service", json!("nectr-disconnect")),
        ("status", json!(200)),
        ("repo", json!("acme/my-backend")),
        ("user_id", json!(USER)),
        ("installation_id", json!("inst-1")),
        ("webhook", json!("removed")),
        ("cold_start", json!(true)),
        ("function_request_id", json!("req-outcome")),
        ("xray_trace_id", json!(xray_trace_id("req-outcome"))),
    ] {
        assert_eq!(outcome.get(key), Some(&expected), "{key} in {outcome:?}");
    }
}

#[tokio::test]
async fn every_line_of_an_invocation_carries_the_powertools_keys() {
    let lines = log_lines(&log_of_a_disconnect(403, "req-keys").await);
    assert!(
        lines
            .iter()
            .any(|line| line["message"] == "GitHub refused to remove the webhook"),
        "an adapter's line is among them: {lines:#?}"
    );
    for line in &lines {
        for key in LOG_KEYS
            .every_line
            .iter()
            .chain(&LOG_KEYS.every_invocation_line)
            .chain(&LOG_KEYS.traced_invocation_line)
        {
            assert!(line.contains_key(key), "no {key} in {line:?}");
        }
        assert_eq!(line["function_request_id"], "req-keys");
    }
}

#[tokio::test]
async fn a_refused_request_is_logged_with_its_status() {
    let lines = log_lines(&log_of_a_refused_request("req-refused").await);
    let refused: Vec<_> = lines
        .iter()
        .filter(|line| line["message"] == "request refused")
        .collect();
    assert_eq!(refused.len(), 1, "{lines:#?}");
    assert_eq!(refused[0]["status"], 401);
    assert_eq!(refused[0]["reason"], "unknown user");
    assert_eq!(refused[0]["level"], "INFO");
}

#[tokio::test]
async fn only_the_first_invocation_of_an_environment_is_a_cold_start() {
    let app = TestApp::start().await;
    app.connect(USER, None).await;
    let use_case = app.use_case_with(&app.aws);
    let handler = nectr_disconnect::http::Handler::new(&use_case, metric_settings());

    let (logs, _guard) = capture();
    handler
        .handle(invocation(
            delete_as(USER, "acme", "my-backend"),
            "req-first",
        ))
        .await;
    handler
        .handle(invocation(
            delete_as(USER, "acme", "my-backend"),
            "req-second",
        ))
        .await;

    let cold_start_of = |id: &str| -> Vec<Value> {
        log_lines(&logs.text())
            .into_iter()
            .filter(|line| line["function_request_id"] == id)
            .map(|line| line["cold_start"].clone())
            .collect()
    };
    let first = cold_start_of("req-first");
    let second = cold_start_of("req-second");
    assert!(!first.is_empty() && !second.is_empty());
    assert!(first.iter().all(|cold| cold == true), "{first:?}");
    assert!(second.iter().all(|cold| cold == false), "{second:?}");
}
