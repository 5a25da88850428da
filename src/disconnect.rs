//! The use case: disconnect one repository for the calling user, as the API
//! page's "What Happens During Disconnection" describes it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::oneshot;

use crate::auth::{AuthError, Caller};
use crate::domain::{
    CleanupJob, Disconnected, GraphCounts, Installation, OAuthToken, RepoName, User, UserId,
    WebhookOutcome, rfc3339,
};
use crate::ports::{
    Adapters, CleanupQueue, CodeGraph, Deactivation, DecryptError, Dependency, DependencyError,
    DisconnectPorts, Disconnection, GraphError, InstallationStore, TokenDecryptor, WebhookRemoval,
    WebhookRemover,
};
use crate::speculative_read::SpeculativeRead;
use crate::timeouts::{
    DeadlineReached, FIRST_CLEANUP_DELAY, QUEUE_SEND_RESERVE, READ_BACK_RESERVE, before,
    removal_cut_short, within,
};

/// Why a disconnect did not happen. Mapped to HTTP in exactly one place,
/// `http::response`.
#[derive(Debug, thiserror::Error)]
pub enum DisconnectError {
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The reason is for the log only.
    #[error("the GitHub OAuth token cannot be decrypted: {0}")]
    SessionExpired(&'static str),
    #[error("no active installation of this repository for this user")]
    InstallationNotFound,
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl From<AuthError> for DisconnectError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Unauthorized(reason) => Self::Unauthorized(reason),
            AuthError::Dependency(e) => Self::Dependency(e),
        }
    }
}

impl From<DecryptError> for DisconnectError {
    fn from(e: DecryptError) -> Self {
        match e {
            DecryptError::Undecryptable(reason) => Self::SessionExpired(reason),
            DecryptError::Dependency(e) => Self::Dependency(e),
        }
    }
}

/// What the caller asked for, as the HTTP layer received it.
pub struct DisconnectRequest<'a> {
    pub owner: &'a str,
    pub repo: &'a str,
    /// When every dependency call must have given up, so the response still
    /// makes it out before the invocation's own deadline.
    pub deadline: Instant,
}

/// The use case over its ports, built once per cold start by `http::Api::new`.
pub struct DisconnectRepository<P: DisconnectPorts> {
    pub adapters: Adapters<P>,
}

impl<P: DisconnectPorts> DisconnectRepository<P> {
    /// Validate the name → authenticate → find the installation → decrypt
    /// the token → remove the webhook ‖ mark the installation inactive →
    /// report, with what the code graph keeps read beside all of it. The
    /// edge has started authenticating `caller`; it is verified here, so
    /// that a malformed name is refused before any dependency is called.
    pub async fn disconnect(
        &self,
        caller: Caller<impl Future<Output = Result<UserId, AuthError>>>,
        request: DisconnectRequest<'_>,
    ) -> Result<Disconnected, DisconnectError> {
        // A name GitHub could never accept has no installation; refuse it
        // before any dependency sees it.
        let repo = RepoName::parse(request.owner, request.repo)
            .map_err(|_| DisconnectError::InstallationNotFound)?;

        let deadline = request.deadline;
        let (user_id, found) = self.authenticated(caller, &repo, deadline).await?;

        // A failed disconnect answers at once: the graph read is dropped.
        let (stored_name, stored_name_received) = oneshot::channel();
        let graph_read = async { Ok(self.kept_graph(&repo, stored_name_received, deadline).await) };
        let (disconnected, graph) = tokio::try_join!(
            self.disconnect_installations(&user_id, &repo, deadline, found, stored_name),
            graph_read,
        )?;
        Ok(Disconnected {
            graph,
            ..disconnected
        })
    }

    /// The caller's verified user id. When verifying waits for Secrets
    /// Manager (a cold start), the user and installation items of the user
    /// the token claims to be are read meanwhile, so the keys' round trip
    /// adds no step; they are returned only for a token that verifies as
    /// that user, and an authentication failure wins over their errors.
    async fn authenticated(
        &self,
        caller: Caller<impl Future<Output = Result<UserId, AuthError>>>,
        repo: &RepoName,
        deadline: Instant,
    ) -> Result<(UserId, Option<Found>), DisconnectError> {
        let Some(claimed) = caller.claimed else {
            return Ok((caller.verified.await?, None));
        };
        let (user_id, found) = tokio::join!(caller.verified, self.find(&claimed, repo, deadline));
        let user_id = user_id?;
        let found = (user_id == claimed).then_some(found);
        Ok((user_id, found))
    }

    /// Everything a disconnect changes: find (unless authentication found
    /// already), decrypt, then remove each webhook while marking its
    /// installation inactive. Sends the repository's stored name as soon as
    /// an installation is found.
    async fn disconnect_installations(
        &self,
        user_id: &UserId,
        repo: &RepoName,
        deadline: Instant,
        found: Option<Found>,
        stored_name: oneshot::Sender<String>,
    ) -> Result<Disconnected, DisconnectError> {
        let (user, installations) = match found {
            Some(found) => found?,
            None => self.find(user_id, repo, deadline).await?,
        };
        let _graph_may_be_off = stored_name.send(installations[0].github_repo(repo).to_string());
        // Decrypt before changing anything: a token that cannot be decrypted
        // leaves every item as it was.
        let token = self
            .webhook_token(user_id, &user, &installations, deadline)
            .await?;

        let disconnected_at = unique_now();
        let mut deactivated = Vec::new();
        for installation in &installations {
            let disconnection = Disconnection {
                user: user_id,
                repo,
                installation,
                at: disconnected_at,
            };
            let (removal, deactivation) = tokio::join!(
                self.remove_webhook(&disconnection, token.as_ref(), deadline),
                self.deactivate(&disconnection, deadline),
            );
            // Only the invocation that deactivated the item queues its job:
            // the loser of a double click finds it inactive and queues none.
            if deactivation? == Deactivation::Deactivated {
                let webhook = match removal {
                    Removal::Settled(webhook) => webhook,
                    Removal::Transient {
                        webhook_id,
                        retry_after,
                    } => {
                        self.schedule_cleanup(&disconnection, webhook_id, retry_after, deadline)
                            .await
                    }
                };
                deactivated.push((installation, webhook));
            }
        }
        self.report(user_id, repo, &deactivated)
            .ok_or(DisconnectError::InstallationNotFound)
    }

    /// The user and their active installations of `repo`, read side by
    /// side; at least one installation.
    async fn find(&self, user_id: &UserId, repo: &RepoName, deadline: Instant) -> Found {
        let (user, installations) = tokio::join!(
            within(
                deadline,
                Dependency::DynamoDb,
                self.adapters.installations.find_user(user_id)
            ),
            within(
                deadline,
                Dependency::DynamoDb,
                self.adapters
                    .installations
                    .find_active_installations(user_id, repo)
            ),
        );
        let user = user?.ok_or(DisconnectError::Unauthorized("unknown user"))?;
        let installations = installations?;
        if installations.is_empty() {
            return Err(DisconnectError::InstallationNotFound);
        }
        Ok((user, installations))
    }

    /// The user's GitHub token, decrypted, when a webhook is to be removed.
    async fn webhook_token(
        &self,
        user_id: &UserId,
        user: &User,
        installations: &[Installation],
        deadline: Instant,
    ) -> Result<Option<OAuthToken>, DisconnectError> {
        if installations.iter().all(|i| i.webhook_id.is_none()) {
            return Ok(None);
        }
        let ciphertext = user
            .github_token
            .as_ref()
            .ok_or(DisconnectError::SessionExpired(
                "the user item has no github_token",
            ))?;
        let decrypt = self.adapters.tokens.decrypt(user_id, ciphertext);
        Ok(Some(within(deadline, Dependency::Kms, decrypt).await?))
    }

    /// The answer for the installations this disconnect made inactive, in
    /// the order found; `None` when another request got to all of them
    /// first. Of several webhook outcomes it reports the first of those the
    /// user most needs to act on.
    fn report(
        &self,
        user_id: &UserId,
        repo: &RepoName,
        deactivated: &[(&Installation, WebhookOutcome)],
    ) -> Option<Disconnected> {
        let (first, _) = deactivated.first()?;
        let (worst, webhook) = deactivated.iter().copied().reduce(|kept, next| {
            if next.1.concern() > kept.1.concern() {
                next
            } else {
                kept
            }
        })?;
        let webhook_settings_url = match (webhook, worst.webhook_id) {
            (WebhookOutcome::Failed, Some(id)) => Some(
                self.adapters
                    .webhooks
                    .settings_url(&worst.github_repo(repo), id),
            ),
            _ => None,
        };
        Some(Disconnected {
            user_id: user_id.clone(),
            repo_full_name: first.repo_full_name.clone(),
            installation_ids: deactivated
                .iter()
                .map(|(installation, _)| installation.installation_id.clone())
                .collect(),
            webhook,
            webhook_settings_url,
            graph: None,
        })
    }

    /// What the code graph keeps, asked beside the rest of the disconnect so
    /// that it adds no step to it, under the repository's stored name
    /// (`SpeculativeRead`). `None` without a graph, when the read fails, and
    /// when no stored name comes because the disconnect failed.
    async fn kept_graph(
        &self,
        requested: &RepoName,
        stored_name: oneshot::Receiver<String>,
        deadline: Instant,
    ) -> Option<GraphCounts> {
        let graph = self.adapters.graph.as_ref()?;
        let (stored, answer) = SpeculativeRead::new(requested.to_string(), stored_name)
            .run(|name| async move {
                before(deadline, graph.kept(&name))
                    .await
                    .unwrap_or_else(|_| Err(GraphError(DeadlineReached.into())))
            })
            .await?;
        answer
            .inspect_err(|e| {
                tracing::warn!(
                    cause = %crate::logging::chain(e),
                    repo = %stored,
                    "the code graph was not read; the response leaves it out"
                );
            })
            .ok()
    }

    /// The conditional update, bounded by the deadline. When it ends without
    /// an answer, it may still have gone through: the item tells, and a 200
    /// must mean inactive just as a failure must mean unchanged.
    async fn deactivate(
        &self,
        disconnection: &Disconnection<'_>,
        deadline: Instant,
    ) -> Result<Deactivation, DependencyError> {
        let update_deadline = deadline.checked_sub(READ_BACK_RESERVE).unwrap_or(deadline);
        let update = self.adapters.installations.deactivate(disconnection);
        let outcome = within(update_deadline, Dependency::DynamoDb, update).await;
        if !outcome.as_ref().is_err_and(DependencyError::is_transient) {
            return outcome;
        }
        let read_back = self.adapters.installations.is_deactivated(disconnection);
        match within(deadline, Dependency::DynamoDb, read_back).await {
            Ok(true) => Ok(Deactivation::Deactivated),
            _ => outcome,
        }
    }

    /// Removes the installation's webhook. A transient failure is left to
    /// the caller, which queues a cleanup job only once the installation is
    /// known to be this disconnect's.
    async fn remove_webhook(
        &self,
        disconnection: &Disconnection<'_>,
        token: Option<&OAuthToken>,
        deadline: Instant,
    ) -> Removal {
        let installation = disconnection.installation;
        let (Some(webhook_id), Some(token)) = (installation.webhook_id, token) else {
            return Removal::Settled(WebhookOutcome::NotConfigured);
        };
        let repo = installation.github_repo(disconnection.repo);
        // A removal the deadline cuts short is queued like any time-out
        // (CONTRACT §6): with a queue, its send's time is kept back.
        let deadline = match self.adapters.cleanup {
            Some(_) => deadline.checked_sub(QUEUE_SEND_RESERVE).unwrap_or(deadline),
            None => deadline,
        };
        let removal = before(
            deadline,
            self.adapters.webhooks.remove(token, &repo, webhook_id),
        )
        .await
        .unwrap_or_else(|_| removal_cut_short(&repo, webhook_id));
        Removal::Settled(match removal {
            WebhookRemoval::Removed => WebhookOutcome::Removed,
            WebhookRemoval::AlreadyGone => WebhookOutcome::AlreadyGone,
            WebhookRemoval::NoAdminAccess | WebhookRemoval::Refused => WebhookOutcome::Failed,
            WebhookRemoval::Transient { retry_after } => {
                return Removal::Transient {
                    webhook_id,
                    retry_after,
                };
            }
        })
    }

    /// GitHub failed transiently: a cleanup job removes the hook later
    /// (CONTRACT §9), no sooner than GitHub asked. Without a queue, or when
    /// queueing fails, the user removes it by hand.
    async fn schedule_cleanup(
        &self,
        disconnection: &Disconnection<'_>,
        webhook_id: u64,
        retry_after: Option<Duration>,
        deadline: Instant,
    ) -> WebhookOutcome {
        let Some(cleanup) = &self.adapters.cleanup else {
            return WebhookOutcome::Failed;
        };
        let installation = disconnection.installation;
        // The worker finds the job's item by the key its `repo` names; a job
        // it would find no item for would only ever be `invalid`.
        if !installation.stored_name_names_its_key() {
            tracing::warn!(
                repo = %installation.github_repo(disconnection.repo),
                webhook_id,
                "the installation's stored repo_full_name does not name its own key, so no cleanup job can find it; the user removes the hook by hand"
            );
            return WebhookOutcome::Failed;
        }
        let job = CleanupJob {
            user_id: disconnection.user.to_string(),
            repo: installation.repo_full_name.clone(),
            installation_id: installation.installation_id.clone(),
            webhook_id,
            disconnected_at: rfc3339(disconnection.at),
        };
        let delay = retry_after
            .unwrap_or(FIRST_CLEANUP_DELAY)
            .max(FIRST_CLEANUP_DELAY);
        match within(deadline, Dependency::Sqs, cleanup.schedule(&job, delay)).await {
            Ok(()) => WebhookOutcome::Scheduled,
            Err(e) => {
                tracing::warn!(
                    cause = %crate::logging::chain(&e),
                    repo = %installation.github_repo(disconnection.repo),
                    webhook_id,
                    "the webhook cleanup could not be queued; the user removes the hook by hand"
                );
                WebhookOutcome::Failed
            }
        }
    }
}

/// The user and their active installations of the repository.
type Found = Result<(User, Vec<Installation>), DisconnectError>;

/// What a webhook removal came to before the installation's deactivation
/// is known.
enum Removal {
    Settled(WebhookOutcome),
    /// GitHub failed transiently: a cleanup job is due if this disconnect
    /// deactivated the installation.
    Transient {
        webhook_id: u64,
        retry_after: Option<Duration>,
    },
}

/// The current time, strictly later than any this process returned before.
/// The store recognises its own earlier write by this timestamp when a
/// retried update finds the item already inactive, so two disconnects must
/// never share one.
fn unique_now() -> SystemTime {
    static LAST_MICROS: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let mut stamp = now;
    let _always_stored = LAST_MICROS.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
        stamp = now.max(last + 1);
        Some(stamp)
    });
    UNIX_EPOCH + Duration::from_micros(stamp)
}
