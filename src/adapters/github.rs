//! `WebhookRemover` over the GitHub REST API (CONTRACT §5).

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode, Url, header};

use crate::domain::{OAuthToken, RepoName, WebhookOutcome};
use crate::metrics::{self, Call};
use crate::ports::WebhookRemover;

const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));
const API_VERSION: &str = "2022-11-28";

#[derive(Clone)]
pub struct GitHubWebhooks {
    client: Client,
    api_url: Url,
    timeout: Duration,
}

impl GitHubWebhooks {
    /// `timeout` bounds each call, on top of the deadline the caller passes.
    pub fn new(api_url: Url, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(timeout)
            .build()?;
        Ok(Self {
            client,
            api_url,
            timeout,
        })
    }

    /// Leaves a connection to the GitHub API open in the client's pool. A
    /// HEAD of the API root carries no token and changes nothing; any answer
    /// will do.
    pub async fn open_connection(&self) -> Result<(), reqwest::Error> {
        self.client
            .head(self.api_url.clone())
            .timeout(self.timeout)
            .send()
            .await
            .map(drop)
    }

    /// A `RepoName` holds only URL-safe characters, so it needs no escaping.
    fn hook_url(&self, repo: &RepoName, webhook_id: u64) -> String {
        format!(
            "{}/repos/{}/{}/hooks/{webhook_id}",
            self.api_url.as_str().trim_end_matches('/'),
            repo.owner(),
            repo.name()
        )
    }
}

impl WebhookRemover for GitHubWebhooks {
    async fn remove(
        &self,
        token: &OAuthToken,
        repo: &RepoName,
        webhook_id: u64,
        deadline: Instant,
    ) -> WebhookOutcome {
        let timeout = self
            .timeout
            .min(deadline.saturating_duration_since(Instant::now()));
        if timeout.is_zero() {
            tracing::warn!(repo = %repo, webhook_id, "no time left to remove the webhook");
            return WebhookOutcome::Failed;
        }
        let response = metrics::timed(
            Call::GitHubDeleteWebhook,
            self.client
                .delete(self.hook_url(repo, webhook_id))
                .bearer_auth(token.expose())
                .header(header::ACCEPT, "application/vnd.github+json")
                .header("X-GitHub-Api-Version", API_VERSION)
                .timeout(timeout)
                .send(),
        )
        .await;
        match response.map(|r| r.status()) {
            Ok(StatusCode::NO_CONTENT) => WebhookOutcome::Removed,
            Ok(StatusCode::NOT_FOUND) => WebhookOutcome::AlreadyGone,
            Ok(status) => {
                tracing::warn!(repo = %repo, webhook_id, status = status.as_u16(), "GitHub refused to remove the webhook");
                WebhookOutcome::Failed
            }
            Err(e) => {
                let cause = if e.is_timeout() {
                    "timed out"
                } else if e.is_connect() {
                    "could not connect"
                } else {
                    "request failed"
                };
                tracing::warn!(repo = %repo, webhook_id, cause, "GitHub did not answer the webhook removal");
                WebhookOutcome::Failed
            }
        }
    }
}
