//! The signing-key cache through a Secrets Manager outage (CONTRACT §2), with
//! moto behind the fault proxy: the last keys fetched keep serving past
//! their TTL, a failing refresh is tried at most once per 30 s whatever the
//! traffic, and a key rotated meanwhile is picked up once the service is
//! back. The TTL is one second here, so that it passes within a test.

use std::time::Duration;

use nectr_disconnect::config;
use nectr_disconnect::wiring::{AwsClients, Production};
use test_world::fault_proxy::{Fault, FaultProxy};
use test_world::jwt::{FIXTURE_KEY, claims, hs256};

use crate::support::acting_user::USER;
use crate::support::events::{Answer, http_api_event};
use crate::support::handler::handle;
use crate::support::logs::{capture, log_lines};
use crate::support::test_app::{ItemKey, TestApp, delete_as, sdk_config};

const PAST_THE_TTL: Duration = Duration::from_millis(1_100);

/// One execution environment: a use case whose Secrets Manager calls go
/// through `proxy`, its signing keys fetched as the init warm-up does.
struct Environment {
    app: TestApp,
    key: ItemKey,
    proxy: FaultProxy,
    use_case: Production,
}

async fn warmed_up() -> Environment {
    let (mut app, key) = TestApp::connected().await;
    app.env.insert(config::JWT_KEY_TTL_SECONDS, "1".into());
    let proxy = app.aws_proxy().await;
    let aws = AwsClients {
        secrets_manager: aws_sdk_secretsmanager::Client::new(&sdk_config(&proxy.endpoint).await),
        ..app.aws.clone()
    };
    let use_case = app.use_case_with(&aws);
    use_case.prefetch_signing_keys().await.unwrap();
    Environment {
        app,
        key,
        proxy,
        use_case,
    }
}

/// Warmed up, then Secrets Manager fails and the keys outlive their TTL:
/// the next request tries a refresh.
async fn in_an_outage_past_the_ttl() -> Environment {
    let env = warmed_up().await;
    env.outage();
    tokio::time::sleep(PAST_THE_TTL).await;
    env
}

impl Environment {
    fn outage(&self) {
        self.proxy
            .inject(Some("GetSecretValue"), Fault::ServerError);
    }

    fn secret_fetches(&self) -> usize {
        let calls = self.proxy.calls();
        calls
            .iter()
            .filter(|c| c.operation == "GetSecretValue")
            .count()
    }

    async fn send_token(&self, token: &str, repo: &str) -> Answer {
        let request = http_api_event(
            "DELETE",
            &format!("/api/v1/repos/acme/{repo}/install"),
            &[("authorization", &format!("Bearer {token}"))],
        );
        Answer::from(handle(&self.use_case, request).await)
    }
}

#[tokio::test]
async fn an_outage_after_the_warm_up_still_disconnects() {
    let env = in_an_outage_past_the_ttl().await;
    let before = env.secret_fetches();

    let answer = Answer::from(handle(&env.use_case, delete_as(USER, "acme", "my-backend")).await);

    assert_eq!(answer.status, 200, "{}", answer.body);
    env.app.assert_inactive(&env.key).await;
    assert!(env.secret_fetches() > before, "a refresh was tried");
}

#[tokio::test]
async fn an_outage_and_a_flood_of_garbage_tokens_cost_one_refresh() {
    let env = in_an_outage_past_the_ttl().await;
    let before = env.secret_fetches();

    for n in 0..50 {
        let forged = hs256(b"attacker-key", &claims(&format!("user-{n}")));
        assert_eq!(env.send_token(&forged, "my-backend").await.status, 401);
    }
    let valid = hs256(FIXTURE_KEY, &claims(USER));
    assert_eq!(env.send_token(&valid, "my-backend").await.status, 200);

    // One refresh: AWSCURRENT and AWSPREVIOUS side by side, each tried at
    // most three times by the SDK's standard retry mode.
    let refresh = env.secret_fetches() - before;
    assert!((2..=6).contains(&refresh), "{refresh} GetSecretValue calls");
}

#[tokio::test]
async fn a_key_rotated_during_an_outage_is_picked_up_once_secrets_manager_is_back() {
    let env = warmed_up().await;
    env.outage();
    env.app
        .rotate_signing_key("nectr-rotated-signing-key")
        .await;
    let rotated = hs256(b"nectr-rotated-signing-key", &claims(USER));
    tokio::time::sleep(PAST_THE_TTL).await;

    assert_eq!(env.send_token(&rotated, "my-backend").await.status, 401);
    env.proxy.clear();
    assert_eq!(
        env.send_token(&rotated, "my-backend").await.status,
        401,
        "within 30 s of the failed refresh, no new attempt"
    );
    // A bound of the contract (one attempt per 30 s), not a timing claim.
    tokio::time::sleep(Duration::from_secs(30)).await;

    let answer = env.send_token(&rotated, "my-backend").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

/// After a rotation, Secrets Manager throttles every `AWSPREVIOUS` read of
/// a cold start: the current key alone verifies (a WARN says so), and the
/// previous key is read again with the next refresh (CONTRACT §2).
#[tokio::test]
async fn a_throttled_previous_key_read_leaves_the_current_key_verifying() {
    let (mut app, key) = TestApp::connected().await;
    app.env.insert(config::JWT_KEY_TTL_SECONDS, "1".into());
    app.rotate_signing_key("nectr-rotated-signing-key").await;
    let proxy = app.aws_proxy().await;
    proxy.inject_when("GetSecretValue", "AWSPREVIOUS", Fault::Throttled);
    let aws = AwsClients {
        secrets_manager: aws_sdk_secretsmanager::Client::new(&sdk_config(&proxy.endpoint).await),
        ..app.aws.clone()
    };
    let (logs, _guard) = capture();
    let use_case = app.use_case_with(&aws);
    let env = Environment {
        app,
        key,
        proxy,
        use_case,
    };
    let current = hs256(b"nectr-rotated-signing-key", &claims(USER));
    let previous = hs256(FIXTURE_KEY, &claims(USER));

    env.use_case.prefetch_signing_keys().await.unwrap();
    // 404: authenticated, and no installation of that repository.
    assert_eq!(env.send_token(&current, "not-connected").await.status, 404);
    assert_eq!(env.send_token(&previous, "not-connected").await.status, 401);
    let warning = log_lines(&logs.text())
        .into_iter()
        .find(|line| {
            line["message"]
                .as_str()
                .is_some_and(|m| m.contains("AWSPREVIOUS"))
        })
        .expect("a line about the previous key");
    assert_eq!(warning["level"], "WARN");

    env.proxy.clear();
    tokio::time::sleep(PAST_THE_TTL).await;
    assert_eq!(env.send_token(&previous, "not-connected").await.status, 404);
}
