//! In-memory implementations of the ports, for the unit and fixture layers.
//! Each fake is a cheap handle over shared state, so a test keeps a clone to
//! seed it and to inspect what the use case did to it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use nectr_disconnect::adapters::dynamodb;
use nectr_disconnect::domain::{
    Ciphertext, CleanupJob, GraphCounts, Installation, InstallationRecord, OAuthToken, RepoName,
    SigningKey, SigningKeys, User, UserId, rfc3339,
};
use nectr_disconnect::ports::{
    CleanupQueue, CodeGraph, Deactivation, DecryptError, Dependency, DependencyError,
    Disconnection, GraphError, InstallationStore, Redelivery, SigningKeySource, TokenDecryptor,
    WebhookRemoval, WebhookRemover,
};
use nectr_disconnect::timeouts::LONGEST_VISIBILITY;
use test_world::secrets;

use super::acting_user::DISCONNECTED_AT;

/// How a fake dependency misbehaves when told to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Unavailable,
    Failed,
}

impl Fault {
    fn error(self, dependency: Dependency) -> DependencyError {
        match self {
            Fault::Unavailable => DependencyError::unavailable(dependency, "injected: unavailable"),
            Fault::Failed => DependencyError::failed(dependency, "injected: failed"),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredInstallation {
    pub user: UserId,
    /// `owner/repo` in lower case, as the sort key holds it.
    pub repo_key: String,
    pub installation: Installation,
    pub is_active: bool,
    /// RFC 3339, as the disconnect writes it.
    pub disconnected_at: Option<String>,
}

impl StoredInstallation {
    /// Whether this is the item the disconnection addresses: the user's,
    /// with the sort key the lookup found.
    fn is(&self, disconnection: &Disconnection<'_>) -> bool {
        &self.user == disconnection.user
            && self.installation.sort_key == disconnection.installation.sort_key
    }

    fn record(&self) -> InstallationRecord {
        InstallationRecord {
            installation: self.installation.clone(),
            is_active: self.is_active,
            disconnected_at: self.disconnected_at.clone(),
        }
    }
}

#[derive(Default)]
struct StoreState {
    users: HashMap<UserId, User>,
    installations: Vec<StoredInstallation>,
    calls: usize,
    fault: Option<Fault>,
    updates_hang: bool,
    updates_lose_their_answer: bool,
    /// How long every call takes.
    latency: Duration,
    /// Installations a concurrent disconnect deactivates between this
    /// function's query and its update.
    deactivated_behind_our_back: Vec<String>,
}

#[derive(Clone, Default)]
pub struct FakeStore(Arc<Mutex<StoreState>>);

impl FakeStore {
    pub fn add_user(&self, id: &str, github_token: Option<&[u8]>) {
        github_token.map(secrets::register_bytes);
        let user = User {
            github_token: github_token.map(|t| Ciphertext::new(t.to_vec())),
        };
        lock(&self.0).users.insert(UserId::new(id), user);
    }

    /// An installation as the rest of Nectr writes it; one seeded inactive
    /// was disconnected at `DISCONNECTED_AT`.
    pub fn add_installation(
        &self,
        user: &str,
        repo_full_name: &str,
        installation_id: &str,
        webhook_id: Option<u64>,
        is_active: bool,
    ) {
        let disconnected_at = (!is_active).then_some(DISCONNECTED_AT);
        self.add(
            user,
            repo_full_name,
            installation_id,
            webhook_id,
            disconnected_at,
        );
    }

    /// An installation that is active unless `disconnected_at` says when a
    /// disconnect made it inactive.
    pub fn add(
        &self,
        user: &str,
        repo_full_name: &str,
        installation_id: &str,
        webhook_id: Option<u64>,
        disconnected_at: Option<&str>,
    ) {
        let repo = RepoName::parse_full_name(repo_full_name)
            .expect("a seeded repository has a valid name");
        lock(&self.0).installations.push(StoredInstallation {
            user: UserId::new(user),
            repo_key: repo.lowercase_full_name(),
            installation: Installation {
                sort_key: dynamodb::installation_sk(&repo, installation_id),
                installation_id: installation_id.into(),
                repo_full_name: repo_full_name.into(),
                webhook_id,
            },
            is_active: disconnected_at.is_none(),
            disconnected_at: disconnected_at.map(str::to_owned),
        });
    }

    /// Rewrites an installation's stored `repo_full_name` and nothing
    /// else, its key included.
    pub fn rename(&self, installation_id: &str, repo_full_name: &str) {
        for stored in lock(&self.0).installations.iter_mut() {
            if stored.installation.installation_id == installation_id {
                stored.installation.repo_full_name = repo_full_name.into();
            }
        }
    }

    pub fn installations(&self) -> Vec<StoredInstallation> {
        lock(&self.0).installations.clone()
    }

    pub fn installation(&self, installation_id: &str) -> StoredInstallation {
        self.installations()
            .into_iter()
            .find(|i| i.installation.installation_id == installation_id)
            .expect("installation was seeded")
    }

    pub fn calls(&self) -> usize {
        lock(&self.0).calls
    }

    pub fn fail_with(&self, fault: Fault) {
        lock(&self.0).fault = Some(fault);
    }

    /// Every call takes `latency` before it answers.
    pub fn slow(&self, latency: Duration) {
        lock(&self.0).latency = latency;
    }

    async fn wait(&self) {
        let latency = lock(&self.0).latency;
        tokio::time::sleep(latency).await;
    }

    /// `deactivate` never answers, not even by the deadline.
    pub fn hang_updates(&self) {
        lock(&self.0).updates_hang = true;
    }

    /// `deactivate` takes effect, then fails as if its answer were lost on
    /// the way back.
    pub fn lose_update_answers(&self) {
        lock(&self.0).updates_lose_their_answer = true;
    }

    pub fn deactivate_before_update(&self, installation_id: &str) {
        lock(&self.0)
            .deactivated_behind_our_back
            .push(installation_id.into());
    }

    fn call(&self) -> Result<MutexGuard<'_, StoreState>, DependencyError> {
        let mut state = lock(&self.0);
        state.calls += 1;
        match state.fault {
            Some(fault) => Err(fault.error(Dependency::DynamoDb)),
            None => Ok(state),
        }
    }
}

impl InstallationStore for FakeStore {
    async fn find_user(&self, user: &UserId) -> Result<Option<User>, DependencyError> {
        self.wait().await;
        Ok(self.call()?.users.get(user).cloned())
    }

    async fn find_active_installations(
        &self,
        user: &UserId,
        repo: &RepoName,
    ) -> Result<Vec<Installation>, DependencyError> {
        let key = repo.lowercase_full_name();
        Ok(self
            .call()?
            .installations
            .iter()
            .filter(|i| &i.user == user && i.repo_key == key && i.is_active)
            .map(|i| i.installation.clone())
            .collect())
    }

    async fn webhook_in_use(
        &self,
        user: &UserId,
        webhook_id: u64,
    ) -> Result<bool, DependencyError> {
        self.wait().await;
        Ok(self.call()?.installations.iter().any(|i| {
            &i.user == user && i.is_active && i.installation.webhook_id == Some(webhook_id)
        }))
    }

    async fn find_installation(
        &self,
        user: &UserId,
        repo: &RepoName,
        installation_id: &str,
    ) -> Result<Option<InstallationRecord>, DependencyError> {
        self.wait().await;
        let key = repo.lowercase_full_name();
        Ok(self
            .call()?
            .installations
            .iter()
            .find(|i| {
                &i.user == user
                    && i.repo_key == key
                    && i.installation.installation_id == installation_id
            })
            .map(StoredInstallation::record))
    }

    async fn deactivate(
        &self,
        disconnection: &Disconnection<'_>,
    ) -> Result<Deactivation, DependencyError> {
        let (hangs, loses_its_answer) = {
            let state = lock(&self.0);
            (state.updates_hang, state.updates_lose_their_answer)
        };
        if hangs {
            std::future::pending::<()>().await;
        }
        let outcome = {
            let mut state = self.call()?;
            let interfering = std::mem::take(&mut state.deactivated_behind_our_back);
            for stored in state.installations.iter_mut() {
                if interfering.contains(&stored.installation.installation_id) {
                    stored.is_active = false;
                }
            }
            let target = state
                .installations
                .iter_mut()
                .find(|i| i.is(disconnection) && i.is_active);
            match target {
                Some(stored) => {
                    stored.is_active = false;
                    stored.disconnected_at = Some(rfc3339(disconnection.at));
                    Deactivation::Deactivated
                }
                None => Deactivation::NotActive,
            }
        };
        if loses_its_answer {
            return Err(Fault::Unavailable.error(Dependency::DynamoDb));
        }
        Ok(outcome)
    }

    async fn is_deactivated(
        &self,
        disconnection: &Disconnection<'_>,
    ) -> Result<bool, DependencyError> {
        Ok(self.call()?.installations.iter().any(|i| {
            i.is(disconnection)
                && !i.is_active
                && i.disconnected_at == Some(rfc3339(disconnection.at))
        }))
    }
}

/// Something that happens elsewhere while a fake is called.
type Meanwhile = Arc<dyn Fn() + Send + Sync>;

#[derive(Default)]
struct TokensState {
    /// (user id, ciphertext) → plaintext: a ciphertext decrypts only for the
    /// user it was encrypted for, like a KMS encryption context.
    tokens: HashMap<(String, Vec<u8>), String>,
    calls: usize,
    fault: Option<Fault>,
    meanwhile: Option<Meanwhile>,
    latency: Duration,
}

#[derive(Clone, Default)]
pub struct FakeTokens(Arc<Mutex<TokensState>>);

impl FakeTokens {
    pub fn add(&self, user: &str, ciphertext: &[u8], plaintext: &str) {
        secrets::register_bytes(ciphertext);
        secrets::register(plaintext);
        lock(&self.0)
            .tokens
            .insert((user.into(), ciphertext.to_vec()), plaintext.into());
    }

    pub fn calls(&self) -> usize {
        lock(&self.0).calls
    }

    pub fn fail_with(&self, fault: Fault) {
        lock(&self.0).fault = Some(fault);
    }

    /// Every decryption takes `latency` before it answers.
    pub fn slow(&self, latency: Duration) {
        lock(&self.0).latency = latency;
    }

    /// `meanwhile` happens while a token is being decrypted.
    pub fn while_decrypting(&self, meanwhile: impl Fn() + Send + Sync + 'static) {
        lock(&self.0).meanwhile = Some(Arc::new(meanwhile));
    }
}

impl TokenDecryptor for FakeTokens {
    async fn decrypt(
        &self,
        user: &UserId,
        ciphertext: &Ciphertext,
    ) -> Result<OAuthToken, DecryptError> {
        let (meanwhile, latency) = {
            let state = lock(&self.0);
            (state.meanwhile.clone(), state.latency)
        };
        tokio::time::sleep(latency).await;
        if let Some(meanwhile) = meanwhile {
            meanwhile();
        }
        let mut state = lock(&self.0);
        state.calls += 1;
        if let Some(fault) = state.fault {
            return Err(fault.error(Dependency::Kms).into());
        }
        state
            .tokens
            .get(&(user.as_str().to_owned(), ciphertext.as_bytes().to_vec()))
            .map(|plaintext| OAuthToken::new(plaintext.clone()))
            .ok_or(DecryptError::Undecryptable(
                "fake: not encrypted for this user",
            ))
    }
}

struct KeysState {
    current: Vec<u8>,
    current_created: Option<SystemTime>,
    previous: Option<Vec<u8>>,
    fetches: usize,
    fault: Option<Fault>,
    latency: Duration,
}

#[derive(Clone)]
pub struct FakeKeys(Arc<Mutex<KeysState>>);

impl FakeKeys {
    pub fn new(current: &[u8]) -> Self {
        secrets::register_bytes(current);
        Self(Arc::new(Mutex::new(KeysState {
            current: current.to_vec(),
            current_created: Some(SystemTime::now()),
            previous: None,
            fetches: 0,
            fault: None,
            latency: Duration::ZERO,
        })))
    }

    /// What a Secrets Manager rotation does: the current key becomes the
    /// previous one.
    pub fn rotate(&self, new_current: &[u8]) {
        self.rotated_ago(new_current, Duration::ZERO);
    }

    /// A rotation that happened `ago`: the new current key was created then.
    pub fn rotated_ago(&self, new_current: &[u8], ago: Duration) {
        secrets::register_bytes(new_current);
        let mut state = lock(&self.0);
        let old = std::mem::replace(&mut state.current, new_current.to_vec());
        state.previous = Some(old);
        state.current_created = Some(SystemTime::now() - ago);
    }

    /// The store stops saying when the current key was created.
    pub fn forget_creation_date(&self) {
        lock(&self.0).current_created = None;
    }

    pub fn fetches(&self) -> usize {
        lock(&self.0).fetches
    }

    pub fn fail_with(&self, fault: Fault) {
        lock(&self.0).fault = Some(fault);
    }

    pub fn heal(&self) {
        lock(&self.0).fault = None;
    }

    /// Every fetch takes `latency` before it answers.
    pub fn slow(&self, latency: Duration) {
        lock(&self.0).latency = latency;
    }
}

impl SigningKeySource for FakeKeys {
    async fn fetch(&self) -> Result<SigningKeys, DependencyError> {
        let latency = lock(&self.0).latency;
        tokio::time::sleep(latency).await;
        let mut state = lock(&self.0);
        state.fetches += 1;
        if let Some(fault) = state.fault {
            return Err(fault.error(Dependency::SecretsManager));
        }
        Ok(SigningKeys {
            current: SigningKey::new(state.current.clone()),
            current_created: state.current_created,
            previous: state.previous.clone().map(SigningKey::new),
        })
    }
}

/// GitHub failing in a way worth retrying, with no time said.
pub const TRANSIENT: WebhookRemoval = WebhookRemoval::Transient { retry_after: None };

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookCall {
    pub token: String,
    pub repo: String,
    pub webhook_id: u64,
}

struct WebhooksState {
    removal: WebhookRemoval,
    calls: Vec<WebhookCall>,
    /// GitHub never answers: each call ends at its timeout, this long, or
    /// at the deadline, transient, as the adapter does.
    hangs_for: Option<Duration>,
}

#[derive(Clone)]
pub struct FakeWebhooks(Arc<Mutex<WebhooksState>>);

impl Default for FakeWebhooks {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(WebhooksState {
            removal: WebhookRemoval::Removed,
            calls: Vec::new(),
            hangs_for: None,
        })))
    }
}

impl FakeWebhooks {
    pub fn answer(&self, removal: WebhookRemoval) {
        lock(&self.0).removal = removal;
    }

    /// GitHub stops answering; each call gives up after `timeout`.
    pub fn hang(&self, timeout: Duration) {
        lock(&self.0).hangs_for = Some(timeout);
    }

    pub fn calls(&self) -> Vec<WebhookCall> {
        lock(&self.0).calls.clone()
    }

    /// The hooks asked to be removed, in order.
    pub fn webhook_ids(&self) -> Vec<u64> {
        lock(&self.0).calls.iter().map(|c| c.webhook_id).collect()
    }
}

impl WebhookRemover for FakeWebhooks {
    async fn remove(&self, token: &OAuthToken, repo: &RepoName, webhook_id: u64) -> WebhookRemoval {
        let hangs_for = {
            let mut state = lock(&self.0);
            state.calls.push(WebhookCall {
                token: token.expose().into(),
                repo: repo.to_string(),
                webhook_id,
            });
            state.hangs_for
        };
        if let Some(timeout) = hangs_for {
            tokio::time::sleep(timeout).await;
            return TRANSIENT;
        }
        lock(&self.0).removal
    }

    fn settings_url(&self, repo: &RepoName, webhook_id: u64) -> String {
        format!("https://github.test/{repo}/settings/hooks/{webhook_id}")
    }
}

#[derive(Default)]
struct CleanupState {
    jobs: Vec<(CleanupJob, Duration)>,
    postponed: Vec<(String, Duration)>,
    fault: Option<Fault>,
    latency: Duration,
    /// When the batch the worker postpones was received.
    received: Option<Instant>,
}

/// SQS's answer to a visibility past its limit (ChangeMessageVisibility's
/// API reference: 12 hours, counted from the message's receipt).
#[derive(Debug, thiserror::Error)]
#[error(
    "InvalidParameterValue: Value {0} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]"
)]
struct BeyondTheVisibilityLimit(u64);

/// A cleanup queue that keeps what it is sent, or refuses it.
#[derive(Clone, Default)]
pub struct FakeCleanup(Arc<Mutex<CleanupState>>);

impl FakeCleanup {
    pub fn jobs(&self) -> Vec<(CleanupJob, Duration)> {
        lock(&self.0).jobs.clone()
    }

    pub fn fail_with(&self, fault: Fault) {
        lock(&self.0).fault = Some(fault);
    }

    /// Every job sent and every postponement takes `latency` before it
    /// answers.
    pub fn slow(&self, latency: Duration) {
        lock(&self.0).latency = latency;
    }

    /// The batch is received now: a postponement past SQS's 12 hours from
    /// now is refused, as SQS refuses it.
    pub fn receive_now(&self) {
        lock(&self.0).received = Some(Instant::now());
    }

    /// Every receipt the worker pushed back, and by how long.
    pub fn postponed(&self) -> Vec<(String, Duration)> {
        lock(&self.0).postponed.clone()
    }

    fn call(&self) -> Result<MutexGuard<'_, CleanupState>, DependencyError> {
        let state = lock(&self.0);
        match state.fault {
            Some(fault) => Err(fault.error(Dependency::Sqs)),
            None => Ok(state),
        }
    }
}

impl Redelivery for FakeCleanup {
    async fn postpone(&self, receipt: &str, delay: Duration) -> Result<(), DependencyError> {
        let latency = lock(&self.0).latency;
        tokio::time::sleep(latency).await;
        let mut state = self.call()?;
        if let Some(received) = state.received
            && received.elapsed() + delay > LONGEST_VISIBILITY
        {
            let refusal = BeyondTheVisibilityLimit(delay.as_secs());
            return Err(DependencyError::failed(Dependency::Sqs, refusal));
        }
        state.postponed.push((receipt.to_owned(), delay));
        Ok(())
    }
}

impl CleanupQueue for FakeCleanup {
    async fn schedule(&self, job: &CleanupJob, delay: Duration) -> Result<(), DependencyError> {
        let latency = lock(&self.0).latency;
        tokio::time::sleep(latency).await;
        self.call()?.jobs.push((job.clone(), delay));
        Ok(())
    }
}

#[derive(Default)]
struct GraphState {
    kept: HashMap<String, GraphCounts>,
    fault: Option<Fault>,
    hangs: bool,
    asked: Vec<String>,
}

/// A code graph that counts zero for a repository it was not told about,
/// as the real query does.
#[derive(Clone, Default)]
pub struct FakeGraph(Arc<Mutex<GraphState>>);

impl FakeGraph {
    pub fn keeps(&self, repo_full_name: &str, kept: GraphCounts) {
        lock(&self.0).kept.insert(repo_full_name.into(), kept);
    }

    pub fn fail_with(&self, fault: Fault) {
        lock(&self.0).fault = Some(fault);
    }

    /// Never answers: only the caller's deadline ends the read.
    pub fn hang(&self) {
        lock(&self.0).hangs = true;
    }

    /// The repository names the use case asked about, in order.
    pub fn asked(&self) -> Vec<String> {
        lock(&self.0).asked.clone()
    }
}

impl CodeGraph for FakeGraph {
    async fn kept(&self, repo_full_name: &str) -> Result<GraphCounts, GraphError> {
        let hangs = {
            let mut state = lock(&self.0);
            state.asked.push(repo_full_name.into());
            state.hangs
        };
        if hangs {
            std::future::pending::<()>().await;
        }
        let state = lock(&self.0);
        if let Some(fault) = state.fault {
            return Err(GraphError(format!("injected: {fault:?}").into()));
        }
        Ok(state
            .kept
            .get(repo_full_name)
            .copied()
            .unwrap_or(GraphCounts {
                files: 0,
                pull_requests: 0,
                developers: 0,
            }))
    }
}
