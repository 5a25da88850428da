//! Every alarm and dashboard widget of the template watches a metric that is really published
//! with exactly the dimensions it names (CONTRACT §11): CloudWatch matches
//! a metric by its whole dimension set, so an alarm on `DependencyErrors`
//! with `[service]` never fires while the function publishes
//! `[service, cause]`. The functions' own metrics are looked up in the EMF
//! documents their code builds, for every answer, webhook outcome, cause,
//! call and cleanup outcome it can report; AWS's in what AWS documents.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, SystemTime};

use nectr_disconnect::cleanup::MessageOutcome;
use nectr_disconnect::disconnect::DisconnectError;
use nectr_disconnect::domain::{Disconnected, UserId, WebhookOutcome};
use nectr_disconnect::http::api::{DISCONNECTS, REPOSITORY_INSTALL};
use nectr_disconnect::http::response::{ApiError, Reply, answer};
use nectr_disconnect::logging::DEFAULT_SERVICE;
use nectr_disconnect::metrics::{self, Call, Invocation, MetricsSettings};
use nectr_disconnect::ports::{Dependency, DependencyError};
use nectr_disconnect::queue::{PRE_TRAFFIC_EVENT_SOURCE, SERVICE as WORKER_SERVICE};
use serde_json::Value;
use serde_norway::Value as Yaml;

use crate::support::template::template;

/// The functions' namespace (`POWERTOOLS_METRICS_NAMESPACE` in the template).
const NAMESPACE: &str = "Nectr";

/// AWS's metrics the template may alarm on, each with the dimension sets
/// AWS publishes it under.
fn aws_metrics(namespace: &str) -> Option<(&'static [&'static str], Vec<Vec<&'static str>>)> {
    match namespace {
        // https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
        // (metrics) and monitoring-metrics.html#monitoring-metrics-dimensions.
        "AWS/Lambda" => Some((
            &[
                "Errors",
                "Throttles",
                "Duration",
                "Invocations",
                "ConcurrentExecutions",
            ],
            vec![
                vec!["FunctionName"],
                vec!["FunctionName", "Resource"],
                vec!["ExecutedVersion", "FunctionName", "Resource"],
            ],
        )),
        // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html
        "AWS/ApiGateway" => Some((
            &[
                "4xx",
                "5xx",
                "Count",
                "IntegrationLatency",
                "Latency",
                "DataProcessed",
            ],
            vec![
                vec!["ApiId"],
                vec!["ApiId", "Stage"],
                vec!["ApiId", "Method", "Resource", "Stage"],
            ],
        )),
        // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
        "AWS/SQS" => Some((
            &[
                "ApproximateAgeOfOldestMessage",
                "ApproximateNumberOfMessagesVisible",
                "ApproximateNumberOfMessagesNotVisible",
                "NumberOfMessagesSent",
            ],
            vec![vec!["QueueName"]],
        )),
        _ => None,
    }
}

/// An alarm's metric: its namespace, name and dimensions (values as the
/// template writes them; an intrinsic reads as its YAML).
#[derive(Clone, Debug)]
struct Watched {
    alarm: String,
    namespace: String,
    metric: String,
    dimensions: BTreeMap<String, String>,
}

fn text(yaml: &Yaml) -> String {
    match yaml.as_str() {
        Some(text) => text.to_owned(),
        None => serde_norway::to_string(yaml).unwrap().trim().to_owned(),
    }
}

/// Every `AWS::CloudWatch::Alarm` of the template.
fn alarms() -> Vec<Watched> {
    let template = template();
    let resources = template["Resources"]
        .as_mapping()
        .expect("the template has resources");
    resources
        .iter()
        .filter(|(_, resource)| resource["Type"] == "AWS::CloudWatch::Alarm")
        .map(|(name, resource)| {
            let properties = &resource["Properties"];
            Watched {
                alarm: text(name),
                namespace: text(&properties["Namespace"]),
                metric: text(&properties["MetricName"]),
                dimensions: properties["Dimensions"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .map(|dimension| (text(&dimension["Name"]), text(&dimension["Value"])))
                    .collect(),
            }
        })
        .collect()
}

/// Each metric the documents publish: namespace, name and the dimensions
/// of each of its sets, with the values the document gives them.
fn published(documents: &[Value]) -> BTreeSet<(String, String, BTreeMap<String, String>)> {
    let mut published = BTreeSet::new();
    for document in documents {
        for directive in document["_aws"]["CloudWatchMetrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let namespace = directive["Namespace"].as_str().unwrap_or_default();
            for set in directive["Dimensions"].as_array().into_iter().flatten() {
                let dimensions: BTreeMap<String, String> = set
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(|name| {
                        let value = match &document[name] {
                            Value::String(text) => text.clone(),
                            other => other.to_string(),
                        };
                        (name.to_owned(), value)
                    })
                    .collect();
                for metric in directive["Metrics"].as_array().into_iter().flatten() {
                    let name = metric["Name"].as_str().unwrap_or_default();
                    published.insert((namespace.to_owned(), name.to_owned(), dimensions.clone()));
                }
            }
        }
    }
    published
}

/// What is wrong with `watched` given what the functions publish; `None`
/// when CloudWatch will find its metric.
fn problem(
    watched: &Watched,
    published: &BTreeSet<(String, String, BTreeMap<String, String>)>,
) -> Option<String> {
    let Watched {
        alarm,
        namespace,
        metric,
        dimensions,
    } = watched;
    if namespace == NAMESPACE {
        let found = published.iter().any(|(ns, name, dims)| {
            ns == namespace && name == metric && same_dimensions(dimensions, dims)
        });
        return (!found).then(|| {
            let sets: Vec<_> = published
                .iter()
                .filter(|(_, name, _)| name == metric)
                .map(|(_, _, dims)| dims)
                .collect();
            format!("{alarm}: {metric} {dimensions:?} is never published; published: {sets:?}")
        });
    }
    let Some((metrics, sets)) = aws_metrics(namespace) else {
        return Some(format!("{alarm}: no documented metrics for {namespace}"));
    };
    if !metrics.contains(&metric.as_str()) {
        return Some(format!("{alarm}: {namespace} publishes no {metric}"));
    }
    let names: Vec<&str> = dimensions.keys().map(String::as_str).collect();
    (!sets.contains(&names))
        .then(|| format!("{alarm}: {namespace} publishes {metric} under {sets:?}, not {names:?}"))
}

/// The alarm's dimensions are the published set, value for value, but
/// for the function version: the version being deployed (`!GetAtt
/// <Function>.Version.Version`, read untagged) stands for whichever the
/// documents carry, which outside Lambda is `$LATEST`.
fn same_dimensions(alarm: &BTreeMap<String, String>, published: &BTreeMap<String, String>) -> bool {
    let deployed_version = |value: &str| {
        value
            .trim_start_matches("!GetAtt ")
            .ends_with("Function.Version.Version")
    };
    alarm.len() == published.len()
        && alarm.iter().all(|(name, value)| match published.get(name) {
            Some(_) if name == metrics::VERSION_DIMENSION && deployed_version(value) => true,
            Some(published) => published == value,
            None => false,
        })
}

/// The anchors GitHub gives the headings of `docs/OPERATIONS.md`.
fn runbook_sections() -> BTreeSet<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/OPERATIONS.md");
    std::fs::read_to_string(path)
        .expect("docs/OPERATIONS.md")
        .lines()
        .filter_map(|line| line.strip_prefix('#'))
        .map(|heading| {
            heading
                .trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

/// Every alarm tells the stack's topic when it fires and when it recovers, and its description links the
/// section of `docs/OPERATIONS.md` that says what to do.
#[test]
fn every_alarm_notifies_on_alarm_and_ok_and_links_its_runbook_section() {
    let template = template();
    let topic = "- !Ref AlarmTopic";
    let sections = runbook_sections();
    for Watched { alarm, .. } in alarms() {
        let properties = &template["Resources"][alarm.as_str()]["Properties"];
        for actions in ["AlarmActions", "OKActions"] {
            assert_eq!(text(&properties[actions]), topic, "{alarm} {actions}");
        }
        let description = text(&properties["AlarmDescription"]);
        let section = description
            .split("docs/OPERATIONS.md#")
            .nth(1)
            .map(|rest| rest.split_whitespace().next().unwrap_or_default())
            .unwrap_or_else(|| panic!("{alarm} names no runbook section: {description}"));
        assert!(sections.contains(section), "{alarm}: no section #{section}");
    }
}

fn settings(service: &str) -> MetricsSettings {
    MetricsSettings {
        namespace: NAMESPACE.into(),
        service: service.into(),
        function_version: "7".into(),
    }
}

/// A failure of each kind the use case reports: one per `DependencyError`
/// variant, so each metric cause is among them.
fn dependency_errors() -> [DependencyError; 3] {
    [
        DependencyError::unavailable(Dependency::DynamoDb, "timed out"),
        DependencyError::misconfigured(Dependency::Kms, "DisabledException", "key", "disabled"),
        DependencyError::failed(Dependency::DynamoDb, "corrupt"),
    ]
}

/// Every request's result the edge answers: a disconnect with each
/// webhook outcome, and a failure of each kind.
fn results() -> Vec<Result<Reply, ApiError>> {
    let disconnected = WebhookOutcome::ALL.map(|webhook| {
        Ok(Reply::Disconnected(Disconnected {
            user_id: UserId::new("user"),
            repo_full_name: "acme/my-backend".into(),
            installation_ids: vec!["inst".into()],
            webhook,
            webhook_settings_url: None,
            graph: None,
        }))
    });
    let refused = [
        ApiError::RouteNotFound,
        ApiError::MethodNotAllowed(&REPOSITORY_INSTALL),
        DisconnectError::Unauthorized("no token").into(),
        DisconnectError::SessionExpired("undecryptable").into(),
        DisconnectError::InstallationNotFound.into(),
    ];
    let failed = dependency_errors().map(|e| ApiError::from(DisconnectError::Dependency(e)));
    disconnected
        .into_iter()
        .chain(refused.into_iter().chain(failed).map(Err))
        .collect()
}

/// Every EMF document the functions' code builds: the disconnect's for
/// each result, cold and warm, with every call's latency; the warm-up's
/// for each cause; the worker's for each message outcome, and its probe's,
/// which is no job: dropped as invalid, or handed back untried.
fn documents_the_code_builds() -> Vec<Value> {
    let at = SystemTime::now();
    let disconnect = settings(DEFAULT_SERVICE);
    let calls = Call::ALL.map(|call| (call, Duration::from_millis(1)));
    let mut documents = Vec::new();
    for result in results() {
        let answer = answer(&result);
        for cold_start in [false, true] {
            let invocation = answer.invocation(cold_start, &calls, Some("request"), None);
            documents.push(invocation.document(&disconnect, at));
        }
    }
    for error in dependency_errors() {
        documents.push(metrics::dependency_error_document(
            &disconnect,
            error.metric_cause(),
            at,
        ));
    }
    let worker = settings(WORKER_SERVICE);
    let probes = [MessageOutcome::Invalid, MessageOutcome::Retry]
        .map(|outcome| (outcome, Some(PRE_TRAFFIC_EVENT_SOURCE)));
    let jobs = MessageOutcome::ALL.map(|outcome| (outcome, None));
    for (outcome, probe) in jobs.into_iter().chain(probes) {
        let outcome = outcome.as_str();
        documents.push(metrics::cleanup_document(&worker, outcome, probe, None, at));
    }
    documents
}

/// At least `expected` metrics are watched, and every one of them is
/// published, by the functions or by AWS.
fn assert_published(watched: &[Watched], expected: usize) {
    assert!(watched.len() >= expected, "{watched:?}");
    let published = published(&documents_the_code_builds());

    let problems: Vec<String> = watched
        .iter()
        .filter_map(|metric| problem(metric, &published))
        .collect();

    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn every_alarm_watches_a_metric_the_functions_or_aws_publish() {
    // CONTRACT §11's alarms.
    assert_published(&alarms(), 13);
}

/// The check itself: an alarm that names one dimension fewer than the
/// function publishes, or another value, or one AWS does not publish, is
/// refused. The documents here are the function's own, built by the code
/// that writes them.
#[test]
fn an_alarm_on_a_dimension_set_nobody_publishes_is_refused() {
    let misconfigured = Invocation {
        counted: DISCONNECTS,
        status: 500,
        webhook: None::<WebhookOutcome>,
        cause: Some("misconfiguration"),
        cold_start: false,
        calls: &[],
        request_id: None,
        xray_trace_id: None,
    }
    .document(&settings(DEFAULT_SERVICE), SystemTime::now());
    let published = published(&[misconfigured]);
    let alarm = alarms()
        .into_iter()
        .find(|alarm| alarm.alarm == "MisconfigurationAlarm")
        .expect("the template has MisconfigurationAlarm");
    assert_eq!(problem(&alarm, &published), None);

    let mut service_only = alarm.clone();
    service_only.dimensions.remove("cause");
    let mut another_cause = alarm.clone();
    another_cause
        .dimensions
        .insert("cause".into(), "misconfigured".into());
    let mut any_version = alarm.clone();
    any_version
        .dimensions
        .insert("function_version".into(), "$LATEST".into());
    let mut lambda_by_queue = alarm.clone();
    lambda_by_queue.namespace = "AWS/Lambda".into();
    lambda_by_queue.metric = "Errors".into();
    lambda_by_queue.dimensions = BTreeMap::from([("QueueName".into(), "q".into())]);
    for wrong in [service_only, another_cause, any_version, lambda_by_queue] {
        assert!(problem(&wrong, &published).is_some(), "{wrong:?}");
    }
    let cleanup = metrics::cleanup_document(
        &settings(WORKER_SERVICE),
        MessageOutcome::Invalid.as_str(),
        None,
        None,
        SystemTime::now(),
    );
    let invalid = alarms()
        .into_iter()
        .find(|alarm| alarm.alarm == "CleanupInvalidJobAlarm")
        .expect("the template has CleanupInvalidJobAlarm");
    assert!(problem(&invalid, &published).is_some());
    assert_eq!(problem(&invalid, &self::published(&[cleanup])), None);
}

/// Each metric the dashboard's widgets draw: namespace, name, dimensions.
fn dashboard_metrics() -> Vec<Watched> {
    let template = template();
    let body = text(&template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]);
    let body = body
        .strip_prefix("!Sub |")
        .or_else(|| body.strip_prefix("!Sub"))
        .unwrap_or(&body);
    // `${…}` are the stack's names; their values do not matter here.
    let mut plain = String::new();
    let mut rest = body;
    while let Some(start) = rest.find("${") {
        plain.push_str(&rest[..start]);
        plain.push('x');
        rest = &rest[start + rest[start..].find('}').expect("a closed ${") + 1..];
    }
    plain.push_str(rest);
    let body: Value = serde_json::from_str(&plain).expect("the dashboard body is JSON");
    let mut watched = Vec::new();
    for widget in body["widgets"].as_array().expect("widgets") {
        let title = widget["properties"]["title"].as_str().unwrap_or_default();
        for metric in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let parts: Vec<&str> = metric
                .as_array()
                .expect("a metric is an array")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let [namespace, name, dimensions @ ..] = parts.as_slice() else {
                panic!("{title}: {metric}");
            };
            watched.push(Watched {
                alarm: format!("widget {title:?}"),
                namespace: (*namespace).to_owned(),
                metric: (*name).to_owned(),
                dimensions: dimensions
                    .chunks(2)
                    .map(|pair| (pair[0].to_owned(), pair.get(1).unwrap_or(&"").to_string()))
                    .collect(),
            });
        }
    }
    watched
}

#[test]
fn every_metric_a_dashboard_widget_draws_is_published() {
    // The six kinds of CONTRACT §11, every call's latency among them.
    assert_published(&dashboard_metrics(), 30);
}

/// The Logs Insights queries the runbook gives are the ones the stack
/// saves, word for word.
#[test]
fn the_saved_queries_are_the_runbooks() {
    let template = template();
    let runbook =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/OPERATIONS.md"))
            .unwrap();
    let section = runbook
        .split("### Saved queries")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("docs/OPERATIONS.md has saved queries");
    let given: BTreeSet<String> = section
        .split("```")
        .skip(1)
        .step_by(2)
        .map(|block| block.trim().to_owned())
        .collect();
    let saved: BTreeSet<String> = template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|resource| resource["Type"] == "AWS::Logs::QueryDefinition")
        .map(|resource| {
            text(&resource["Properties"]["QueryString"])
                .trim()
                .to_owned()
        })
        .collect();

    assert!(!saved.is_empty(), "the stack saves no query");
    assert_eq!(saved, given);
}
