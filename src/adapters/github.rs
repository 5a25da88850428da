//! `WebhookRemover` over the GitHub REST API (CONTRACT §5).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::DateTime;
use reqwest::header::{self, HeaderMap};
use reqwest::{Client, Method, Response, StatusCode, Url, redirect};
use serde::Deserialize;

use crate::config::GitHubConfig;
use crate::domain::{OAuthToken, RepoName};
use crate::metrics::{self, Call};
use crate::ports::{WebhookRemoval, WebhookRemover};
use crate::timeouts::{self, LONGEST_GITHUB_WAIT};

const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));
const API_VERSION: &str = "2022-11-28";
/// How many redirects of a renamed or transferred repository are followed.
const MAX_REDIRECTS: usize = 3;
/// No answer is read past this (CONTRACT §5).
const LONGEST_ANSWER: usize = 1024 * 1024;

#[derive(Clone)]
pub struct GitHubWebhooks {
    client: Client,
    api_url: Url,
    timeout: Duration,
}

/// The two requests of a removal.
#[derive(Clone, Copy)]
enum Ask {
    /// `DELETE /repos/{owner}/{repo}/hooks/{id}`.
    DeleteHook(u64),
    /// `GET /repos/{owner}/{repo}`, which tells a 404's two meanings apart.
    Repository,
}

impl Ask {
    fn call(self) -> Call {
        match self {
            Self::DeleteHook(_) => Call::GitHubDeleteWebhook,
            Self::Repository => Call::GitHubGetRepository,
        }
    }

    fn method(self) -> Method {
        match self {
            Self::DeleteHook(_) => Method::DELETE,
            Self::Repository => Method::GET,
        }
    }

    /// Below `/repos/{owner}/{repo}`.
    fn path(self) -> String {
        match self {
            Self::DeleteHook(id) => format!("/hooks/{id}"),
            Self::Repository => String::new(),
        }
    }

    /// What the removal comes to when the request cannot be made or its
    /// redirect is not followed: the DELETE refused, or no sign that the
    /// caller administers the repository.
    fn not_followed(self) -> WebhookRemoval {
        match self {
            Self::DeleteHook(_) => WebhookRemoval::Refused,
            Self::Repository => WebhookRemoval::NoAdminAccess,
        }
    }
}

/// A request that ended without an answer to classify; why is logged
/// where it ended.
enum Unanswered {
    /// No answer in time, or no connection: worth asking again.
    Transient,
    /// Redirected off the API's origin, or too often: never followed.
    NotFollowed,
}

impl Unanswered {
    /// What it makes of a removal, when a redirect not followed means
    /// `not_followed`.
    fn removal(self, not_followed: WebhookRemoval) -> WebhookRemoval {
        match self {
            Self::Transient => WebhookRemoval::UNANSWERED,
            Self::NotFollowed => not_followed,
        }
    }
}

impl GitHubWebhooks {
    /// The configured timeout bounds each removal, redirects and the
    /// repository check included; the caller's deadline may end it sooner.
    pub fn new(config: &GitHubConfig) -> Result<Self, reqwest::Error> {
        let client = Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(config.timeout)
            // reqwest would follow up to 10 redirects to any origin;
            // `follow_redirects` follows them itself, only within the API's.
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
    fn repo_url(&self, repo: &RepoName, rest: &str) -> Option<Url> {
        let url = format!(
            "{}/repos/{}/{}{rest}",
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

    /// One request with the token and GitHub's headers, bounded by `until`.
    async fn send(
        &self,
        call: Call,
        method: Method,
        url: Url,
        token: &OAuthToken,
        until: Instant,
    ) -> Result<Response, Unanswered> {
        let timeout = until.saturating_duration_since(Instant::now());
        if timeout.is_zero() {
            tracing::warn!(url = %url.path(), "no time left to ask GitHub");
            return Err(Unanswered::Transient);
        }
        let request = self
            .client
            .request(method, url.clone())
            .bearer_auth(token.expose())
            .header(header::ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", API_VERSION)
            .timeout(timeout)
            .send();
        metrics::timed(call, request).await.map_err(|e| {
            let cause = unanswered(&e);
            tracing::warn!(url = %url.path(), cause, "GitHub did not answer");
            Unanswered::Transient
        })
    }

    /// The request, repeated verbatim at the new location of a renamed or
    /// transferred repository (GitHub's docs), at most `MAX_REDIRECTS`
    /// times and only within the API's origin.
    async fn follow_redirects(
        &self,
        call: Call,
        method: Method,
        mut url: Url,
        token: &OAuthToken,
        until: Instant,
    ) -> Result<Response, Unanswered> {
        let mut redirects = 0;
        loop {
            let response = self
                .send(call, method.clone(), url.clone(), token, until)
                .await?;
            if !is_redirect(response.status()) {
                return Ok(response);
            }
            match self.redirect_target(&url, &response) {
                Some(target) if redirects < MAX_REDIRECTS => {
                    redirects += 1;
                    url = target;
                }
                Some(_) => {
                    tracing::warn!(url = %url.path(), redirects, "GitHub redirected too often; not followed");
                    return Err(Unanswered::NotFollowed);
                }
                None => {
                    tracing::warn!(url = %url.path(), status = response.status().as_u16(), "GitHub redirected off the API's origin; not followed");
                    return Err(Unanswered::NotFollowed);
                }
            }
        }
    }

    /// `ask` about `repo`, redirects followed; without an answer to
    /// classify, what the removal comes to.
    async fn ask(
        &self,
        ask: Ask,
        repo: &RepoName,
        token: &OAuthToken,
        until: Instant,
    ) -> Result<Response, WebhookRemoval> {
        let Some(url) = self.repo_url(repo, &ask.path()) else {
            tracing::error!(repo = %repo, path = ask.path(), "the repository's URL is not a URL");
            return Err(ask.not_followed());
        };
        self.follow_redirects(ask.call(), ask.method(), url, token, until)
            .await
            .map_err(|unanswered| unanswered.removal(ask.not_followed()))
    }

    /// GitHub answers 404 both for a hook that is gone and for a token that
    /// may not administer the repository; the repository itself tells which.
    async fn after_not_found(
        &self,
        token: &OAuthToken,
        repo: &RepoName,
        until: Instant,
    ) -> WebhookRemoval {
        let response = match self.ask(Ask::Repository, repo, token, until).await {
            Ok(response) => response,
            Err(removal) => return removal,
        };
        let status = response.status();
        if let Some(transient) = transient(status, response.headers(), SystemTime::now()) {
            return transient;
        }
        if status != StatusCode::OK {
            return WebhookRemoval::NoAdminAccess;
        }
        let scopes = response
            .headers()
            .get("x-oauth-scopes")
            .map(|scopes| scopes.to_str().unwrap_or_default().to_owned());
        // Bounded by the request's timeout, which covers the body, and by
        // its size.
        match read_at_most(response, LONGEST_ANSWER).await {
            Ok(body) if may_delete_hooks(&body, scopes.as_deref()) => WebhookRemoval::AlreadyGone,
            Ok(_) => WebhookRemoval::NoAdminAccess,
            Err(cause) => {
                tracing::warn!(repo = %repo, cause, "GitHub's answer about the repository did not arrive");
                WebhookRemoval::UNANSWERED
            }
        }
    }
}

impl WebhookRemover for GitHubWebhooks {
    async fn remove(&self, token: &OAuthToken, repo: &RepoName, webhook_id: u64) -> WebhookRemoval {
        let until = timeouts::from_now(self.timeout);
        let asked = self.ask(Ask::DeleteHook(webhook_id), repo, token, until);
        let response = match asked.await {
            Ok(response) => response,
            Err(removal) => return removal,
        };
        let status = response.status();
        let removal = match classify(status, response.headers(), SystemTime::now()) {
            Answer::NotFound => self.after_not_found(token, repo, until).await,
            Answer::Final(removal) => removal,
        };
        log_answer(repo, webhook_id, status, &removal);
        removal
    }

    fn settings_url(&self, repo: &RepoName, webhook_id: u64) -> String {
        format!(
            "{}/{}/{}/settings/hooks/{webhook_id}",
            web_origin(&self.api_url),
            repo.owner(),
            repo.name()
        )
    }
}

/// Where GitHub's web pages are for this API (CONTRACT §6): github.com for
/// `api.github.com`; `<tenant>.ghe.com` for GitHub Enterprise Cloud with
/// data residency's `api.<tenant>.ghe.com`; the API's own origin, without
/// its `/api/v3`, for GitHub Enterprise Server.
fn web_origin(api_url: &Url) -> String {
    let host = api_url.host_str().unwrap_or_default();
    if host.eq_ignore_ascii_case("api.github.com") {
        return "https://github.com".to_owned();
    }
    let tenant = host
        .strip_prefix("api.")
        .filter(|rest| rest.to_ascii_lowercase().ends_with(".ghe.com"));
    match tenant {
        Some(web_host) => {
            let mut web = api_url.clone();
            // A host `api.` and a dot shorter is still a valid host.
            let _always_valid = web.set_host(Some(web_host));
            web.origin().ascii_serialization()
        }
        None => api_url.origin().ascii_serialization(),
    }
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    )
}

enum Answer {
    /// The hook is gone, or the token may not see it: ask the repository.
    NotFound,
    Final(WebhookRemoval),
}

/// What GitHub's answer to the DELETE says about the hook (CONTRACT §5).
fn classify(status: StatusCode, headers: &HeaderMap, now: SystemTime) -> Answer {
    if let Some(transient) = transient(status, headers, now) {
        return Answer::Final(transient);
    }
    match status {
        StatusCode::NO_CONTENT => Answer::Final(WebhookRemoval::Removed),
        StatusCode::NOT_FOUND => Answer::NotFound,
        _ => Answer::Final(WebhookRemoval::Refused),
    }
}

/// A rate limit, primary or secondary, or GitHub failing inside: not an
/// answer about the hook or the repository, but worth asking again.
fn transient(status: StatusCode, headers: &HeaderMap, now: SystemTime) -> Option<WebhookRemoval> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let exhausted = header("x-ratelimit-remaining").is_some_and(|v| v.trim() == "0");
    let rate_limited = status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN && (exhausted || header("retry-after").is_some()));
    (rate_limited || status.is_server_error()).then(|| WebhookRemoval::Transient {
        retry_after: retry_after(headers, exhausted, now),
    })
}

/// When GitHub says to try again: `Retry-After` (seconds or an HTTP date),
/// else the reset time of an exhausted rate limit (`X-RateLimit-Reset`,
/// epoch seconds). Whatever the header holds, the wait lies between zero
/// and `LONGEST_GITHUB_WAIT`, rounded up to whole seconds; a value that is
/// no time at all is ignored.
fn retry_after(headers: &HeaderMap, exhausted: bool, now: SystemTime) -> Option<Duration> {
    let value = |name: &str| headers.get(name)?.to_str().ok().map(str::trim);
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64());
    let retry_after = value("retry-after").and_then(|v| {
        seconds(v).or_else(|| Some(DateTime::parse_from_rfc2822(v).ok()?.timestamp() as f64 - now))
    });
    let reset = || {
        let reset = seconds(value("x-ratelimit-reset").filter(|_| exhausted)?)?;
        Some(reset - now)
    };
    let wait = retry_after.or_else(reset)?;
    Some(Duration::from_secs_f64(
        wait.clamp(0.0, LONGEST_GITHUB_WAIT.as_secs_f64()).ceil(),
    ))
}

/// A number of seconds, written as digits with an optional sign and
/// fraction: however large, never an error, and never `inf` or `NaN`.
fn seconds(value: &str) -> Option<f64> {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let numeric = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit());
    numeric.then(|| value.parse().ok()).flatten()
}

/// The body of an answer, when it is no longer than `limit` bytes: a
/// misbehaving server cannot make the function hold more; why not, in the
/// log's words.
async fn read_at_most(mut response: Response, limit: usize) -> Result<Vec<u8>, &'static str> {
    const TOO_LONG: &str = "the answer is longer than 1 MiB";
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(TOO_LONG);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| unanswered(&e))? {
        if body.len() + chunk.len() > limit {
            return Err(TOO_LONG);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Whether the repository, as answered for the token, says the hook may be
/// deleted with it: the user administers it, and the token's scopes, where
/// GitHub reports them (OAuth and classic tokens), include one that may
/// delete hooks. A user's role says nothing of what the token may do.
fn may_delete_hooks(body: &[u8], scopes: Option<&str>) -> bool {
    #[derive(Deserialize)]
    struct Repository {
        permissions: Option<Permissions>,
        private: Option<bool>,
    }
    #[derive(Deserialize)]
    struct Permissions {
        admin: Option<bool>,
    }
    let Ok(repository) = serde_json::from_slice::<Repository>(body) else {
        return false;
    };
    let admin = repository
        .permissions
        .and_then(|permissions| permissions.admin)
        .unwrap_or(false);
    let public = repository.private == Some(false);
    let scope_allows = |scope: &str| {
        matches!(scope, "repo" | "admin:repo_hook") || (scope == "public_repo" && public)
    };
    admin && scopes.is_none_or(|scopes| scopes.split(',').map(str::trim).any(scope_allows))
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
    let status = status.as_u16();
    match removal {
        WebhookRemoval::Refused => {
            tracing::warn!(repo = %repo, webhook_id, status, "GitHub refused to remove the webhook");
        }
        WebhookRemoval::NoAdminAccess => {
            tracing::warn!(repo = %repo, webhook_id, status, "GitHub hides the repository or its hooks from this token: the webhook may still be there, and the user may not remove it");
        }
        WebhookRemoval::Transient { retry_after } => {
            let retry_after_s = retry_after.map(|d| d.as_secs());
            tracing::warn!(repo = %repo, webhook_id, status, retry_after_s, "GitHub could not remove the webhook now; worth retrying");
        }
        WebhookRemoval::Removed | WebhookRemoval::AlreadyGone => {}
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    const NOW: u64 = 1_000;

    fn headers(headers: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn removal(status: u16, with: &[(&'static str, &str)]) -> Option<WebhookRemoval> {
        let now = UNIX_EPOCH + Duration::from_secs(NOW);
        match classify(StatusCode::from_u16(status).unwrap(), &headers(with), now) {
            Answer::NotFound => None,
            Answer::Final(removal) => Some(removal),
        }
    }

    fn transient(seconds: Option<u64>) -> Option<WebhookRemoval> {
        Some(WebhookRemoval::Transient {
            retry_after: seconds.map(Duration::from_secs),
        })
    }

    fn exhausted_until(reset: &str) -> Option<WebhookRemoval> {
        removal(
            403,
            &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", reset)],
        )
    }

    fn web_page(api_url: &str) -> String {
        web_origin(&Url::parse(api_url).unwrap())
    }

    /// A link a browser can open: GitHub's web host, never its API's.
    #[test]
    fn the_settings_page_is_on_githubs_web_host() {
        for (api_url, web) in [
            ("https://api.github.com", "https://github.com"),
            ("https://api.github.com/", "https://github.com"),
            ("https://api.octocorp.ghe.com", "https://octocorp.ghe.com"),
            ("https://API.Octocorp.GHE.com/", "https://octocorp.ghe.com"),
            (
                "https://github.example.com/api/v3",
                "https://github.example.com",
            ),
            (
                "https://github.example.com:8443/api/v3/",
                "https://github.example.com:8443",
            ),
            ("https://api.example.com/api/v3", "https://api.example.com"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ] {
            assert_eq!(web_page(api_url), web, "{api_url}");
        }
    }

    #[test]
    fn removed_is_an_answer_and_not_found_needs_the_repository() {
        assert_eq!(removal(204, &[]), Some(WebhookRemoval::Removed));
        assert_eq!(removal(404, &[]), None);
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
        assert_eq!(exhausted_until("1120"), transient(Some(120)));
        // A reset already past: try again at once.
        assert_eq!(exhausted_until("900"), transient(Some(0)));
        assert_eq!(
            removal(403, &[("x-ratelimit-remaining", "12")]),
            Some(WebhookRemoval::Refused)
        );
        for status in [500, 502, 503, 504] {
            assert_eq!(removal(status, &[]), transient(None), "{status}");
        }
    }

    #[test]
    fn a_retry_after_date_is_a_wait_until_then() {
        // Epoch 1 000 s is Thu, 01 Jan 1970 00:16:40 GMT.
        assert_eq!(
            removal(429, &[("retry-after", "Thu, 01 Jan 1970 00:18:40 GMT")]),
            transient(Some(120))
        );
    }

    #[test]
    fn every_time_from_a_header_saturates_at_its_bounds() {
        let longest = Some(LONGEST_GITHUB_WAIT.as_secs());
        for (reset, wait) in [
            ("18446744073709551615", longest),
            ("184467440737095516150000000000", longest),
            ("-18446744073709551615", Some(0)),
            ("1000.5", Some(1)),
            ("1e999", None),
            ("NaN", None),
            ("soon", None),
        ] {
            assert_eq!(exhausted_until(reset), transient(wait), "{reset}");
        }
        for (retry_after, wait) in [
            ("18446744073709551615", longest),
            ("-1", Some(0)),
            ("2.9", Some(3)),
            ("Fri, 31 Dec 9999 23:59:59 GMT", longest),
            ("Thu, 01 Jan 1970 00:00:00 GMT", Some(0)),
            ("inf", None),
            ("", None),
        ] {
            assert_eq!(
                removal(429, &[("retry-after", retry_after)]),
                transient(wait),
                "{retry_after}"
            );
        }
    }

    #[test]
    fn only_an_admin_permission_says_the_caller_administers_the_repository() {
        for (body, admin) in [
            (r#"{"permissions": {"admin": true, "push": true}}"#, true),
            (r#"{"permissions": {"admin": false, "push": true}}"#, false),
            (r#"{"permissions": {}}"#, false),
            (r#"{"full_name": "acme/web"}"#, false),
            ("not json", false),
        ] {
            assert_eq!(may_delete_hooks(body.as_bytes(), None), admin, "{body}");
        }
    }

    /// GitHub's OAuth scopes (docs: "Scopes for OAuth apps"): `repo` and
    /// `admin:repo_hook` may delete a hook, `public_repo` only a public
    /// repository's; `write:repo_hook` and `read:repo_hook` may not.
    #[test]
    fn where_github_reports_scopes_one_must_delete_hooks() {
        let private = br#"{"private": true, "permissions": {"admin": true}}"#;
        let public = br#"{"private": false, "permissions": {"admin": true}}"#;
        for (body, scopes, may) in [
            (&private[..], "repo", true),
            (&private[..], "read:org, repo", true),
            (&private[..], "admin:repo_hook", true),
            (&private[..], "public_repo", false),
            (&public[..], "public_repo, read:user", true),
            (&private[..], "write:repo_hook, read:repo_hook", false),
            (&public[..], "read:org", false),
            (&private[..], "", false),
        ] {
            assert_eq!(may_delete_hooks(body, Some(scopes)), may, "{scopes:?}");
        }
        let not_admin = br#"{"private": false, "permissions": {"admin": false}}"#;
        assert!(!may_delete_hooks(not_admin, Some("repo")));
    }
}
