//! One CloudWatch EMF document per invocation, checked against the
//! specification (the suite's log sink validates every document it sees;
//! these tests also check what each one says).

use serde_json::{Value, json};
use tracing_subscriber::filter::LevelFilter;

use crate::support::acting_user::USER;
use crate::support::emf;
use crate::support::events::{http_api_event, invocation};
use crate::support::logged_invocations::{log_of_a_disconnect, log_of_a_refused_request};
use crate::support::logs::{capture, capture_at, log_lines, metric_documents};
use crate::support::test_app::{TestApp, delete_as, unreachable_clients};

fn only_document(text: &str) -> Value {
    let documents = metric_documents(text);
    assert_eq!(documents.len(), 1, "one document an invocation: {text}");
    let document = documents.into_iter().next().unwrap();
    emf::validate(&document).expect("a valid EMF document");
    document
}

/// A latency metric's values: one number, or an array when the call was
/// made more than once.
fn millis(document: &Value, name: &str) -> Vec<f64> {
    match &document[name] {
        Value::Array(values) => values.iter().filter_map(Value::as_f64).collect(),
        value => value.as_f64().into_iter().collect(),
    }
}

/// Each directive's dimension sets and metric names (sorted), sorted by
/// dimension sets.
fn directives(document: &Value) -> Vec<(Value, Vec<String>)> {
    let mut directives: Vec<(Value, Vec<String>)> = document["_aws"]["CloudWatchMetrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|directive| {
            assert_eq!(directive["Namespace"], "Nectr");
            let mut names = directive["Metrics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|metric| metric["Name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>();
            names.sort();
            (directive["Dimensions"].clone(), names)
        })
        .collect();
    directives.sort_by_key(|(dimensions, _)| dimensions.to_string());
    directives
}

#[tokio::test]
async fn a_disconnect_counts_by_status_class_and_webhook_outcome() {
    let document = only_document(&log_of_a_disconnect(204, "req-metrics").await);
    assert_eq!(document["service"], "nectr-disconnect");
    assert_eq!(document["status_class"], "2xx");
    assert_eq!(document["webhook"], "removed");
    assert_eq!(document["Disconnects"], 1);
    assert_eq!(document["WebhookRemoval"], 1);
    assert_eq!(document["ColdStart"], 1);
    assert_eq!(document["function_request_id"], "req-metrics");
    assert_eq!(document["function_version"], "$LATEST");
    let latencies = [
        "SecretsManagerGetSecretValueLatency",
        "DynamoDBGetItemLatency",
        "DynamoDBQueryLatency",
        "KMSDecryptLatency",
        "GitHubDeleteWebhookLatency",
        "DynamoDBUpdateItemLatency",
    ];
    let mut by_service: Vec<String> = latencies.iter().map(|name| name.to_string()).collect();
    by_service.push("ColdStart".into());
    by_service.sort();
    assert_eq!(
        directives(&document),
        [
            (
                json!([
                    ["service", "status_class"],
                    ["service", "status_class", "function_version"]
                ]),
                vec!["Disconnects".to_owned()]
            ),
            (
                json!([["service", "webhook"]]),
                vec!["WebhookRemoval".to_owned()]
            ),
            (json!([["service"]]), by_service),
        ]
    );
    for name in latencies {
        let millis = millis(&document, name);
        assert!(
            !millis.is_empty() && millis.iter().all(|ms| *ms > 0.0),
            "{name} = {millis:?}"
        );
    }
    assert_eq!(
        millis(&document, "SecretsManagerGetSecretValueLatency").len(),
        2,
        "the current and the previous signing key"
    );
}

#[tokio::test]
async fn a_refused_request_counts_under_its_status_class_without_a_webhook_outcome() {
    let document = only_document(&log_of_a_refused_request("req-401").await);
    assert_eq!(document["status_class"], "4xx");
    assert_eq!(document["status"], 401);
    assert_eq!(document["Disconnects"], 1);
    assert!(document.get("WebhookRemoval").is_none(), "{document}");
    assert!(document.get("webhook").is_none(), "{document}");
}

/// A 405 and a 404 no route answers are counted apart from the
/// disconnect's requests, under the same status classes.
#[tokio::test]
async fn a_request_no_route_answers_counts_as_unrouted_not_as_a_disconnect() {
    let app = TestApp::start().await;
    for (method, path, status) in [
        ("PATCH", "/api/v1/repos/acme/my-backend/install", 405),
        ("DELETE", "/api/v1/other", 404),
    ] {
        let (logs, _guard) = capture();
        let answer = app
            .send(invocation(
                http_api_event(method, path, &[]),
                "req-unrouted",
            ))
            .await;
        assert_eq!(answer.status, status, "{method} {path}");

        let document = only_document(&logs.text());
        assert_eq!(document["UnroutedRequests"], 1, "{document}");
        assert_eq!(document["status_class"], "4xx", "{document}");
        assert!(document.get("Disconnects").is_none(), "{document}");
    }
}

#[tokio::test]
async fn an_unreachable_dependency_counts_as_5xx_with_the_time_the_call_took() {
    let app = TestApp::start().await;
    let aws = unreachable_clients().await;

    let (logs, _guard) = capture();
    let request = invocation(delete_as(USER, "acme", "my-backend"), "req-503");
    assert_eq!(app.send_with(&aws, request).await.status, 503);

    let document = only_document(&logs.text());
    assert_eq!(document["status_class"], "5xx");
    assert!(
        !millis(&document, "SecretsManagerGetSecretValueLatency").is_empty(),
        "the failed call is measured: {document}"
    );
}

#[tokio::test]
async fn metrics_are_written_whatever_the_log_level() {
    let app = TestApp::start().await;
    app.connect(USER, None).await;

    let (logs, _guard) = capture_at(LevelFilter::ERROR);
    let request = invocation(delete_as(USER, "acme", "my-backend"), "req-quiet");
    assert_eq!(app.send(request).await.status, 200);

    let text = logs.text();
    assert_eq!(log_lines(&text).len(), 0, "no INFO line at ERROR: {text}");
    assert_eq!(only_document(&text)["webhook"], "not_configured");
}
