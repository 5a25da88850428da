//! The use case: disconnect one repository for the calling user, as the API
//! page's "What Happens During Disconnection" describes it.

use std::time::{Instant, SystemTime};

use crate::auth::{AuthError, Authenticator};
use crate::domain::{
    BearerToken, Disconnected, Installation, OAuthToken, RepoName, WebhookOutcome,
};
use crate::ports::{
    Deactivation, DecryptError, DependencyError, InstallationStore, SigningKeySource,
    TokenDecryptor, WebhookRemover,
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
    pub token: Option<&'a BearerToken>,
    pub owner: &'a str,
    pub repo: &'a str,
    /// When the GitHub call must have given up, so the response still makes
    /// it out before the invocation's own deadline.
    pub webhook_deadline: Instant,
}

pub struct DisconnectRepository<S, D, K, W> {
    authenticator: Authenticator<K>,
    installations: S,
    tokens: D,
    webhooks: W,
}

impl<S, D, K, W> DisconnectRepository<S, D, K, W>
where
    S: InstallationStore,
    D: TokenDecryptor,
    K: SigningKeySource,
    W: WebhookRemover,
{
    pub fn new(authenticator: Authenticator<K>, installations: S, tokens: D, webhooks: W) -> Self {
        Self {
            authenticator,
            installations,
            tokens,
            webhooks,
        }
    }

    pub async fn disconnect(
        &self,
        request: DisconnectRequest<'_>,
    ) -> Result<Disconnected, DisconnectError> {
        // A name GitHub could never accept has no installation; refuse it
        // before any dependency sees it.
        let repo = RepoName::parse(request.owner, request.repo)
            .map_err(|_| DisconnectError::InstallationNotFound)?;

        let user_id = self.authenticator.authenticate(request.token).await?;

        let (user, installations) = tokio::join!(
            self.installations.find_user(&user_id),
            self.installations
                .find_active_installations(&user_id, &repo),
        );
        let user = user?.ok_or(DisconnectError::Unauthorized("unknown user"))?;
        let installations = installations?;
        if installations.is_empty() {
            return Err(DisconnectError::InstallationNotFound);
        }

        // Decrypt before changing anything: a token that cannot be decrypted
        // leaves every item as it was.
        let token = if installations.iter().any(|i| i.webhook_id.is_some()) {
            let ciphertext = user
                .github_token
                .as_ref()
                .ok_or(DisconnectError::SessionExpired(
                    "the user item has no github_token",
                ))?;
            Some(self.tokens.decrypt(&user_id, ciphertext).await?)
        } else {
            None
        };

        let disconnected_at = SystemTime::now();
        let mut disconnected: Option<Disconnected> = None;
        for installation in &installations {
            let (webhook, deactivation) = tokio::join!(
                self.remove_webhook(
                    installation,
                    &repo,
                    token.as_ref(),
                    request.webhook_deadline
                ),
                self.installations
                    .deactivate(&user_id, &repo, installation, disconnected_at),
            );
            if deactivation? == Deactivation::NotActive {
                continue;
            }
            tracing::info!(
                user_id = %user_id,
                repo = %installation.repo_full_name,
                installation_id = %installation.installation_id,
                webhook = webhook.as_str(),
                "installation disconnected"
            );
            disconnected = Some(match disconnected {
                None => Disconnected {
                    repo_full_name: installation.repo_full_name.clone(),
                    webhook,
                },
                Some(first) => Disconnected {
                    webhook: first.webhook.max(webhook),
                    ..first
                },
            });
        }
        disconnected.ok_or(DisconnectError::InstallationNotFound)
    }

    async fn remove_webhook(
        &self,
        installation: &Installation,
        requested: &RepoName,
        token: Option<&OAuthToken>,
        deadline: Instant,
    ) -> WebhookOutcome {
        match (installation.webhook_id, token) {
            (Some(webhook_id), Some(token)) => {
                let repo = installation.github_repo(requested);
                self.webhooks
                    .remove(token, &repo, webhook_id, deadline)
                    .await
            }
            _ => WebhookOutcome::NotConfigured,
        }
    }
}
