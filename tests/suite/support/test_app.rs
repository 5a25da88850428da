//! `TestApp`, the function as the integration tests run it: moto for
//! DynamoDB, KMS and Secrets Manager, a wiremock server for GitHub, both
//! behind TLS with the run's CA as production's endpoints are, and the
//! production use case wired to them through the real SDK clients. Data is
//! seeded the way the rest of Nectr writes it (test-world's `seed.rs`): KMS
//! `Encrypt` with the encryption context, items with the attribute names of
//! CONTRACT §3.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::Request;
use nectr_disconnect::config::{self, Config, FromEnvironment, WorkerConfig};
use nectr_disconnect::wiring::{self, AwsClients, Production};
use test_world::fault_proxy::FaultProxy;
use test_world::free_port;
use test_world::jwt::{FIXTURE_KEY, claims, hs256};
use test_world::moto::Moto;
use test_world::secrets;
use test_world::seed::{self, Installation};
pub use test_world::seed::{Item, ItemKey, MAX_RECEIVES, s};
use test_world::tls::TlsTerminator;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::acting_user::{DISCONNECTED_AT, USER};
use super::events::{Answer, http_api_event};
use super::queue::Queue;
use super::tls;
use crate::support::handler::handle;

pub const TABLE: &str = "nectr-test";
pub const SECRET_ID: &str = "nectr/jwt-signing-key";
pub const NEO4J_SECRET_ID: &str = "nectr/neo4j";
pub const CLEANUP_QUEUE: &str = "nectr-webhook-cleanup";
pub const DEAD_LETTER_QUEUE: &str = "nectr-webhook-cleanup-dlq";
/// When every installation a test seeds was connected.
const INSTALLED_AT: &str = "2026-01-02T03:04:05Z";

pub struct TestApp {
    /// GitHub's stand-in, reached through `github_tls`.
    pub github: MockServer,
    github_tls: TlsTerminator,
    /// Clients of moto, reached through `_aws_tls`.
    pub aws: AwsClients,
    _aws_tls: TlsTerminator,
    pub key_id: String,
    /// Extra configuration variables, e.g. a shorter `GITHUB_TIMEOUT_MS`.
    pub env: BTreeMap<&'static str, String>,
    /// Last, so moto outlives every client call made while dropping the rest.
    moto: Moto,
}

pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    wiring::aws_config_loader()
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .load()
        .await
}

/// Clients whose every call is refused: nothing listens on the port.
pub async fn unreachable_clients() -> AwsClients {
    AwsClients::new(&sdk_config(&format!("https://127.0.0.1:{}", free_port())).await)
}

impl TestApp {
    /// Moto with the table, the OAuth-token KMS key and the signing secret
    /// (holding the fixtures' test key) created, and an idle GitHub.
    pub async fn start() -> Self {
        let (moto, github) = tokio::join!(Moto::start(), MockServer::start());
        let aws_tls = tls::front(tls::address(&moto.endpoint)).await;
        let github_tls = tls::front(*github.address()).await;
        let aws = AwsClients::new(&sdk_config(&format!("https://{}", aws_tls.addr)).await);
        seed::create_table(&aws.dynamodb, TABLE).await;
        let key_id = seed::create_key(&aws.kms).await;
        aws.secrets_manager
            .create_secret()
            .name(SECRET_ID)
            .secret_string(String::from_utf8(FIXTURE_KEY.to_vec()).unwrap())
            .send()
            .await
            .expect("moto creates the secret");
        Self {
            moto,
            github,
            github_tls,
            aws,
            _aws_tls: aws_tls,
            key_id,
            env: BTreeMap::new(),
        }
    }

    /// moto itself, in plain text: the upstream for proxies that stand
    /// between the function and AWS.
    pub fn moto_endpoint(&self) -> String {
        self.moto.endpoint.clone()
    }

    /// A fault proxy in front of moto, serving TLS with the run's CA as
    /// AWS's endpoints do: point a client at it to fail or slow that
    /// client's calls.
    pub async fn aws_proxy(&self) -> FaultProxy {
        FaultProxy::start(&self.moto.endpoint, &tls::ca().server()).await
    }

    /// The `https://` GitHub API URL the function is configured with.
    pub fn github_url(&self) -> String {
        format!("https://{}", self.github_tls.addr)
    }

    pub fn config(&self) -> Config {
        let mut vars: BTreeMap<&str, String> = BTreeMap::from([
            (config::TABLE_NAME, TABLE.to_owned()),
            (config::JWT_SECRET_ID, SECRET_ID.to_owned()),
            (config::KMS_KEY_ID, self.key_id.clone()),
            (config::GITHUB_API_URL, self.github_url()),
        ]);
        vars.extend(self.env.iter().map(|(k, v)| (*k, v.clone())));
        Config::from_lookup(|name| vars.get(name).cloned()).expect("a valid test configuration")
    }

    /// The production use case over `aws`, wired exactly as `main` wires it.
    pub fn use_case_with(&self, aws: &AwsClients) -> Production {
        let config = self.config();
        let github = wiring::github(&config).expect("the GitHub client builds");
        wiring::production(&config, aws, github)
    }

    pub async fn send(&self, request: Request) -> Answer {
        self.send_with(&self.aws, request).await
    }

    /// Sends through a use case wired to `aws` instead of the app's clients.
    pub async fn send_with(&self, aws: &AwsClients, request: Request) -> Answer {
        Answer::from(handle(&self.use_case_with(aws), request).await)
    }

    /// `DELETE /api/v1/repos/{owner}/{repo}/install` with a valid token.
    pub async fn disconnect_as(&self, user: &str, owner: &str, repo: &str) -> Answer {
        self.send(delete_as(user, owner, repo)).await
    }

    pub async fn encrypt_for(&self, user: &str, plaintext: &str) -> Vec<u8> {
        seed::encrypt_token(&self.aws.kms, &self.key_id, user, plaintext).await
    }

    /// What a Secrets Manager rotation does: `key` becomes `AWSCURRENT`, the
    /// old key `AWSPREVIOUS`.
    pub async fn rotate_signing_key(&self, key: &str) {
        secrets::register(key);
        self.aws
            .secrets_manager
            .put_secret_value()
            .secret_id(SECRET_ID)
            .secret_string(key)
            .send()
            .await
            .expect("moto rotates the secret");
    }

    /// The 200 body of a disconnect of acme/my-backend (webhook 42) whose
    /// webhook outcome is `webhook`: with `failed`, the hook's settings page
    /// on the configured GitHub.
    pub fn disconnected_body(&self, webhook: &str) -> serde_json::Value {
        let mut body = serde_json::json!({
            "status": "disconnected", "repo": "acme/my-backend", "webhook": webhook
        });
        if webhook == "failed" {
            let github = self
                .config()
                .shared
                .github
                .api_url
                .origin()
                .ascii_serialization();
            body["webhook_settings_url"] =
                format!("{github}/acme/my-backend/settings/hooks/42").into();
        }
        body
    }

    /// Gives the use case a cleanup queue in moto (CONTRACT §9), with the
    /// template's redrive policy: after `MAX_RECEIVES` receives a message
    /// moves to the dead-letter queue. Returns the queue's URL.
    pub async fn use_cleanup_queue(&mut self) -> String {
        let (url, _) = self.cleanup_queues().await;
        url
    }

    /// The cleanup queue and its dead-letter queue, created in moto.
    pub async fn cleanup_queues(&mut self) -> (String, String) {
        let (url, dead_letters) =
            seed::create_cleanup_queues(&self.aws.sqs, CLEANUP_QUEUE, DEAD_LETTER_QUEUE).await;
        self.env.insert(config::CLEANUP_QUEUE_URL, url.clone());
        (url, dead_letters)
    }

    /// The cleanup worker's configuration in this app.
    pub fn worker_config(&self) -> WorkerConfig {
        let config = self.config();
        let vars: BTreeMap<&str, String> = BTreeMap::from([
            (config::TABLE_NAME, config.shared.table_name),
            (config::KMS_KEY_ID, config.shared.kms_key_id),
            (
                config::GITHUB_API_URL,
                config.shared.github.api_url.to_string(),
            ),
            (
                config::GITHUB_TIMEOUT_MS,
                config.shared.github.timeout.as_millis().to_string(),
            ),
            (
                config::CLEANUP_QUEUE_URL,
                config
                    .cleanup_queue_url
                    .expect("the app has a cleanup queue"),
            ),
        ]);
        WorkerConfig::from_lookup(|name| vars.get(name).cloned())
            .expect("a valid worker configuration")
    }

    /// The queue at `url`, through the app's SQS client.
    pub fn queue(&self, url: &str) -> Queue {
        Queue {
            sqs: self.aws.sqs.clone(),
            url: url.to_owned(),
        }
    }

    /// Gives the use case a code graph at `uri`, with the credentials in a
    /// Secrets Manager secret as production keeps them.
    pub async fn use_graph(&mut self, uri: &str, username: &str, password: &str) {
        secrets::register(password);
        let credentials = serde_json::json!({"username": username, "password": password});
        self.aws
            .secrets_manager
            .create_secret()
            .name(NEO4J_SECRET_ID)
            .secret_string(credentials.to_string())
            .send()
            .await
            .expect("moto creates the Neo4j secret");
        self.env.insert(config::NEO4J_URI, uri.into());
        self.env
            .insert(config::NEO4J_SECRET_ID, NEO4J_SECRET_ID.into());
        // A fresh ArcadeDB plans its first query slowly, and with the whole
        // suite on two cores that can pass the production default of 1 s;
        // tests about the timeout set their own after this.
        self.env.insert(config::NEO4J_TIMEOUT_MS, "5000".into());
    }

    /// A user item whose `github_token` is `oauth_token` encrypted for them.
    pub async fn seed_user(&self, user: &str, oauth_token: &str) -> Vec<u8> {
        let ciphertext = self.encrypt_for(user, oauth_token).await;
        self.put_user(user, Some(&ciphertext)).await;
        ciphertext
    }

    pub async fn put_user(&self, user: &str, github_token: Option<&[u8]>) {
        let login = format!("{user}-login");
        self.put(seed::user_item(user, &login, github_token)).await;
    }

    /// A started app in the state most tests start from: USER connected
    /// with webhook 42, which GitHub deletes (204).
    pub async fn connected() -> (Self, ItemKey) {
        let app = Self::start().await;
        let key = app.connect(USER, Some(42)).await;
        app.github_answers(ResponseTemplate::new(204)).await;
        (app, key)
    }

    /// The state most tests start from: `user` has a GitHub token and an
    /// active installation of acme/my-backend (`inst-1`) with `webhook_id`.
    pub async fn connect(&self, user: &str, webhook_id: Option<u64>) -> ItemKey {
        self.seed_user(user, "gho_connectedtoken").await;
        self.install(user, webhook_id).await
    }

    /// An active installation of acme/my-backend (`inst-1`) for `user`.
    pub async fn install(&self, user: &str, webhook_id: Option<u64>) -> ItemKey {
        self.seed_installation(Seed {
            user,
            repo_full_name: "acme/my-backend",
            installation_id: "inst-1",
            webhook_id,
            is_active: true,
        })
        .await
    }

    /// Every webhook delete on the GitHub mock gets `response`.
    pub async fn github_answers(&self, response: ResponseTemplate) {
        Mock::given(method("DELETE"))
            .respond_with(response)
            .mount(&self.github)
            .await;
    }

    /// The installation, inactive since `DISCONNECTED_AT` unless active.
    pub async fn seed_installation(&self, installation: Seed<'_>) -> ItemKey {
        let installation = Installation {
            user: installation.user,
            repo_full_name: installation.repo_full_name,
            installation_id: installation.installation_id,
            webhook_id: installation.webhook_id,
            installed_at: INSTALLED_AT,
            disconnected_at: (!installation.is_active).then_some(DISCONNECTED_AT),
        };
        self.put(installation.item()).await;
        installation.key()
    }

    /// Writes `item` as it is, for items the seeding helpers would not write.
    pub async fn put(&self, item: Item) {
        seed::put(&self.aws.dynamodb, TABLE, item).await;
    }

    pub async fn item(&self, ItemKey { pk, sk }: &ItemKey) -> Item {
        self.aws
            .dynamodb
            .get_item()
            .table_name(TABLE)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .expect("moto answers GetItem")
            .item
            .expect("the item exists")
    }

    /// The installation at `key` is inactive, as a 200 leaves it.
    pub async fn assert_inactive(&self, key: &ItemKey) {
        let is_active = &self.item(key).await["is_active"];
        assert_eq!(is_active, &AttributeValue::Bool(false), "{key:?}");
    }

    pub async fn user_item(&self, user: &str) -> Item {
        self.item(&ItemKey::user(user)).await
    }

    /// A disconnect of USER's acme/my-backend through `aws`: 503 with
    /// `Retry-After`, no item changed, GitHub never called.
    pub async fn assert_unavailable_through(&self, aws: &AwsClients, broken: &str) {
        let before = self.items().await;

        let answer = self
            .send_with(aws, delete_as(USER, "acme", "my-backend"))
            .await;

        assert_eq!(answer.status, 503, "{broken}");
        assert_eq!(
            answer.body,
            serde_json::json!({"detail": "Service temporarily unavailable"}),
            "{broken}"
        );
        assert_eq!(answer.header("retry-after"), Some("2"), "{broken}");
        assert_eq!(self.items().await, before, "{broken}");
        assert!(
            self.github.received_requests().await.unwrap().is_empty(),
            "{broken}"
        );
    }

    /// Every item of `user`'s partition, in key order.
    pub async fn items_of(&self, user: &str) -> Vec<Item> {
        let pk = s(&ItemKey::user(user).pk);
        self.items()
            .await
            .into_iter()
            .filter(|item| item["pk"] == pk)
            .collect()
    }

    /// Every item of the table, in key order.
    pub async fn items(&self) -> Vec<Item> {
        let mut items = self
            .aws
            .dynamodb
            .scan()
            .table_name(TABLE)
            .consistent_read(true)
            .send()
            .await
            .expect("moto answers Scan")
            .items
            .unwrap_or_default();
        items.sort_by_key(|item| {
            (
                item["pk"].as_s().unwrap().clone(),
                item["sk"].as_s().unwrap().clone(),
            )
        });
        items
    }
}

/// An installation item to seed.
pub struct Seed<'a> {
    pub user: &'a str,
    pub repo_full_name: &'a str,
    pub installation_id: &'a str,
    pub webhook_id: Option<u64>,
    pub is_active: bool,
}

/// Every request `server` received, as `METHOD path`.
pub async fn received(server: &MockServer) -> Vec<String> {
    let requests = server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

/// An AWS JSON-protocol endpoint that answers every call with `error_type`.
pub async fn aws_answering(status: u16, content_type: &str, error_type: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(status)
                .insert_header("content-type", content_type)
                .set_body_string(format!(
                    r#"{{"__type":"{error_type}","message":"injected"}}"#
                )),
        )
        .mount(&server)
        .await;
    server
}

pub fn delete_as(user: &str, owner: &str, repo: &str) -> Request {
    let token = hs256(FIXTURE_KEY, &claims(user));
    http_api_event(
        "DELETE",
        &format!("/api/v1/repos/{owner}/{repo}/install"),
        &[("authorization", &format!("Bearer {token}"))],
    )
}
