//! `WebhookRemover` over the GitHub REST API (CONTRACT §5).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::{self, HeaderMap};
use reqwest::{Client, Response, StatusCode, Url, redirect};

use crate::config::GitHubConfig;
use crate::domain::{OAuthToken, RepoName};
use crate::metrics::{self, Call};
use crate::ports::{WebhookRemoval, WebhookRemover};

const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));
const API_VERSION: &str = "2022-11-28";
/// How many redirects of a renamed or transferred repository are followed.
const MAX_REDIRECTS: usize = 3;

#[derive(Clone)]
pub struct GitHubWebhooks {
    client: Client,
    api_url: Url,
    timeout: Duration,
}

impl GitHubWebhooks {
    /// The configured timeout bounds each removal, redirects included, on
    /// top of the deadline the caller passes.
    pub fn new(config: &GitHubConfig) -> Result<Self, reqwest::Error> {
        let client = Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(config.timeout)
            // reqwest would follow up to 10 redirects to any origin; `remove`
            // follows them itself, only within the API's.
            .redirect(redirect::Policy::none())
            .build()?;
        Ok(Self {
            client,
            api_url: config.api_url.clone(),
            timeout: config.timeout,
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
    fn hook_url(&self, repo: &RepoName, webhook_id: u64) -> Option<Url> {
        let url = format!(
            "{}/repos/{}/{}/hooks/{webhook_id}",
            self.api_url.as_str().trim_end_matches('/'),
            repo.owner(),
            repo.name()
        );
        Url::parse(&url).ok()
    }

    /// Where a redirect points, when that is within the API's origin: the
    /// token must never leave it.
    fn redirect_target(&self, from: &Url, response: &Response) -> Option<Url> {
        let location = response.headers().get(header::LOCATION)?.to_str().ok()?;
        let target = from.join(location).ok()?;
        let same_origin = target.scheme() == self.api_url.scheme()
            && target.host() == self.api_url.host()
            && target.port_or_known_default() == self.api_url.port_or_known_default();
        same_origin.then_some(target)
    }

    async fn delete(
        &self,
        url: Url,
        token: &OAuthToken,
        timeout: Duration,
    ) -> reqwest::Result<Response> {
        let request = self
            .client
            .delete(url)
            .bearer_auth(token.expose())
            .header(header::ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", API_VERSION)
            .timeout(timeout)
            .send();
        metrics::timed(Call::GitHubDeleteWebhook, request).await
    }
}

impl WebhookRemover for GitHubWebhooks {
    async fn remove(
        &self,
        token: &OAuthToken,
        repo: &RepoName,
        webhook_id: u64,
        deadline: Instant,
    ) -> WebhookRemoval {
        let until = deadline.min(Instant::now() + self.timeout);
        let Some(mut url) = self.hook_url(repo, webhook_id) else {
            tracing::error!(repo = %repo, webhook_id, "the webhook's URL is not a URL");
            return WebhookRemoval::Refused;
        };
        let mut redirects = 0;
        loop {
            let timeout = until.saturating_duration_since(Instant::now());
            if timeout.is_zero() {
                tracing::warn!(repo = %repo, webhook_id, "no time left to remove the webhook");
                return WebhookRemoval::Transient { retry_after: None };
            }
            let response = match self.delete(url.clone(), token, timeout).await {
                Ok(response) => response,
                Err(e) => {
                    let cause = unanswered(&e);
                    tracing::warn!(repo = %repo, webhook_id, cause, "GitHub did not answer the webhook removal");
                    return WebhookRemoval::Transient { retry_after: None };
                }
            };
            let status = response.status();
            let removal = match classify(status, response.headers(), SystemTime::now()) {
                Answer::Redirect => match self.redirect_target(&url, &response) {
                    Some(target) if redirects < MAX_REDIRECTS => {
                        redirects += 1;
                        url = target;
                        continue;
                    }
                    Some(_) => {
                        tracing::warn!(repo = %repo, webhook_id, redirects, "GitHub redirected the webhook removal too often; not followed");
                        WebhookRemoval::Refused
                    }
                    None => {
                        tracing::warn!(repo = %repo, webhook_id, status = status.as_u16(), "GitHub redirected the webhook removal off the API's origin; not followed");
                        WebhookRemoval::Refused
                    }
                },
                Answer::Final(removal) => removal,
            };
            log_answer(repo, webhook_id, status, &removal);
            return removal;
        }
    }

    /// github.com's page for the hook, or a GitHub Enterprise Server's: the
    /// API's origin without its `/api/v3`.
    fn settings_url(&self, repo: &RepoName, webhook_id: u64) -> String {
        let web = match self.api_url.host_str() {
            Some("api.github.com") => "https://github.com".to_owned(),
            _ => self.api_url.origin().ascii_serialization(),
        };
        format!(
            "{web}/{}/{}/settings/hooks/{webhook_id}",
            repo.owner(),
            repo.name()
        )
    }
}

enum Answer {
    Redirect,
    Final(WebhookRemoval),
}

/// What an answer of GitHub's says about the hook (CONTRACT §5).
fn classify(status: StatusCode, headers: &HeaderMap, now: SystemTime) -> Answer {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let exhausted = header("x-ratelimit-remaining").is_some_and(|v| v.trim() == "0");
    let transient = || {
        Answer::Final(WebhookRemoval::Transient {
            retry_after: retry_after(headers, exhausted, now),
        })
    };
    match status {
        StatusCode::NO_CONTENT => Answer::Final(WebhookRemoval::Removed),
        StatusCode::NOT_FOUND => Answer::Final(WebhookRemoval::AlreadyGone),
        // GitHub's docs: repeat the request verbatim at the new location.
        StatusCode::MOVED_PERMANENTLY
        | StatusCode::FOUND
        | StatusCode::TEMPORARY_REDIRECT
        | StatusCode::PERMANENT_REDIRECT => Answer::Redirect,
        StatusCode::TOO_MANY_REQUESTS => transient(),
        // A rate limit, primary or secondary, not an answer about the hook.
        StatusCode::FORBIDDEN if exhausted || header("retry-after").is_some() => transient(),
        status if status.is_server_error() => transient(),
        _ => Answer::Final(WebhookRemoval::Refused),
    }
}

/// When GitHub says to try again: `Retry-After` in seconds, else the reset
/// time of an exhausted rate limit (`X-RateLimit-Reset`, epoch seconds).
fn retry_after(headers: &HeaderMap, exhausted: bool, now: SystemTime) -> Option<Duration> {
    let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
    if let Some(seconds) = number("retry-after") {
        return Some(Duration::from_secs(seconds));
    }
    let reset =
        UNIX_EPOCH + Duration::from_secs(number("x-ratelimit-reset").filter(|_| exhausted)?);
    Some(reset.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Why GitHub gave no answer, in the log's words.
fn unanswered(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    }
}

/// A removal GitHub did not carry out is worth a line; one it did is not.
fn log_answer(repo: &RepoName, webhook_id: u64, status: StatusCode, removal: &WebhookRemoval) {
    match removal {
        WebhookRemoval::Refused => {
            tracing::warn!(repo = %repo, webhook_id, status = status.as_u16(), "GitHub refused to remove the webhook");
        }
        WebhookRemoval::Transient { retry_after } => {
            let retry_after_s = retry_after.map(|d| d.as_secs());
            tracing::warn!(repo = %repo, webhook_id, status = status.as_u16(), retry_after_s, "GitHub could not remove the webhook now; worth retrying");
        }
        WebhookRemoval::Removed | WebhookRemoval::AlreadyGone => {}
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn removal(status: u16, headers: &[(&'static str, &str)]) -> Option<WebhookRemoval> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        match classify(StatusCode::from_u16(status).unwrap(), &map, now) {
            Answer::Redirect => None,
            Answer::Final(removal) => Some(removal),
        }
    }

    fn transient(seconds: Option<u64>) -> Option<WebhookRemoval> {
        Some(WebhookRemoval::Transient {
            retry_after: seconds.map(Duration::from_secs),
        })
    }

    #[test]
    fn gone_and_removed_are_answers_about_the_hook() {
        assert_eq!(removal(204, &[]), Some(WebhookRemoval::Removed));
        assert_eq!(removal(404, &[]), Some(WebhookRemoval::AlreadyGone));
    }

    #[test]
    fn refusals_are_for_good() {
        for status in [400, 401, 403, 410, 422, 304] {
            assert_eq!(
                removal(status, &[]),
                Some(WebhookRemoval::Refused),
                "{status}"
            );
        }
    }

    #[test]
    fn rate_limits_and_server_errors_are_transient_with_githubs_retry_time() {
        assert_eq!(removal(429, &[]), transient(None));
        assert_eq!(removal(429, &[("retry-after", "30")]), transient(Some(30)));
        assert_eq!(removal(403, &[("retry-after", "60")]), transient(Some(60)));
        assert_eq!(
            removal(
                403,
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1120")
                ]
            ),
            transient(Some(120))
        );
        // A reset already past: try again at once.
        assert_eq!(
            removal(
                403,
                &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "900")]
            ),
            transient(Some(0))
        );
        assert_eq!(
            removal(403, &[("x-ratelimit-remaining", "12")]),
            Some(WebhookRemoval::Refused)
        );
        for status in [500, 502, 503, 504] {
            assert_eq!(removal(status, &[]), transient(None), "{status}");
        }
    }

    #[test]
    fn the_redirects_of_a_renamed_repository_are_followed() {
        for status in [301, 302, 307, 308] {
            assert_eq!(removal(status, &[]), None, "{status}");
        }
    }
}
