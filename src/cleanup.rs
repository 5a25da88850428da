//! The cleanup worker's use case (CONTRACT §9): finish removing a webhook a
//! disconnect had to leave behind, with the disconnect's own ports. It never
//! changes an item: the installation keeps what the disconnect wrote.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::time::{Duration, Instant};

use crate::domain::{CleanupJob, OAuthToken, RepoName, UserId};
use crate::ports::{
    CleanupPorts, DecryptError, Dependency, DependencyError, InstallationStore, Misconfiguration,
    TokenDecryptor, WebhookRemoval, WebhookRemover,
};
use crate::timeouts::{FIRST_RETRY, LONGEST_RETRY, before, removal_cut_short, within};

/// What became of one job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CleanupOutcome {
    Removed,
    AlreadyGone,
    /// An active installation of the same user, under any repository
    /// name, carries the hook again: it is not this job's to remove.
    InUse,
    /// It can never be removed by this worker (GitHub refused, the user or
    /// their token is gone); the reason is for the log.
    LeftBehind(&'static str),
    /// Not a job a disconnect wrote: forged, or about another hook or
    /// another disconnect than its installation's. Dropped; GitHub is never
    /// called. The reason is for the log.
    Invalid(&'static str),
    /// Worth another attempt, not before `after` when GitHub said when.
    Retry {
        after: Option<Duration>,
    },
}

/// What became of one message, as its log line and its `WebhookCleanup`
/// metric name it (CONTRACT §9): a cleanup's outcome, or a job of a
/// version this worker cannot read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageOutcome {
    Removed,
    AlreadyGone,
    InUse,
    LeftBehind,
    Invalid,
    Retry,
    UnknownVersion,
}

impl MessageOutcome {
    pub const ALL: [Self; 7] = [
        Self::Removed,
        Self::AlreadyGone,
        Self::InUse,
        Self::LeftBehind,
        Self::Invalid,
        Self::Retry,
        Self::UnknownVersion,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Removed => "removed",
            Self::AlreadyGone => "already_gone",
            Self::InUse => "in_use",
            Self::LeftBehind => "left_behind",
            Self::Invalid => "invalid",
            Self::Retry => "retry",
            Self::UnknownVersion => "unknown_version",
        }
    }
}

impl From<CleanupOutcome> for MessageOutcome {
    fn from(outcome: CleanupOutcome) -> Self {
        match outcome {
            CleanupOutcome::Removed => Self::Removed,
            CleanupOutcome::AlreadyGone => Self::AlreadyGone,
            CleanupOutcome::InUse => Self::InUse,
            CleanupOutcome::LeftBehind(_) => Self::LeftBehind,
            CleanupOutcome::Invalid(_) => Self::Invalid,
            CleanupOutcome::Retry { .. } => Self::Retry,
        }
    }
}

impl CleanupOutcome {
    /// The `outcome` of the log line and of the `WebhookCleanup` metric.
    pub fn as_str(self) -> &'static str {
        MessageOutcome::from(self).as_str()
    }

    /// Why, for `left_behind` and `invalid`.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            Self::LeftBehind(reason) | Self::Invalid(reason) => Some(reason),
            Self::Removed | Self::AlreadyGone | Self::InUse | Self::Retry { .. } => None,
        }
    }
}

/// A step of a job: `Err` ends the job early, with that outcome.
type Step<T> = Result<T, CleanupOutcome>;

/// The worker's use case over three of the disconnect's ports.
pub struct WebhookCleanup<P: CleanupPorts> {
    pub installations: P::Installations,
    pub tokens: P::Tokens,
    pub webhooks: P::Webhooks,
    /// The longest one job may take: GitHub's timeout and the AWS calls
    /// around it. A batch takes no job with less time left.
    pub time_per_job: Duration,
}

impl<P: CleanupPorts> WebhookCleanup<P> {
    /// Only a job its own installation vouches for is done (CONTRACT §9
    /// step 0). In use again? Then done. Otherwise a fresh token (the user
    /// item read consistently, decrypted as CONTRACT §4 says), in use
    /// checked once more, and the removal by CONTRACT §5's rules.
    pub async fn clean(&self, job: &CleanupJob, deadline: Instant) -> CleanupOutcome {
        self.steps(job, deadline)
            .await
            .unwrap_or_else(|ended_early| ended_early)
    }

    async fn steps(&self, job: &CleanupJob, deadline: Instant) -> Step<CleanupOutcome> {
        let repo = RepoName::parse_full_name(&job.repo)
            .map_err(|_| CleanupOutcome::Invalid("the job's repository is not a GitHub name"))?;
        let user = UserId::new(job.user_id.clone());
        self.vouched_for(job, &user, &repo, deadline).await?;
        self.not_in_use(&user, job.webhook_id, deadline).await?;
        let token = self.token(&user, deadline).await?;
        // A reconnect may have landed while the token was fetched.
        self.not_in_use(&user, job.webhook_id, deadline).await?;
        let removal = before(
            deadline,
            self.webhooks.remove(&token, &repo, job.webhook_id),
        )
        .await
        .unwrap_or_else(|_| removal_cut_short(&repo, job.webhook_id));
        Ok(outcome_of(removal))
    }

    /// The job's own installation, read consistently, exists, is inactive,
    /// and carries the job's hook and the job's disconnect.
    async fn vouched_for(
        &self,
        job: &CleanupJob,
        user: &UserId,
        repo: &RepoName,
        deadline: Instant,
    ) -> Step<()> {
        let read = self
            .installations
            .find_installation(user, repo, &job.installation_id);
        let record = match within(deadline, Dependency::DynamoDb, read).await {
            Ok(record) => record,
            Err(e) => return Err(retry_after_failure(&e)),
        };
        let refusal = match record {
            None => "the job's installation does not exist",
            Some(record) if record.is_active => "the job's installation is active",
            Some(record) if record.installation.webhook_id != Some(job.webhook_id) => {
                "the job's installation carries another webhook"
            }
            Some(record) if record.disconnected_at.as_deref() != Some(&job.disconnected_at) => {
                "the job's installation was disconnected at another time"
            }
            Some(_) => return Ok(()),
        };
        Err(CleanupOutcome::Invalid(refusal))
    }

    /// No active installation of the user carries the hook, under any
    /// repository name.
    async fn not_in_use(&self, user: &UserId, webhook_id: u64, deadline: Instant) -> Step<()> {
        let in_use = within(
            deadline,
            Dependency::DynamoDb,
            self.installations.webhook_in_use(user, webhook_id),
        )
        .await
        .map_err(|e| retry_after_failure(&e))?;
        if in_use {
            return Err(CleanupOutcome::InUse);
        }
        Ok(())
    }

    /// The user's OAuth token, from their item read consistently.
    async fn token(&self, user: &UserId, deadline: Instant) -> Step<OAuthToken> {
        let found = within(
            deadline,
            Dependency::DynamoDb,
            self.installations.find_user(user),
        )
        .await;
        let ciphertext = match found {
            Ok(Some(user)) => user
                .github_token
                .ok_or(CleanupOutcome::LeftBehind("the user has no GitHub token"))?,
            Ok(None) => return Err(CleanupOutcome::LeftBehind("the user is gone")),
            Err(e) => return Err(retry_after_failure(&e)),
        };
        let decrypt = self.tokens.decrypt(user, &ciphertext);
        match within(deadline, Dependency::Kms, decrypt).await {
            Ok(token) => Ok(token),
            Err(DecryptError::Undecryptable(_)) => Err(CleanupOutcome::LeftBehind(
                "the GitHub token cannot be decrypted",
            )),
            Err(DecryptError::Dependency(e)) => Err(retry_after_failure(&e)),
        }
    }
}

/// What GitHub's answer about the hook makes of the job.
fn outcome_of(removal: WebhookRemoval) -> CleanupOutcome {
    match removal {
        WebhookRemoval::Removed => CleanupOutcome::Removed,
        WebhookRemoval::AlreadyGone => CleanupOutcome::AlreadyGone,
        WebhookRemoval::NoAdminAccess => CleanupOutcome::LeftBehind("no_admin_access"),
        WebhookRemoval::Refused => CleanupOutcome::LeftBehind("GitHub refused"),
        WebhookRemoval::Transient { retry_after } => CleanupOutcome::Retry { after: retry_after },
    }
}

/// An AWS failure is never the job's fault: it waits for another attempt,
/// and a deployment mistake, logged at ERROR, ends in the dead-letter queue
/// unless an operator fixes it first.
fn retry_after_failure(error: &DependencyError) -> CleanupOutcome {
    let cause = crate::logging::chain(error);
    match error {
        DependencyError::Misconfigured {
            dependency,
            code,
            resource,
            ..
        } => Misconfiguration {
            dependency: *dependency,
            code,
            resource,
        }
        .log(
            None,
            Some(&cause.to_string()),
            "the deployment is misconfigured",
        ),
        DependencyError::Failed { .. } => {
            tracing::error!(cause = %cause, "a dependency answered unusably; the job is retried");
        }
        DependencyError::Unavailable { .. } => {
            tracing::warn!(cause = %cause, "a dependency is unavailable; the job is retried");
        }
    }
    CleanupOutcome::Retry { after: None }
}

/// How long a job that failed its `attempt`-th time (1 for the first)
/// waits: exponential from [`FIRST_RETRY`], capped at [`LONGEST_RETRY`],
/// with "equal jitter" (half fixed, half random) so that jobs failed by
/// one GitHub outage do not all come back at once; never before GitHub's
/// own `retry_after`. `jitter` is uniform in [0, 1).
pub fn backoff(attempt: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
    let exponential = FIRST_RETRY
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(LONGEST_RETRY);
    let jittered = exponential / 2 + exponential.mul_f64(jitter.clamp(0.0, 1.0) / 2.0);
    jittered.max(retry_after.unwrap_or_default())
}

/// A fraction in [0, 1), different for every call: the process's random
/// hasher keys over `seed`.
pub fn jitter(seed: &str) -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write(seed.as_bytes());
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_a_minute_to_an_hour() {
        let waits: Vec<u64> = (1..=9).map(|n| backoff(n, None, 1.0).as_secs()).collect();
        assert_eq!(waits, [60, 120, 240, 480, 960, 1_920, 3_600, 3_600, 3_600]);
    }

    #[test]
    fn jitter_takes_off_at_most_half() {
        assert_eq!(backoff(3, None, 0.0), Duration::from_secs(120));
        assert_eq!(backoff(3, None, 0.5), Duration::from_secs(180));
    }

    #[test]
    fn githubs_retry_time_is_honoured() {
        let reset = Some(Duration::from_secs(2_000));
        assert_eq!(backoff(1, reset, 0.3), Duration::from_secs(2_000));
        assert_eq!(
            backoff(9, Some(Duration::from_secs(1)), 0.0),
            Duration::from_secs(1_800)
        );
    }

    #[test]
    fn eight_attempts_span_more_than_an_hour_even_with_the_least_jitter() {
        // Seven waits separate eight attempts.
        let least: Duration = (1..=7).map(|n| backoff(n, None, 0.0)).sum();
        assert!(least > Duration::from_secs(3_600), "{least:?}");
    }

    #[test]
    fn jitter_is_a_fraction() {
        for n in 0..100 {
            let j = jitter(&format!("message-{n}"));
            assert!((0.0..1.0).contains(&j), "{j}");
        }
    }
}
