//! The vocabulary of a disconnect: plain types, no I/O.

mod cleanup_job;
mod installation;
mod kept_graph;
mod repo_name;
mod secrets;

pub use cleanup_job::{CLEANUP_JOB_VERSION, CleanupJob, JobError, Mistake, rfc3339};
pub use installation::{
    Disconnected, INSTALLATION_SK_PREFIX, Installation, InstallationRecord, User, UserId,
    WebhookOutcome, installation_sk, installation_sk_prefix,
};
pub use kept_graph::GraphCounts;
pub use repo_name::{InvalidRepoName, RepoName};
pub use secrets::{BearerToken, Ciphertext, Credentials, OAuthToken, SigningKey, SigningKeys};
