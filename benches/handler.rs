//! One warm invocation through the real handler, over ports that answer at
//! once: event parsing and sanitizing, routing, credentials, JWT
//! verification with cached keys, the use case, JSON and the response. What
//! the function adds around its network calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use criterion::{Criterion, criterion_group};
use nectr_disconnect::auth::{Authenticator, JwtRules, KeyLifetime};
use nectr_disconnect::domain::{
    Ciphertext, CleanupJob, GraphCounts, Installation, InstallationRecord, OAuthToken, RepoName,
    SigningKey, SigningKeys, User, UserId,
};
use nectr_disconnect::http::lambda_event::request_from_json;
use nectr_disconnect::http::{Api, Handler};
use nectr_disconnect::logging::{self, LambdaLines, LogSettings};
use nectr_disconnect::metrics::MetricsSettings;
use nectr_disconnect::ports::{
    Adapters, CleanupQueue, CodeGraph, Deactivation, DecryptError, DependencyError,
    DisconnectPorts, Disconnection, GraphError, InstallationStore, SigningKeySource,
    TokenDecryptor, WebhookRemoval, WebhookRemover,
};
use serde_json::json;
use test_world::jwt::{FIXTURE_KEY, YEAR_2100};
use tracing_subscriber::prelude::*;

const WITH_WEBHOOK: &str = "disconnect with webhook (200)";
const BAD_TOKEN: &str = "bad token (401)";
const WITHOUT_LOGS: &str = "disconnect with webhook (200), no log pipeline";

/// Every port answers at once with a connected user and installation.
#[derive(Clone)]
struct AnswerAtOnce;

impl InstallationStore for AnswerAtOnce {
    async fn find_user(&self, _: &UserId) -> Result<Option<User>, DependencyError> {
        Ok(Some(User {
            github_token: Some(Ciphertext::new(vec![7; 184])),
        }))
    }

    async fn find_active_installations(
        &self,
        _: &UserId,
        repo: &RepoName,
    ) -> Result<Vec<Installation>, DependencyError> {
        Ok(vec![Installation {
            sort_key: format!("INSTALL#{}#inst-1", repo.lowercase_full_name()),
            installation_id: "inst-1".into(),
            repo_full_name: repo.to_string(),
            webhook_id: Some(42),
        }])
    }

    async fn webhook_in_use(&self, _: &UserId, _: u64) -> Result<bool, DependencyError> {
        Ok(false)
    }

    async fn find_installation(
        &self,
        _: &UserId,
        _: &RepoName,
        _: &str,
    ) -> Result<Option<InstallationRecord>, DependencyError> {
        Ok(None)
    }

    async fn deactivate(&self, _: &Disconnection<'_>) -> Result<Deactivation, DependencyError> {
        Ok(Deactivation::Deactivated)
    }

    async fn is_deactivated(&self, _: &Disconnection<'_>) -> Result<bool, DependencyError> {
        Ok(false)
    }
}

impl TokenDecryptor for AnswerAtOnce {
    async fn decrypt(&self, _: &UserId, _: &Ciphertext) -> Result<OAuthToken, DecryptError> {
        Ok(OAuthToken::new("gho_benchmark".into()))
    }
}

impl SigningKeySource for AnswerAtOnce {
    async fn fetch(&self) -> Result<SigningKeys, DependencyError> {
        Ok(SigningKeys {
            current: SigningKey::new(FIXTURE_KEY.to_vec()),
            current_created: None,
            previous: None,
        })
    }
}

impl WebhookRemover for AnswerAtOnce {
    async fn remove(&self, _: &OAuthToken, _: &RepoName, _: u64) -> WebhookRemoval {
        WebhookRemoval::Removed
    }

    fn settings_url(&self, _: &RepoName, _: u64) -> String {
        String::new()
    }
}

impl CleanupQueue for AnswerAtOnce {
    async fn schedule(
        &self,
        _: &CleanupJob,
        _: std::time::Duration,
    ) -> Result<(), DependencyError> {
        Ok(())
    }
}

/// Every port answers at once.
enum InstantPorts {}

impl DisconnectPorts for InstantPorts {
    type SigningKeys = AnswerAtOnce;
    type Installations = AnswerAtOnce;
    type Tokens = AnswerAtOnce;
    type Webhooks = AnswerAtOnce;
    type Graph = AnswerAtOnce;
    type Cleanup = AnswerAtOnce;
}

impl CodeGraph for AnswerAtOnce {
    async fn kept(&self, _: &str) -> Result<GraphCounts, GraphError> {
        Ok(GraphCounts {
            files: 120,
            pull_requests: 35,
            developers: 4,
        })
    }
}

/// Counts what the log pipeline writes, and discards it.
#[derive(Clone, Default)]
struct Written(Arc<Counts>);

#[derive(Default)]
struct Counts {
    lines: AtomicUsize,
    bytes: AtomicUsize,
}

impl Written {
    /// Lines and bytes written since the last call.
    fn take(&self) -> (usize, usize) {
        (self.0.lines.swap(0, Relaxed), self.0.bytes.swap(0, Relaxed))
    }
}

impl std::io::Write for Written {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let lines = buf.iter().filter(|&&b| b == b'\n').count();
        self.0.lines.fetch_add(lines, Relaxed);
        self.0.bytes.fetch_add(buf.len(), Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn event(authorization: &str) -> String {
    json!({
        "version": "2.0",
        "routeKey": "DELETE /api/v1/repos/{owner}/{repo}/install",
        "rawPath": "/api/v1/repos/acme/my-backend/install",
        "rawQueryString": "",
        "headers": {
            "authorization": authorization,
            "host": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
            "user-agent": "nectr-web/1.0",
            "x-forwarded-proto": "https"
        },
        "requestContext": {
            "accountId": "123456789012", "apiId": "abcdef1234",
            "domainName": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
            "http": {"method": "DELETE", "path": "/api/v1/repos/acme/my-backend/install",
                     "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "nectr-web/1.0"},
            "requestId": "bench", "routeKey": "DELETE /api/v1/repos/{owner}/{repo}/install",
            "stage": "$default", "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 1767225600000u64
        },
        "isBase64Encoded": false
    })
    .to_string()
}

fn handler_overhead(c: &mut Criterion) {
    // The production log pipeline, writing nowhere: formatting each line and
    // the metric document is part of what an invocation costs. It is scoped
    // per benchmark rather than global so one run also measures the handler
    // without it, and the difference is what logs and metrics cost.
    let settings = LogSettings::from_lookup(|_| None);
    let written = Written::default();
    let sink = written.clone();
    let lines = tracing::Dispatch::new(
        tracing_subscriber::registry().with(
            LambdaLines::new(&settings, move || sink.clone())
                .with_filter(logging::filter(settings.level)),
        ),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let use_case = Api::<InstantPorts>::new(
        Authenticator::new(
            AnswerAtOnce,
            JwtRules::default(),
            KeyLifetime {
                ttl: std::time::Duration::from_secs(300),
                stale: std::time::Duration::from_secs(3_600),
                previous: std::time::Duration::from_secs(86_400),
            },
        ),
        Adapters {
            installations: AnswerAtOnce,
            tokens: AnswerAtOnce,
            webhooks: AnswerAtOnce,
            graph: Some(AnswerAtOnce),
            cleanup: None,
        },
    );
    let handler = Handler::new(
        &use_case,
        MetricsSettings::from_lookup(|_| None, &settings.service),
    );
    let token = test_world::jwt::hs256(FIXTURE_KEY, &json!({"sub": "user-1", "exp": YEAR_2100}));
    let disconnect = event(&format!("Bearer {token}"));
    let unauthorized = event("Bearer not-a-jwt");
    let invoke = |event: &str, status: u16| {
        let request = request_from_json(event).unwrap();
        let response = runtime.block_on(handler.handle(request));
        assert_eq!(response.status(), status);
    };
    // Warm: the signing keys are cached, as on every invocation but the first.
    // Under the pipeline, because tracing caches each call site's interest
    // when it is first hit: hit with no subscriber, it stays off for good.
    tracing::dispatcher::with_default(&lines, || {
        invoke(&disconnect, 200);
        invoke(&unauthorized, 401);
    });
    written.take();
    // A pipeline that wrote nothing would make the comparison below
    // meaningless, so one warm invocation must write, and what it wrote is
    // printed.
    tracing::dispatcher::with_default(&lines, || invoke(&disconnect, 200));
    let (count, bytes) = written.take();
    assert!(count >= 2, "the log pipeline wrote {count} lines");
    println!("One warm 200 writes {count} lines, {bytes} bytes (log lines and the EMF document)");
    let mut group = c.benchmark_group("warm invocation");
    group.bench_function(WITH_WEBHOOK, |b| {
        tracing::dispatcher::with_default(&lines, || b.iter(|| invoke(&disconnect, 200)))
    });
    group.bench_function(BAD_TOKEN, |b| {
        tracing::dispatcher::with_default(&lines, || b.iter(|| invoke(&unauthorized, 401)))
    });
    group.bench_function(WITHOUT_LOGS, |b| b.iter(|| invoke(&disconnect, 200)));
    group.finish();
}

criterion_group!(benches, handler_overhead);

/// Criterion's usual report, then the medians the benchmark is judged by
/// (criterion prints means), from the estimates it saved.
fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    let group =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion/warm invocation");
    println!(
        "\nHandler overhead, median of 100 samples [95% interval] (median absolute deviation):"
    );
    for name in [WITH_WEBHOOK, BAD_TOKEN, WITHOUT_LOGS] {
        let path = group.join(name).join("new/estimates.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            println!("  {name}: no estimates at {}", path.display());
            continue;
        };
        let estimates: serde_json::Value = serde_json::from_str(&text).unwrap();
        let us = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN) / 1000.0;
        let median = &estimates["median"];
        println!(
            "  {name}: {:.1} µs [{:.1}–{:.1}] (±{:.1} µs)",
            us(&median["point_estimate"]),
            us(&median["confidence_interval"]["lower_bound"]),
            us(&median["confidence_interval"]["upper_bound"]),
            us(&estimates["median_abs_dev"]["point_estimate"]),
        );
    }
}
