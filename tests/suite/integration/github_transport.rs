//! GitHub's transport rules (CONTRACT §5), against the GitHub stub behind
//! TLS: redirects of a renamed or transferred repository are followed at
//! most three times and only within the API's origin, keeping the method
//! and the token; rate limits are transient, not answers about the hook.

use std::time::Duration;

use nectr_disconnect::adapters::GitHubWebhooks;
use nectr_disconnect::config::GitHubConfig;
use nectr_disconnect::domain::{OAuthToken, RepoName};
use nectr_disconnect::ports::{WebhookRemoval, WebhookRemover};
use reqwest::Url;
use serde_json::json;
use test_world::secrets;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::acting_user::USER;
use crate::support::test_app::{ItemKey, TestApp, received};
use crate::support::tls;

const HOOK: &str = "/repos/acme/my-backend/hooks/42";
/// Where GitHub sends a request for a repository renamed since.
const MOVED: &str = "/repositories/1296269/hooks/42";
/// The token `TestApp::connect` encrypts for the user.
const CONNECTED_TOKEN: &str = "gho_connectedtoken";

fn redirect(status: u16, location: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header("location", location)
}

async fn answers(server: &MockServer, at: &str, response: ResponseTemplate) {
    Mock::given(method("DELETE"))
        .and(path(at))
        .respond_with(response)
        .mount(server)
        .await;
}

async fn disconnect_reports(app: &TestApp, key: &ItemKey, webhook: &str) {
    let answer = app.disconnect_as(USER, "acme", "my-backend").await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body, app.disconnected_body(webhook));
    app.assert_inactive(key).await;
}

#[tokio::test]
async fn a_renamed_repository_is_followed_to_its_new_location_with_the_same_method_and_token() {
    for status in [301, 307] {
        let app = TestApp::start().await;
        let key = app.connect(USER, Some(42)).await;
        answers(&app.github, HOOK, redirect(status, MOVED)).await;
        Mock::given(method("DELETE"))
            .and(path(MOVED))
            .and(header("authorization", format!("Bearer {CONNECTED_TOKEN}")))
            .and(header("x-github-api-version", "2022-11-28"))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&app.github)
            .await;

        disconnect_reports(&app, &key, "removed").await;

        assert_eq!(
            received(&app.github).await,
            [format!("DELETE {HOOK}"), format!("DELETE {MOVED}")],
            "{status}"
        );
    }
}

#[tokio::test]
async fn an_absolute_redirect_within_the_api_origin_is_followed() {
    let app = TestApp::start().await;
    let key = app.connect(USER, Some(42)).await;
    let location = format!("{}{MOVED}", app.github_url());
    answers(&app.github, HOOK, redirect(301, &location)).await;
    answers(&app.github, MOVED, ResponseTemplate::new(204)).await;

    disconnect_reports(&app, &key, "removed").await;
}

#[tokio::test]
async fn at_most_three_redirects_are_followed() {
    let app = TestApp::start().await;
    let key = app.connect(USER, Some(42)).await;
    let hops = [
        "/r/1/hooks/42",
        "/r/2/hooks/42",
        "/r/3/hooks/42",
        "/r/4/hooks/42",
    ];
    answers(&app.github, HOOK, redirect(301, hops[0])).await;
    for pair in hops.windows(2) {
        answers(&app.github, pair[0], redirect(307, pair[1])).await;
    }
    answers(&app.github, hops[3], ResponseTemplate::new(204)).await;

    disconnect_reports(&app, &key, "failed").await;

    let expected: Vec<String> = [HOOK, hops[0], hops[1], hops[2]]
        .iter()
        .map(|p| format!("DELETE {p}"))
        .collect();
    assert_eq!(received(&app.github).await, expected);
}

#[tokio::test]
async fn a_redirect_off_the_api_origin_is_never_followed() {
    let elsewhere = MockServer::start().await;
    answers(&elsewhere, MOVED, ResponseTemplate::new(204)).await;
    let elsewhere_tls = tls::front(*elsewhere.address()).await;
    let app = TestApp::start().await;
    let github = tls::address(&app.github_url());
    let other_port = elsewhere_tls.addr.port();

    for location in [
        // Another port on the same host.
        format!("https://127.0.0.1:{other_port}{MOVED}"),
        // Another host name for the same server.
        format!("https://localhost:{}{MOVED}", github.port()),
        // The same host and port without TLS.
        format!("http://{github}{MOVED}"),
    ] {
        app.github.reset().await;
        let key = app.connect(USER, Some(42)).await;
        answers(&app.github, HOOK, redirect(301, &location)).await;
        answers(&app.github, MOVED, ResponseTemplate::new(204)).await;

        disconnect_reports(&app, &key, "failed").await;

        assert_eq!(
            received(&app.github).await,
            [format!("DELETE {HOOK}")],
            "{location}"
        );
    }
    assert!(received(&elsewhere).await.is_empty());
    assert_eq!(elsewhere_tls.handshakes(), 0);
}

/// The adapter itself, against the stub: what it makes of GitHub's answer.
async fn removal(answer: ResponseTemplate) -> WebhookRemoval {
    let github = MockServer::start().await;
    let front = tls::front(*github.address()).await;
    answers(&github, HOOK, answer).await;
    let removal = remove_hook_at(&format!("https://{}", front.addr), Duration::from_secs(3)).await;

    assert_eq!(received(&github).await, [format!("DELETE {HOOK}")]);
    removal
}

/// The adapter for the API at `api_url`, bounded by `timeout`, removes
/// acme/my-backend's hook 42 with a token the log check knows.
async fn remove_hook_at(api_url: &str, timeout: Duration) -> WebhookRemoval {
    let api_url = Url::parse(api_url).unwrap();
    let webhooks = GitHubWebhooks::new(&GitHubConfig { api_url, timeout }).unwrap();
    let token = "gho_transporttoken";
    secrets::register(token);
    let repo = RepoName::parse("acme", "my-backend").unwrap();
    webhooks
        .remove(&OAuthToken::new(token.into()), &repo, 42)
        .await
}

fn transient(seconds: Option<u64>) -> WebhookRemoval {
    WebhookRemoval::Transient {
        retry_after: seconds.map(Duration::from_secs),
    }
}

#[tokio::test]
async fn a_429_is_a_rate_limit_and_transient() {
    let answer = ResponseTemplate::new(429).insert_header("retry-after", "30");
    assert_eq!(removal(answer).await, transient(Some(30)));
}

#[tokio::test]
async fn a_403_with_the_primary_rate_limit_exhausted_is_transient_until_its_reset() {
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let answer = ResponseTemplate::new(403)
        .insert_header("x-ratelimit-remaining", "0")
        .insert_header("x-ratelimit-reset", reset.to_string().as_str())
        .set_body_json(json!({"message": "API rate limit exceeded"}));

    let WebhookRemoval::Transient {
        retry_after: Some(wait),
    } = removal(answer).await
    else {
        panic!("a rate limit is transient, with its reset time");
    };
    assert!((590..=600).contains(&wait.as_secs()), "{wait:?}");
}

#[tokio::test]
async fn a_403_with_retry_after_is_the_secondary_rate_limit_and_transient() {
    let answer = ResponseTemplate::new(403)
        .insert_header("retry-after", "60")
        .set_body_json(json!({"message": "You have exceeded a secondary rate limit"}));
    assert_eq!(removal(answer).await, transient(Some(60)));
}

#[tokio::test]
async fn a_403_without_rate_limit_headers_is_a_refusal() {
    let answer = ResponseTemplate::new(403)
        .insert_header("x-ratelimit-remaining", "4999")
        .set_body_json(json!({"message": "Must have admin rights to Repository."}));
    assert_eq!(removal(answer).await, WebhookRemoval::Refused);
}

#[tokio::test]
async fn a_502_is_transient() {
    assert_eq!(removal(ResponseTemplate::new(502)).await, transient(None));
}

/// A server that answers the DELETE 404 and streams the repository check
/// chunk after chunk with no length, for as long as it is read: a
/// misbehaving Enterprise Server. The adapter stops reading past 1 MiB and
/// counts it as a transient failure (CONTRACT §5).
#[tokio::test]
async fn an_endless_repository_answer_is_cut_at_a_mebibyte_and_transient() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let streamed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = streamed.clone();
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut client, _)) = listener.accept().await {
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut head = [0u8; 4096];
                let read = client.read(&mut head).await.unwrap_or(0);
                if head[..read].starts_with(b"DELETE") {
                    let _ = client
                        .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                    return;
                }
                let _ = client
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
                    .await;
                let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
                // At most 64 MiB, so that the test ends whatever the adapter does.
                for _ in 0..1024 {
                    if client.write_all(chunk.as_bytes()).await.is_err() {
                        return;
                    }
                    counted.fetch_add(64 * 1024, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });

    let removal = remove_hook_at(&format!("http://{address}"), Duration::from_secs(10)).await;

    assert_eq!(removal, transient(None));
    let sent = streamed.load(std::sync::atomic::Ordering::Relaxed);
    assert!(sent < 16 * 1024 * 1024, "{sent} bytes were streamed");
    server.abort();
}
