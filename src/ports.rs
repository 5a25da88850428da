//! The capabilities the use cases (the disconnect, the cleanup worker, the
//! pre-traffic check) need from the outside world, one small trait each.
//! Adapters implement them for AWS and GitHub; tests implement them in
//! memory. No port takes a deadline: the caller bounds
//! every call by the invocation's (`timeouts::within`, `timeouts::before`).

use std::future::Future;
use std::time::{Duration, SystemTime};

use crate::domain::{
    Ciphertext, CleanupJob, GraphCounts, Installation, InstallationRecord, OAuthToken, RepoName,
    SigningKeys, User, UserId,
};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The dependencies, named in logs and errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dependency {
    DynamoDb,
    Kms,
    SecretsManager,
    Sqs,
}

impl std::fmt::Display for Dependency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::DynamoDb => "DynamoDB",
            Self::Kms => "KMS",
            Self::SecretsManager => "Secrets Manager",
            Self::Sqs => "SQS",
        })
    }
}

/// Why a dependency call did not give an answer the use case can work with.
/// The source is for the operator's log; it never reaches a response body.
#[derive(Debug, thiserror::Error)]
pub enum DependencyError {
    /// Throttled, timed out, unreachable or failing on its side: worth a retry.
    #[error("{dependency} is unavailable")]
    Unavailable {
        dependency: Dependency,
        #[source]
        source: BoxError,
    },
    /// The deployment is wrong (IAM denies the call, the key is disabled,
    /// the table, key or secret does not exist): every request fails the
    /// same way until an operator acts, so it must raise an alarm.
    #[error("{dependency} refuses this deployment: {code} on {resource}")]
    Misconfigured {
        dependency: Dependency,
        /// The AWS error code.
        code: String,
        /// The table, key or secret the call named.
        resource: String,
        #[source]
        source: BoxError,
    },
    /// Answered, but not in a way this function can use (corrupt data, a
    /// bug).
    #[error("{dependency} call failed")]
    Failed {
        dependency: Dependency,
        #[source]
        source: BoxError,
    },
}

impl DependencyError {
    pub fn unavailable(dependency: Dependency, source: impl Into<BoxError>) -> Self {
        Self::Unavailable {
            dependency,
            source: source.into(),
        }
    }

    pub fn misconfigured(
        dependency: Dependency,
        code: impl Into<String>,
        resource: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> Self {
        Self::Misconfigured {
            dependency,
            code: code.into(),
            resource: resource.into(),
            source: source.into(),
        }
    }

    pub fn failed(dependency: Dependency, source: impl Into<BoxError>) -> Self {
        Self::Failed {
            dependency,
            source: source.into(),
        }
    }

    /// How the metrics name the cause (`DependencyErrors` by `cause`): one
    /// alarm per cause.
    pub fn metric_cause(&self) -> &'static str {
        match self {
            Self::Unavailable { .. } => "unavailable",
            Self::Misconfigured { .. } => Misconfiguration::METRIC_CAUSE,
            Self::Failed { .. } => "unexpected",
        }
    }

    /// Whether the call may go through when tried again (or may have gone
    /// through unanswered): only then is a write read back, or a job retried.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unavailable { .. } => true,
            Self::Misconfigured { .. } | Self::Failed { .. } => false,
        }
    }

    /// The service, AWS error code and resource of a deployment mistake.
    pub fn misconfiguration(&self) -> Option<Misconfiguration<'_>> {
        match self {
            Self::Misconfigured {
                dependency,
                code,
                resource,
                ..
            } => Some(Misconfiguration {
                dependency: *dependency,
                code,
                resource,
            }),
            Self::Unavailable { .. } | Self::Failed { .. } => None,
        }
    }
}

/// A deployment mistake: the service that refused, its AWS error code and
/// the table, key or secret the call named.
#[derive(Clone, Copy, Debug)]
pub struct Misconfiguration<'a> {
    pub dependency: Dependency,
    pub code: &'a str,
    pub resource: &'a str,
}

impl Misconfiguration<'_> {
    /// The metrics' cause of every deployment mistake, wherever it is met.
    pub const METRIC_CAUSE: &'static str = "misconfiguration";

    /// The ERROR line of a deployment mistake, wherever it is met (a
    /// request, a cleanup job, the warm-up): the same three fields, so one
    /// log query and one alarm find them all; `status` and `cause` when the
    /// caller has them.
    pub fn log(&self, status: Option<u16>, cause: Option<&str>, message: &str) {
        tracing::error!(
            status,
            aws_service = %self.dependency,
            aws_error_code = %self.code,
            resource = %self.resource,
            cause,
            "{message}"
        );
    }
}

/// Why an OAuth token could not be decrypted.
#[derive(Debug, thiserror::Error)]
pub enum DecryptError {
    /// KMS refused this ciphertext for good: another user's, another key's,
    /// or not a ciphertext at all. The reason is for the operator's log.
    #[error("the ciphertext cannot be decrypted: {0}")]
    Undecryptable(&'static str),
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// Whether a conditional deactivation took effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deactivation {
    Deactivated,
    /// The item was no longer active (or no longer there) when the update ran.
    NotActive,
}

/// One installation being disconnected: whose, of which repository as
/// requested, and the `disconnected_at` stamp it gets.
#[derive(Clone, Copy, Debug)]
pub struct Disconnection<'a> {
    pub user: &'a UserId,
    pub repo: &'a RepoName,
    pub installation: &'a Installation,
    pub at: SystemTime,
}

/// Users and their installations (DynamoDB in production).
pub trait InstallationStore: Send + Sync {
    fn find_user(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<Option<User>, DependencyError>> + Send;

    /// Every active installation of `repo` owned by `user`, compared
    /// case-insensitively.
    fn find_active_installations(
        &self,
        user: &UserId,
        repo: &RepoName,
    ) -> impl Future<Output = Result<Vec<Installation>, DependencyError>> + Send;

    /// Whether any active installation of `user`, of any repository,
    /// carries the hook `webhook_id`: a renamed repository keeps its hooks,
    /// and GitHub's hook ids are unique.
    fn webhook_in_use(
        &self,
        user: &UserId,
        webhook_id: u64,
    ) -> impl Future<Output = Result<bool, DependencyError>> + Send;

    /// The installation `installation_id` of `repo` owned by `user`,
    /// active or not, read consistently.
    fn find_installation(
        &self,
        user: &UserId,
        repo: &RepoName,
        installation_id: &str,
    ) -> impl Future<Output = Result<Option<InstallationRecord>, DependencyError>> + Send;

    /// Sets `is_active = false` and `disconnected_at` on the item found
    /// (its own key), only if it is still active and still the user's;
    /// touches no other attribute.
    fn deactivate(
        &self,
        disconnection: &Disconnection<'_>,
    ) -> impl Future<Output = Result<Deactivation, DependencyError>> + Send;

    /// Whether the installation is inactive with exactly the disconnection's
    /// stamp as its `disconnected_at`: how a caller learns that a
    /// `deactivate` whose answer was lost went through.
    fn is_deactivated(
        &self,
        disconnection: &Disconnection<'_>,
    ) -> impl Future<Output = Result<bool, DependencyError>> + Send;
}

/// Decrypts GitHub OAuth tokens (KMS in production).
pub trait TokenDecryptor: Send + Sync {
    fn decrypt(
        &self,
        user: &UserId,
        ciphertext: &Ciphertext,
    ) -> impl Future<Output = Result<OAuthToken, DecryptError>> + Send;
}

/// Fetches the JWT signing keys (Secrets Manager in production).
pub trait SigningKeySource: Send + Sync {
    fn fetch(&self) -> impl Future<Output = Result<SigningKeys, DependencyError>> + Send;
}

/// What became of a request to remove a webhook (CONTRACT §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookRemoval {
    Removed,
    /// GitHub answered 404 and the caller still administers the repository.
    AlreadyGone,
    /// GitHub answered 404, and the caller may not administer the
    /// repository (GitHub hides it behind a 404): the hook may still be
    /// there, and this token cannot remove it.
    NoAdminAccess,
    /// GitHub refused for good (401, 403, 422, a redirect off the API's
    /// origin): asking again cannot help.
    Refused,
    /// No answer about the hook (5xx, rate limit, time-out, connection
    /// error): worth asking again, not before `retry_after` when GitHub
    /// said when.
    Transient {
        retry_after: Option<Duration>,
    },
}

impl WebhookRemoval {
    /// No answer in time, and no word from GitHub on when to ask again.
    pub const UNANSWERED: Self = Self::Transient { retry_after: None };
}

/// Removes repository webhooks (GitHub in production). Never fails: every
/// problem is an outcome the user is told about.
pub trait WebhookRemover: Send + Sync {
    fn remove(
        &self,
        token: &OAuthToken,
        repo: &RepoName,
        webhook_id: u64,
    ) -> impl Future<Output = WebhookRemoval> + Send;

    /// The page where the user removes the hook by hand.
    fn settings_url(&self, repo: &RepoName, webhook_id: u64) -> String;
}

/// Durable jobs for webhooks a disconnect could not remove (SQS in
/// production, CONTRACT §9).
pub trait CleanupQueue: Send + Sync {
    /// Queues `job`, to be delivered no sooner than `delay` from now.
    fn schedule(
        &self,
        job: &CleanupJob,
        delay: Duration,
    ) -> impl Future<Output = Result<(), DependencyError>> + Send;
}

/// Why the code graph could not be read. Only ever logged: the disconnect
/// goes on without the graph.
#[derive(Debug, thiserror::Error)]
#[error("the code graph could not be read")]
pub struct GraphError(#[source] pub BoxError);

/// Reads the code graph (Neo4j in production). Read-only: the graph is shared
/// by every user who connected the same repository, and a disconnect keeps it.
pub trait CodeGraph: Send + Sync {
    /// What the graph holds for `repo_full_name`, matched exactly.
    fn kept(
        &self,
        repo_full_name: &str,
    ) -> impl Future<Output = Result<GraphCounts, GraphError>> + Send;
}

/// Puts a received cleanup job back for a later attempt (SQS's
/// `ChangeMessageVisibility` in production).
pub trait Redelivery: Send + Sync {
    /// The job with this receipt is delivered again only after `delay`.
    fn postpone(
        &self,
        receipt: &str,
        delay: Duration,
    ) -> impl Future<Output = Result<(), DependencyError>> + Send;
}

/// What a function version answered to a synchronous invocation: its
/// payload, and Lambda's `X-Amz-Function-Error` when the invocation failed
/// (the function crashed, or its init did).
#[derive(Clone, Debug, Default)]
pub struct Invoked {
    pub function_error: Option<String>,
    pub payload: Vec<u8>,
}

/// Why an invocation gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// Lambda refused to run it for now (`TooManyRequestsException`): the
    /// version never saw it, so it may be sent again.
    #[error("Lambda throttled the invocation")]
    Throttled(#[source] BoxError),
    /// Anything else: the version may have run, or may still be running.
    #[error("the invocation failed")]
    Failed(#[source] BoxError),
}

/// Invokes one version of a function: how the pre-traffic check reaches a
/// version before it takes traffic (CONTRACT §11). An invocation is never
/// cut short and never repeated here; the caller bounds it by its deadline.
pub trait FunctionInvoker: Send + Sync {
    fn invoke(
        &self,
        function: &str,
        payload: Vec<u8>,
    ) -> impl Future<Output = Result<Invoked, InvokeError>> + Send;
}

/// A lifecycle hook's verdict, as CodeDeploy takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookStatus {
    Succeeded,
    Failed,
}

/// Where the pre-traffic check reports its verdict: the deployment goes on
/// only after `Succeeded`.
pub trait DeploymentReporter: Send + Sync {
    fn report(
        &self,
        deployment_id: &str,
        execution_id: &str,
        status: HookStatus,
    ) -> impl Future<Output = Result<(), BoxError>> + Send;
}

/// The adapters the API's use cases run over, named once: production's
/// (`wiring.rs`), the tests' fakes, the bench's. Each but the signing keys
/// (the edge's alone) is a handle whose clones share one client and its
/// connections, so that every route's use case holds its own.
pub trait DisconnectPorts: 'static {
    type SigningKeys: SigningKeySource;
    type Installations: InstallationStore + Clone;
    type Tokens: TokenDecryptor + Clone;
    type Webhooks: WebhookRemover + Clone;
    type Graph: CodeGraph + Clone;
    type Cleanup: CleanupQueue + Clone;
}

/// The adapters of `P`, built once per cold start and handed to
/// `http::Api::new`, which gives each use case those it uses.
pub struct Adapters<P: DisconnectPorts> {
    pub installations: P::Installations,
    pub tokens: P::Tokens,
    pub webhooks: P::Webhooks,
    /// `None` when no graph is configured.
    pub graph: Option<P::Graph>,
    /// `None` when no cleanup queue is configured.
    pub cleanup: Option<P::Cleanup>,
}

/// The adapters the cleanup worker's use case runs over; the queue it
/// hands jobs back to is its handler's.
pub trait CleanupPorts: 'static {
    type Installations: InstallationStore;
    type Tokens: TokenDecryptor;
    type Webhooks: WebhookRemover;
}
