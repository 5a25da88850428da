//! The use case wired over in-memory fakes.

use std::marker::PhantomData;
use std::time::{Duration, Instant};

use nectr_disconnect::adapters::GitHubWebhooks;
use nectr_disconnect::auth::{Authenticator, JwtRules, KeyLifetime};
use nectr_disconnect::cleanup::WebhookCleanup;
use nectr_disconnect::disconnect::{DisconnectError, DisconnectRequest};
use nectr_disconnect::domain::{
    BearerToken, Credentials, Disconnected, GraphCounts, UserId, WebhookOutcome,
};
use nectr_disconnect::http::Api;
use nectr_disconnect::ports::{Adapters, CleanupPorts, DisconnectPorts, WebhookRemover};
use nectr_disconnect::timeouts;
use test_world::jwt::{FIXTURE_KEY, claims, hs256};

use super::acting_user::{CIPHERTEXT, OAUTH_TOKEN, USER};
use super::fakes::{FakeCleanup, FakeGraph, FakeKeys, FakeStore, FakeTokens, FakeWebhooks};

/// The web app's origin, the one `ALLOWED_ORIGINS` names in the fakes'
/// wiring, in env.json and in the fixtures.
pub const WEB_APP_ORIGIN: &str = "https://app.nectr.ai";

/// The in-memory fakes as both use cases' ports, with `W` for GitHub: the
/// fake, or the real adapter for what GitHub's answers do to both
/// functions.
pub struct FakePorts<W = FakeWebhooks>(PhantomData<W>);

impl<W: WebhookRemover + Clone + 'static> DisconnectPorts for FakePorts<W> {
    type SigningKeys = FakeKeys;
    type Installations = FakeStore;
    type Tokens = FakeTokens;
    type Webhooks = W;
    type Graph = FakeGraph;
    type Cleanup = FakeCleanup;
}

impl<W: WebhookRemover + 'static> CleanupPorts for FakePorts<W> {
    type Installations = FakeStore;
    type Tokens = FakeTokens;
    type Webhooks = W;
}

pub type FakeUseCase = Api<FakePorts>;

pub struct Fakes {
    pub store: FakeStore,
    pub tokens: FakeTokens,
    pub keys: FakeKeys,
    pub webhooks: FakeWebhooks,
    pub graph: FakeGraph,
    pub cleanup: FakeCleanup,
}

impl Fakes {
    /// Empty fakes; the signing key is the fixtures' test key.
    pub fn new() -> Self {
        Self {
            store: FakeStore::default(),
            tokens: FakeTokens::default(),
            keys: FakeKeys::new(FIXTURE_KEY),
            webhooks: FakeWebhooks::default(),
            graph: FakeGraph::default(),
            cleanup: FakeCleanup::default(),
        }
    }

    /// The state most unit tests start from: USER connected to
    /// acme/my-backend (`inst-1`, webhook 42).
    pub fn connected() -> Self {
        Self::with_installation("acme/my-backend", true)
    }

    /// USER with an OAuth token and installation `inst-1` of
    /// `repo_full_name` (webhook 42): active, or already disconnected.
    pub fn with_installation(repo_full_name: &str, is_active: bool) -> Self {
        let fakes = Self::new();
        fakes.store.add_user(USER, Some(CIPHERTEXT));
        fakes.tokens.add(USER, CIPHERTEXT, OAUTH_TOKEN);
        fakes
            .store
            .add_installation(USER, repo_full_name, "inst-1", Some(42), is_active);
        fakes
    }

    /// Without a code graph or a cleanup queue, as when `NEO4J_URI` and
    /// `CLEANUP_QUEUE_URL` are not set.
    pub fn use_case(&self) -> FakeUseCase {
        self.wired(self.webhooks.clone(), None, None)
    }

    /// The cleanup worker over the same fakes.
    pub fn cleanup_worker(&self) -> WebhookCleanup<FakePorts> {
        self.cleanup_worker_over(self.webhooks.clone())
    }

    pub fn use_case_with_graph(&self) -> FakeUseCase {
        self.wired(self.webhooks.clone(), Some(self.graph.clone()), None)
    }

    pub fn use_case_with_cleanup(&self) -> FakeUseCase {
        self.wired(self.webhooks.clone(), None, Some(self.cleanup.clone()))
    }

    /// With a cleanup queue, and `github` for GitHub.
    pub fn use_case_over(&self, github: GitHubWebhooks) -> Api<FakePorts<GitHubWebhooks>> {
        self.wired(github, None, Some(self.cleanup.clone()))
    }

    /// The cleanup worker over the fakes and `webhooks`.
    pub fn cleanup_worker_over<W: WebhookRemover + 'static>(
        &self,
        webhooks: W,
    ) -> WebhookCleanup<FakePorts<W>> {
        WebhookCleanup {
            installations: self.store.clone(),
            tokens: self.tokens.clone(),
            webhooks,
            time_per_job: timeouts::time_per_cleanup_job(Duration::from_secs(3)),
        }
    }

    fn wired<W: WebhookRemover + Clone + 'static>(
        &self,
        webhooks: W,
        graph: Option<FakeGraph>,
        cleanup: Option<FakeCleanup>,
    ) -> Api<FakePorts<W>> {
        Api::new(
            Authenticator::new(
                self.keys.clone(),
                JwtRules {
                    allowed_origins: vec![WEB_APP_ORIGIN.to_owned()],
                    ..JwtRules::default()
                },
                KeyLifetime {
                    ttl: Duration::from_secs(300),
                    stale: Duration::from_secs(3_600),
                    previous: Duration::from_secs(86_400),
                },
            ),
            Adapters {
                installations: self.store.clone(),
                tokens: self.tokens.clone(),
                webhooks,
                graph,
                cleanup,
            },
        )
    }
}

/// One disconnect through `use_case`, with three seconds to the deadline.
pub async fn disconnect_with(
    use_case: &FakeUseCase,
    token: Option<&BearerToken>,
    owner: &str,
    repo: &str,
) -> Result<Disconnected, DisconnectError> {
    let credentials = token.map_or(Credentials::None, |token| {
        Credentials::Bearer(BearerToken::new(token.expose()))
    });
    let deadline = Instant::now() + Duration::from_secs(3);
    let caller = use_case.authenticator.caller(&credentials, deadline);
    let request = DisconnectRequest {
        owner,
        repo,
        deadline,
    };
    use_case
        .disconnect_repository
        .disconnect(caller, request)
        .await
}

/// A token of `user`, signed with the fixtures' key and valid for an hour.
pub fn token_for(user: &str) -> BearerToken {
    BearerToken::new(&hs256(FIXTURE_KEY, &claims(user)))
}

/// What a disconnect of USER's acme/my-backend (`inst-1`) answers once its
/// webhook is removed, with `graph` as the code graph's report.
pub fn webhook_removed(graph: Option<GraphCounts>) -> Disconnected {
    Disconnected {
        user_id: UserId::new(USER),
        repo_full_name: "acme/my-backend".into(),
        installation_ids: vec!["inst-1".into()],
        webhook: WebhookOutcome::Removed,
        webhook_settings_url: None,
        graph,
    }
}
