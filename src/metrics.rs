//! CloudWatch Embedded Metric Format: one document per invocation, written
//! as a log line, which CloudWatch Logs turns into metrics. No SDK call, so
//! no latency and no failure mode of its own.
//!
//! A small writer rather than `metrics_cloudwatch_embedded`: that crate
//! keeps its values in the process-wide `metrics` recorder, so concurrent
//! invocations (and the tests) could not tell their documents apart.

use std::cell::RefCell;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::domain::WebhookOutcome;

/// The tracing target of metric documents; `logging` writes them verbatim.
pub const TARGET: &str = "nectr_disconnect::metrics";
/// The event field that carries the document.
pub const DOCUMENT_FIELD: &str = "emf";
/// `Namespace` when `POWERTOOLS_METRICS_NAMESPACE` is unset.
pub const DEFAULT_NAMESPACE: &str = "Nectr";
/// The dimension that scopes a metric to one published version of the
/// function, so that a deployment's rollback alarms judge the version
/// being deployed alone (CONTRACT §11).
pub const VERSION_DIMENSION: &str = "function_version";
/// What Lambda calls a function that is not a published version, and so
/// what `AWS_LAMBDA_FUNCTION_VERSION` says outside Lambda too.
const UNPUBLISHED_VERSION: &str = "$LATEST";

/// Each dependency call whose latency is measured, one metric each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    SecretsManagerGetSecretValue,
    DynamoDbGetItem,
    DynamoDbQuery,
    DynamoDbUpdateItem,
    KmsDecrypt,
    GitHubDeleteWebhook,
    GitHubGetRepository,
    GraphRead,
    SqsSendMessage,
}

impl Call {
    pub fn metric_name(self) -> &'static str {
        match self {
            Self::SecretsManagerGetSecretValue => "SecretsManagerGetSecretValueLatency",
            Self::DynamoDbGetItem => "DynamoDBGetItemLatency",
            Self::DynamoDbQuery => "DynamoDBQueryLatency",
            Self::DynamoDbUpdateItem => "DynamoDBUpdateItemLatency",
            Self::KmsDecrypt => "KMSDecryptLatency",
            Self::GitHubDeleteWebhook => "GitHubDeleteWebhookLatency",
            Self::GitHubGetRepository => "GitHubGetRepositoryLatency",
            Self::GraphRead => "GraphReadLatency",
            Self::SqsSendMessage => "SQSSendMessageLatency",
        }
    }

    /// Every call, in the order a document lists their latencies.
    pub const ALL: [Self; 9] = [
        Self::SecretsManagerGetSecretValue,
        Self::DynamoDbGetItem,
        Self::DynamoDbQuery,
        Self::DynamoDbUpdateItem,
        Self::KmsDecrypt,
        Self::GitHubDeleteWebhook,
        Self::GitHubGetRepository,
        Self::GraphRead,
        Self::SqsSendMessage,
    ];
}

tokio::task_local! {
    static CALLS: RefCell<Vec<(Call, Duration)>>;
}

/// Runs one invocation, returning its output and the dependency calls it
/// made. Calls are recorded by [`timed`] wherever they run inside `work`.
pub async fn measure<T>(work: impl Future<Output = T>) -> (T, Vec<(Call, Duration)>) {
    CALLS
        .scope(RefCell::new(Vec::new()), async {
            let output = work.await;
            let calls = CALLS.with(|calls| calls.take());
            (output, calls)
        })
        .await
}

/// Times `call` for the enclosing [`measure`], if any. A call abandoned at
/// the deadline is recorded too, with the time it was given.
pub async fn timed<T>(call: Call, work: impl Future<Output = T>) -> T {
    struct Stopwatch(Call, Instant);
    impl Drop for Stopwatch {
        fn drop(&mut self) {
            record(self.0, self.1.elapsed());
        }
    }
    let _stopwatch = Stopwatch(call, Instant::now());
    work.await
}

/// Records a call timed by the caller, for the enclosing [`measure`], if any.
pub fn record(call: Call, took: Duration) {
    let _outside_an_invocation = CALLS.try_with(|calls| calls.borrow_mut().push((call, took)));
}

/// Read once per cold start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricsSettings {
    pub namespace: String,
    pub service: String,
    /// The version running, from Lambda's `AWS_LAMBDA_FUNCTION_VERSION`.
    pub function_version: String,
}

impl MetricsSettings {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>, service: &str) -> Self {
        let set = |name| lookup(name).filter(|value: &String| !value.is_empty());
        Self {
            namespace: set(crate::config::POWERTOOLS_METRICS_NAMESPACE)
                .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned()),
            service: service.to_owned(),
            function_version: set("AWS_LAMBDA_FUNCTION_VERSION")
                .unwrap_or_else(|| UNPUBLISHED_VERSION.to_owned()),
        }
    }

    /// The document's root with `service` and `function_version`.
    fn root(&self) -> Map<String, Value> {
        let mut root = Map::new();
        root.insert("service".into(), self.service.as_str().into());
        root.insert(
            VERSION_DIMENSION.into(),
            self.function_version.as_str().into(),
        );
        root
    }

    /// A directive for `metrics` under `[service, dimension]` and, for a
    /// rollback alarm, also under `[service, dimension, function_version]`.
    fn directive(&self, dimension: Option<&str>, scope: Scope, metrics: Vec<Value>) -> Value {
        let mut dimensions = vec!["service"];
        dimensions.extend(dimension);
        let sets = match scope {
            Scope::Service => vec![dimensions],
            Scope::AlsoPerVersion => {
                let per_version = [dimensions.as_slice(), &[VERSION_DIMENSION]].concat();
                vec![dimensions, per_version]
            }
        };
        json!({"Namespace": self.namespace, "Dimensions": sets, "Metrics": metrics})
    }
}

/// The dimension sets a metric is published under.
#[derive(Clone, Copy)]
enum Scope {
    Service,
    /// Also per version: what a deployment's rollback alarm watches.
    AlsoPerVersion,
}

fn count(name: &str) -> Value {
    json!({"Name": name, "Unit": "Count"})
}

/// `DependencyErrors` by `cause` (`unavailable`, `misconfiguration`,
/// `unexpected`), per version too: the same document whether a request or
/// the init warm-up met the failure, so one alarm sees both.
fn dependency_errors(
    settings: &MetricsSettings,
    root: &mut Map<String, Value>,
    cause: &str,
) -> Value {
    root.insert("cause".into(), cause.into());
    root.insert("DependencyErrors".into(), 1.into());
    settings.directive(
        Some("cause"),
        Scope::AlsoPerVersion,
        vec![count("DependencyErrors")],
    )
}

/// The document of a dependency failure met outside any request: the
/// init warm-up's deployment mistakes.
pub fn dependency_error_document(settings: &MetricsSettings, cause: &str, at: SystemTime) -> Value {
    let mut root = settings.root();
    let directive = dependency_errors(settings, &mut root, cause);
    enveloped(root, vec![directive], at)
}

/// What counts an HTTP invocation no route answered (404, 405); each
/// endpoint's own count is named beside its route (`http::api`).
pub const UNROUTED: &str = "UnroutedRequests";

/// What one invocation reports.
pub struct Invocation<'a> {
    /// The count it adds to: its endpoint's or [`UNROUTED`].
    pub counted: &'static str,
    pub status: u16,
    pub webhook: Option<WebhookOutcome>,
    /// Why a dependency failed: `unavailable`, `misconfiguration` or
    /// `unexpected`.
    pub cause: Option<&'a str>,
    pub cold_start: bool,
    pub calls: &'a [(Call, Duration)],
    pub request_id: Option<&'a str>,
    pub xray_trace_id: Option<&'a str>,
}

impl Invocation<'_> {
    /// The EMF document: its route's count by status class (per version too,
    /// so a version answering 5xx is rolled back), `WebhookRemoval` by
    /// outcome, `DependencyErrors` by cause, `ColdStart`, and the latency
    /// of each call in milliseconds (an array when a call was made more
    /// than once).
    pub fn document(&self, settings: &MetricsSettings, at: SystemTime) -> Value {
        let mut root = settings.root();
        root.insert("status".into(), self.status.into());
        root.insert(
            "status_class".into(),
            format!("{}xx", self.status / 100).into(),
        );
        root.insert(self.counted.into(), 1.into());
        let mut directives = vec![settings.directive(
            Some("status_class"),
            Scope::AlsoPerVersion,
            vec![count(self.counted)],
        )];

        if let Some(webhook) = self.webhook {
            root.insert("webhook".into(), webhook.as_str().into());
            root.insert("WebhookRemoval".into(), 1.into());
            directives.push(settings.directive(
                Some("webhook"),
                Scope::Service,
                vec![count("WebhookRemoval")],
            ));
        }

        if let Some(cause) = self.cause {
            directives.push(dependency_errors(settings, &mut root, cause));
        }

        let mut by_service = Vec::new();
        if self.cold_start {
            root.insert("ColdStart".into(), 1.into());
            by_service.push(count("ColdStart"));
        }
        for (name, value) in self.latencies() {
            root.insert(name.into(), value);
            by_service.push(json!({"Name": name, "Unit": "Milliseconds"}));
        }
        if !by_service.is_empty() {
            directives.push(settings.directive(None, Scope::Service, by_service));
        }

        if let Some(id) = self.request_id {
            root.insert("function_request_id".into(), id.into());
        }
        if let Some(id) = self.xray_trace_id {
            root.insert("xray_trace_id".into(), id.into());
        }
        enveloped(root, directives, at)
    }

    /// Each dependency call's latency in ms: one value, or an array for a
    /// call made more than once (the paginated Query).
    fn latencies(&self) -> impl Iterator<Item = (&'static str, Value)> + '_ {
        Call::ALL.into_iter().filter_map(|call| {
            let mut millis: Vec<Value> = self
                .calls
                .iter()
                .filter(|(made, _)| *made == call)
                .map(|(_, took)| json!(millis(*took)))
                .collect();
            let value = match millis.len() {
                0 => return None,
                1 => millis.remove(0),
                _ => Value::Array(millis),
            };
            Some((call.metric_name(), value))
        })
    }
}

/// The cleanup worker's document for one message: `WebhookCleanup` by
/// `outcome` (CONTRACT §9), per version too, so a version that drops good
/// jobs as `invalid` is rolled back. The pre-traffic check's own probe
/// message (`probe`) is published under `[service, outcome, source]`
/// alone: counted, but apart from the queue's, so a deploy never looks
/// like a forged job to the alarms and the dashboard.
pub fn cleanup_document(
    settings: &MetricsSettings,
    outcome: &str,
    probe: Option<&str>,
    request_id: Option<&str>,
    at: SystemTime,
) -> Value {
    let mut root = settings.root();
    root.insert("outcome".into(), outcome.into());
    root.insert("WebhookCleanup".into(), 1.into());
    let metrics = vec![count("WebhookCleanup")];
    let directive = match probe {
        Some(source) => {
            root.insert("source".into(), source.into());
            json!({
                "Namespace": settings.namespace,
                "Dimensions": [["service", "outcome", "source"]],
                "Metrics": metrics,
            })
        }
        None => settings.directive(Some("outcome"), Scope::AlsoPerVersion, metrics),
    };
    if let Some(id) = request_id {
        root.insert("function_request_id".into(), id.into());
    }
    enveloped(root, vec![directive], at)
}

/// `root` as an EMF document: the `_aws` envelope with the directives that
/// declare its metrics, stamped `at`.
fn enveloped(mut root: Map<String, Value>, directives: Vec<Value>, at: SystemTime) -> Value {
    let timestamp = at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    root.insert(
        "_aws".into(),
        json!({"Timestamp": timestamp, "CloudWatchMetrics": directives}),
    );
    Value::Object(root)
}

/// Milliseconds to the microsecond, for every duration a log line or a
/// metric reports: finer is noise, and shorter lines.
pub fn millis(took: Duration) -> f64 {
    (took.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// Writes the document through the log pipeline, which owns stdout.
pub fn emit(document: &Value) {
    tracing::info!(target: TARGET, emf = %document);
}
