//! `Bench`, what every measurement runs in: moto seeded as the demo's is
//! (`LocalAws`, the fixtures' state), one HTTP client for the RIE, the
//! cases it invokes, and the proxies that put a latency L between the
//! function and its dependencies.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;
use test_world::fault_proxy::{Call, Fault, FaultProxy};
use test_world::fixture_state::fixture_state;
use test_world::local_aws::LocalAws;
use test_world::moto::Moto;
use test_world::seed::{self, ItemKey};
use test_world::tls::{LocalCa, ServerIdentity};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::rie::Function;

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One kind of invocation: the fixture event, the status and webhook
/// outcome it gets, the item it deactivates, and the calls on its critical
/// path, step by step (calls in one step run side by side).
pub struct Case {
    pub name: &'static str,
    pub event: String,
    pub status: u16,
    /// The 200 body's `webhook`, so a case is never measured doing
    /// something else.
    pub webhook: Option<&'static str>,
    pub installation: Option<(&'static str, &'static str)>,
    pub steps: &'static [&'static [&'static str]],
}

pub fn cases() -> [Case; 4] {
    let event = |file: &str| std::fs::read_to_string(root().join("events").join(file)).unwrap();
    [
        Case {
            name: "webhook",
            event: event("http-api-disconnect-with-webhook.json"),
            status: 200,
            webhook: Some("removed"),
            installation: Some(("acme/my-backend", "inst-backend")),
            steps: &[
                &["GetItem", "Query"],
                &["Decrypt"],
                &["UpdateItem", "GitHub"],
            ],
        },
        // GitHub answers the DELETE 404, so the function asks the
        // repository whether the caller administers it (CONTRACT §5): one
        // more GitHub round trip, after the DELETE, beside the update.
        Case {
            name: "webhook gone (404)",
            event: event("http-api-disconnect-with-webhook.json")
                .replace("my-backend", GONE_HOOK_REPO),
            status: 200,
            webhook: Some("already_gone"),
            installation: Some(("acme/my-frontend", "inst-frontend")),
            steps: &[
                &["GetItem", "Query"],
                &["Decrypt"],
                &["UpdateItem", "GitHub"],
                &["GitHub"],
            ],
        },
        Case {
            name: "no webhook",
            event: event("http-api-disconnect-without-webhook.json"),
            status: 200,
            webhook: Some("not_configured"),
            installation: Some(("acme/docs", "inst-docs")),
            steps: &[&["GetItem", "Query"], &["UpdateItem"]],
        },
        // No dependency call at all: the function and the runtime API alone.
        Case {
            name: "bad token (401)",
            event: event("http-api-bad-token.json"),
            status: 401,
            webhook: None,
            installation: None,
            steps: &[],
        },
    ]
}

pub struct Bench {
    pub moto: Moto,
    /// What the proxies serve over TLS, issued by a CA made for this run;
    /// the function trusts it through `SSL_CERT_FILE`.
    pub tls: ServerIdentity,
    pub ca_file: PathBuf,
    pub cleanup_queue_url: String,
    /// What env.json names: the function's table, key, secrets and queue.
    pub names: LocalAws,
    dynamodb: aws_sdk_dynamodb::Client,
    secrets_manager: aws_sdk_secretsmanager::Client,
    /// One HTTP client for every invocation, as one `sam local start-lambda`
    /// caller would keep.
    pub http: reqwest::Client,
}

impl Bench {
    pub async fn start() -> Self {
        let moto = Moto::start().await;
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&moto.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("local", "local", None, None, "bench"))
            .load()
            .await;
        let names = LocalAws::from_env_json();
        // The graph section stores its own server's password when it starts one.
        let cleanup_queue_url = names.seed(&config, "no graph yet").await;
        let ca = LocalCa::generate("nectr-disconnect bench CA");
        let ca_file = root().join("target/bench/ca.pem");
        std::fs::write(&ca_file, trust_store(&ca)).unwrap();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            secrets_manager: aws_sdk_secretsmanager::Client::new(&config),
            moto,
            tls: ca.server(),
            ca_file,
            cleanup_queue_url,
            names,
            http: reqwest::Client::new(),
        }
    }

    /// Marks the installation active again, directly in moto, between
    /// measured invocations.
    pub async fn reconnect(&self, (repo, installation_id): (&str, &str)) {
        let ItemKey { pk, sk } =
            ItemKey::installation(&fixture_state().user, repo, installation_id);
        self.dynamodb
            .update_item()
            .table_name(&self.names.table)
            .key("pk", seed::s(&pk))
            .key("sk", seed::s(&sk))
            .update_expression("SET is_active = :t REMOVE disconnected_at")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .send()
            .await
            .expect("moto updates the item");
    }

    /// The Neo4j credentials secret env.json names, pointed at a server with
    /// this password.
    pub async fn store_neo4j_password(&self, password: &str) {
        let credentials =
            serde_json::json!({"username": test_world::arcadedb::USERNAME, "password": password});
        self.secrets_manager
            .put_secret_value()
            .secret_id(&self.names.neo4j_secret_id)
            .secret_string(credentials.to_string())
            .send()
            .await
            .expect("moto stores the Neo4j credentials");
    }

    /// One invocation of `case`, timed from queueing the event to the
    /// function's answer; the installation is reconnected afterwards.
    pub async fn invoke(&self, function: &Function, case: &Case) -> Duration {
        let window = self.invoke_in(function, case).await;
        window.end - window.start
    }

    /// One batch to the worker, timed from queueing it to the answer; it
    /// must take every job (no batch item failure).
    pub async fn invoke_worker(&self, function: &Function, batch: &str) -> Duration {
        let started = Instant::now();
        let completion = function.invoke(batch).await;
        let took = started.elapsed();
        assert!(!completion.error, "the worker's invocation failed");
        let answer: Value = serde_json::from_slice(&completion.body).unwrap();
        assert_eq!(
            answer,
            serde_json::json!({"batchItemFailures": []}),
            "the worker handed a job back"
        );
        took
    }

    pub async fn invoke_in(&self, function: &Function, case: &Case) -> Range<Instant> {
        self.invoke_with_graph(function, case, false).await
    }

    /// As `invoke_in`; a 200 must carry `graph` exactly when `graph` is set,
    /// so a variant whose graph read failed is never measured as if it ran.
    pub async fn invoke_with_graph(
        &self,
        function: &Function,
        case: &Case,
        graph: bool,
    ) -> Range<Instant> {
        let started = Instant::now();
        let completion = function.invoke(&case.event).await;
        let window = started..Instant::now();
        assert!(!completion.error, "the invocation failed");
        let response: Value = serde_json::from_slice(&completion.body).unwrap();
        assert_eq!(response["statusCode"], case.status, "{response}");
        if case.status == 200 {
            let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
            assert_eq!(body.get("graph").is_some(), graph, "{body}");
            assert_eq!(body["webhook"].as_str(), case.webhook, "{body}");
        }
        if let Some(installation) = case.installation {
            self.reconnect(installation).await;
        }
        window
    }
}

/// What the function trusts: the machine's public roots and the run's CA,
/// one file, as a CA layer gives it in production (`CaBundleLayerArn`), so
/// loading and parsing the roots costs what it costs there (the Lambda
/// image's bundle holds about as many).
fn trust_store(ca: &LocalCa) -> String {
    let system = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
    ]
    .iter()
    .find_map(|path| std::fs::read_to_string(path).ok())
    .expect("the machine has a CA bundle (Debian's ca-certificates)");
    format!("{system}\n{}", ca.pem())
}

/// The worker's batch: the fixtures' first cleanup job, whose hook GitHub
/// removes (`removed`); the worker changes no item, so it can be sent again.
pub fn worker_batch() -> String {
    let text = std::fs::read_to_string(root().join("events/sqs-cleanup-batch.json")).unwrap();
    let mut batch: Value = serde_json::from_str(&text).unwrap();
    let first = batch["Records"][0].clone();
    batch["Records"] = Value::Array(vec![first]);
    batch.to_string()
}

/// The region and credentials every function gets; where each AWS service
/// answers is `Network::endpoints`.
pub fn aws_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "local".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "local".to_owned()),
    ]
}

/// The fixtures' repository whose hook GitHub no longer has (webhook 43).
const GONE_HOOK_REPO: &str = "my-frontend";

/// GitHub removes every hook but acme/my-frontend's, which it answers 404
/// for, and says the caller administers that repository: `already_gone`.
pub async fn github() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/repos/acme/{GONE_HOOK_REPO}/hooks/43")))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/acme/{GONE_HOOK_REPO}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "full_name": format!("acme/{GONE_HOOK_REPO}"),
            "permissions": {"admin": true, "push": true, "pull": true}
        })))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    server
}

/// How the function reaches the proxies.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Plain,
    Tls,
}

/// What the function talks to: one proxy per AWS service, each its own
/// endpoint as in a region (a client pooling connections per host must not
/// reuse one across services, which no region allows), all in front of
/// moto, and one in front of the GitHub stub.
pub struct Network {
    pub dynamodb: FaultProxy,
    pub kms: FaultProxy,
    pub secrets_manager: FaultProxy,
    pub sqs: FaultProxy,
    pub github: FaultProxy,
}

impl Network {
    fn aws(&self) -> [(&'static str, &FaultProxy); 4] {
        [
            ("AWS_ENDPOINT_URL_DYNAMODB", &self.dynamodb),
            ("AWS_ENDPOINT_URL_KMS", &self.kms),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &self.secrets_manager),
            ("AWS_ENDPOINT_URL_SQS", &self.sqs),
        ]
    }

    /// Each proxy with the service it stands for.
    pub fn by_service(&self) -> [(&'static str, &FaultProxy); 5] {
        [
            ("DynamoDB", &self.dynamodb),
            ("KMS", &self.kms),
            ("Secrets Manager", &self.secrets_manager),
            ("SQS", &self.sqs),
            ("GitHub", &self.github),
        ]
    }

    /// The SDK's service-specific endpoint variables.
    pub fn endpoints(&self) -> Vec<(&'static str, String)> {
        self.aws()
            .into_iter()
            .map(|(variable, proxy)| (variable, proxy.endpoint.clone()))
            .collect()
    }

    /// Every AWS call the proxies saw, in the order they arrived.
    pub fn aws_calls(&self) -> Vec<Call> {
        let mut calls: Vec<Call> = self
            .aws()
            .into_iter()
            .flat_map(|(_, proxy)| proxy.calls())
            .collect();
        calls.sort_by_key(|call| call.arrived);
        calls
    }

    /// Every call, GitHub's included.
    pub fn calls(&self) -> Vec<Call> {
        let mut calls = self.aws_calls();
        calls.extend(self.github.calls());
        calls
    }
}

/// Proxies in front of moto and of the GitHub stub that add `latency` to
/// every call, and twice that to the first call on a new connection: a
/// round trip each for the TCP and the TLS handshake. Over TLS the
/// handshake itself is real too, so its CPU cost is in the figures.
pub async fn network(
    bench: &Bench,
    github: &str,
    latency: Duration,
    transport: Transport,
) -> Network {
    let proxy = |upstream: String| async move {
        let proxy = match transport {
            Transport::Plain => FaultProxy::plain(&upstream).await,
            Transport::Tls => FaultProxy::start(&upstream, &bench.tls).await,
        };
        proxy.inject(None, Fault::Delay(latency));
        proxy.handshake(2 * latency);
        proxy
    };
    let moto = || proxy(bench.moto.endpoint.clone());
    let (dynamodb, kms, secrets_manager, sqs, github) =
        tokio::join!(moto(), moto(), moto(), moto(), proxy(github.to_owned()));
    Network {
        dynamodb,
        kms,
        secrets_manager,
        sqs,
        github,
    }
}
