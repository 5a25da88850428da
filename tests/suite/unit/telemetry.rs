//! Log settings from Lambda's logging controls, the Text format, and the
//! EMF check the suite's log sink applies to every metric document.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use nectr_disconnect::config;
use nectr_disconnect::http::api::DISCONNECTS;
use nectr_disconnect::logging::{self, Format, LambdaLines, LogSettings};
use nectr_disconnect::metrics::{Invocation, MetricsSettings};
use serde_json::{Value, json};
use test_world::jwt::{FIXTURE_KEY, claims, hs256};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

use crate::support::emf;
use crate::support::events::{http_api_event, invocation};
use crate::support::fakes::Fault;
use crate::support::handler::handle;
use crate::support::logs::{capture_at, log_lines};
use crate::support::use_case::Fakes;

fn settings(vars: &[(&str, &str)]) -> LogSettings {
    LogSettings::from_lookup(|name| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    })
}

#[test]
fn logs_are_json_at_info_for_the_nectr_disconnect_service_unless_configured() {
    assert_eq!(
        settings(&[]),
        LogSettings {
            level: LevelFilter::INFO,
            format: Format::Json,
            service: "nectr-disconnect".into(),
        }
    );
}

#[test]
fn log_settings_follow_lambdas_logging_controls() {
    type Vars<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Vars, LevelFilter, Format); 6] = [
        (
            &[("AWS_LAMBDA_LOG_LEVEL", "DEBUG")],
            LevelFilter::DEBUG,
            Format::Json,
        ),
        (
            &[("AWS_LAMBDA_LOG_LEVEL", "FATAL")],
            LevelFilter::ERROR,
            Format::Json,
        ),
        (
            &[("AWS_LAMBDA_LOG_LEVEL", "shouting")],
            LevelFilter::INFO,
            Format::Json,
        ),
        (
            &[("AWS_LAMBDA_LOG_FORMAT", "Text")],
            LevelFilter::INFO,
            Format::Text,
        ),
        (
            &[("AWS_LAMBDA_LOG_FORMAT", "JSON")],
            LevelFilter::INFO,
            Format::Json,
        ),
        (
            &[("AWS_LAMBDA_LOG_LEVEL", "WARN"), ("RUST_LOG", "trace")],
            LevelFilter::WARN,
            Format::Json,
        ),
    ];
    for (vars, level, format) in cases {
        let found = settings(vars);
        assert_eq!((found.level, found.format), (level, format), "{vars:?}");
    }
    assert_eq!(
        settings(&[(config::POWERTOOLS_SERVICE_NAME, "nectr-api")]).service,
        "nectr-api"
    );
}

/// Keeps every line written, without the suite sink's JSON check.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl io::Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Lines {
    type Writer = Self;

    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

#[tokio::test]
async fn the_text_format_writes_plain_lines_and_metric_documents_as_json() {
    let fakes = Fakes::new();
    let lines = Lines::default();
    let settings = settings(&[("AWS_LAMBDA_LOG_FORMAT", "Text")]);
    let subscriber = tracing_subscriber::registry().with(
        LambdaLines::new(&settings, lines.clone()).with_filter(logging::filter(settings.level)),
    );
    let _guard = tracing::subscriber::set_default(subscriber);

    let token = hs256(FIXTURE_KEY, &claims("user-1"));
    let request = http_api_event(
        "DELETE",
        "/api/v1/repos/acme/my-backend/install",
        &[("authorization", &format!("Bearer {token}"))],
    );
    let response = handle(&fakes.use_case(), invocation(request, "req-text")).await;

    assert_eq!(response.status(), 401);
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let (documents, logs): (Vec<&str>, Vec<&str>) =
        text.lines().partition(|line| line.starts_with('{'));
    assert_eq!(logs.len(), 1, "{text}");
    assert!(
        logs[0].contains(" INFO request refused service=nectr-disconnect ")
            && logs[0].contains(" function_request_id=req-text ")
            && logs[0].contains(" cold_start=true ")
            && logs[0].contains(" status=401 "),
        "{}",
        logs[0]
    );
    assert_eq!(documents.len(), 1, "{text}");
    let document: Value = serde_json::from_str(documents[0]).unwrap();
    emf::validate(&document).unwrap();
    assert_eq!(document["status_class"], "4xx");
}

fn valid_document() -> Value {
    json!({
        "_aws": {
            "Timestamp": 1_795_500_000_000u64,
            "CloudWatchMetrics": [{
                "Namespace": "Nectr",
                "Dimensions": [["service"]],
                "Metrics": [{"Name": "Disconnects", "Unit": "Count"}]
            }]
        },
        "service": "nectr-disconnect",
        "Disconnects": 1
    })
}

#[test]
fn the_emf_check_refuses_what_cloudwatch_would_not_extract() {
    assert_eq!(emf::validate(&valid_document()), Ok(()));
    type Breaks = fn(&mut Value);
    let broken: [(&str, Breaks); 7] = [
        ("no _aws", |d| d["_aws"] = Value::Null),
        ("timestamp as text", |d| {
            d["_aws"]["Timestamp"] = json!("2026-11-24T00:00:00Z")
        }),
        ("dimension without a member", |d| d["service"] = Value::Null),
        ("metric without a value", |d| {
            d["Disconnects"] = json!("one")
        }),
        ("unknown unit", |d| {
            d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = json!("ms")
        }),
        ("101 metrics", |d| {
            let metrics: Vec<Value> = (0..101).map(|i| json!({"Name": format!("M{i}")})).collect();
            for i in 0..101 {
                d[format!("M{i}")] = json!(i);
            }
            d["_aws"]["CloudWatchMetrics"][0]["Metrics"] = Value::Array(metrics);
        }),
        ("31 dimensions", |d| {
            let keys: Vec<String> = (0..31).map(|i| format!("d{i}")).collect();
            for key in &keys {
                d[key.as_str()] = json!("x");
            }
            d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = json!([keys]);
        }),
    ];
    for (what, breaks) in broken {
        let mut document = valid_document();
        breaks(&mut document);
        assert!(emf::validate(&document).is_err(), "accepted: {what}");
    }
}

#[tokio::test]
async fn an_error_line_keeps_the_invocation_keys_when_info_is_filtered_out() {
    let fakes = Fakes::new();
    fakes.store.fail_with(Fault::Failed);
    let (logs, _guard) = capture_at(LevelFilter::ERROR);

    let token = hs256(FIXTURE_KEY, &claims("user-1"));
    let request = http_api_event(
        "DELETE",
        "/api/v1/repos/acme/my-backend/install",
        &[("authorization", &format!("Bearer {token}"))],
    );
    let response = handle(&fakes.use_case(), invocation(request, "req-error")).await;

    assert_eq!(response.status(), 500);
    let lines = log_lines(&logs.text());
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!(lines[0]["level"], "ERROR");
    assert_eq!(lines[0]["message"], "dependency failed");
    assert_eq!(lines[0]["function_request_id"], "req-error");
    assert_eq!(lines[0]["cold_start"], true);
    assert_eq!(lines[0]["status"], 500);
}

/// The version dimension is Lambda's `AWS_LAMBDA_FUNCTION_VERSION`
/// (`$LATEST` outside Lambda), and a 5xx answer and its cause are counted
/// under it: what a deployment's rollback alarms watch (CONTRACT §11).
#[test]
fn a_server_error_and_its_cause_are_counted_per_function_version() {
    let lookup = |name: &str| (name == "AWS_LAMBDA_FUNCTION_VERSION").then(|| "7".to_owned());
    let settings = MetricsSettings::from_lookup(lookup, "nectr-disconnect");
    let unavailable = Invocation {
        counted: DISCONNECTS,
        status: 503,
        webhook: None,
        cause: Some("unavailable"),
        cold_start: false,
        calls: &[],
        request_id: None,
        xray_trace_id: None,
    };

    let document = unavailable.document(&settings, SystemTime::now());

    assert_eq!(document["function_version"], "7");
    let directives = &document["_aws"]["CloudWatchMetrics"];
    assert_eq!(
        directives[0]["Dimensions"],
        json!([
            ["service", "status_class"],
            ["service", "status_class", "function_version"]
        ])
    );
    assert_eq!(
        directives[1]["Dimensions"],
        json!([
            ["service", "cause"],
            ["service", "cause", "function_version"]
        ])
    );
    assert_eq!(
        MetricsSettings::from_lookup(|_| None, "nectr-disconnect").function_version,
        "$LATEST"
    );
}
