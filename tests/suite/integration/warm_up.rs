//! The init-phase warm-up: it does the first request's first-time work, and
//! when a dependency fails or stays silent it leaves that work to the first
//! request instead of failing init.

use std::collections::BTreeSet;
use std::time::Duration;

use nectr_disconnect::adapters::GitHubWebhooks;
use nectr_disconnect::config;
use nectr_disconnect::warm_up::{Moment, warm_up};
use nectr_disconnect::wiring::{self, AwsClients, Production};
use serde_json::json;
use test_world::fault_proxy::{AwsError, Fault, FaultProxy};

use crate::support::acting_user::USER;
use crate::support::events::Answer;
use crate::support::handler::{handle, metric_settings};
use crate::support::logs::{capture, log_lines, metric_documents};
use crate::support::test_app::{ItemKey, TestApp, delete_as, sdk_config};
use crate::support::tls;

/// A connected app whose AWS calls go through one proxy and whose GitHub
/// calls go through another.
struct Proxied {
    app: TestApp,
    key: ItemKey,
    aws_proxy: FaultProxy,
    github_proxy: FaultProxy,
    aws: AwsClients,
}

async fn app_behind_proxies() -> Proxied {
    let (mut app, key) = TestApp::connected().await;
    let aws_proxy = app.aws_proxy().await;
    let github_proxy = FaultProxy::start(&app.github.uri(), &tls::ca().server()).await;
    app.env
        .insert(config::GITHUB_API_URL, github_proxy.endpoint.clone());
    let aws = AwsClients::new(&sdk_config(&aws_proxy.endpoint).await);
    Proxied {
        app,
        key,
        aws_proxy,
        github_proxy,
        aws,
    }
}

impl Proxied {
    /// The use case and the GitHub client it uses, wired as `main` does.
    fn use_case(&self) -> (Production, GitHubWebhooks) {
        let github = wiring::github(&self.app.config()).unwrap();
        let use_case = wiring::production(&self.app.config(), &self.aws, github.clone());
        (use_case, github)
    }

    async fn warm_up(&self, use_case: &Production, github: &GitHubWebhooks) {
        self.warm_up_at(use_case, github, Moment::AheadOfEvents)
            .await;
    }

    async fn warm_up_at(&self, use_case: &Production, github: &GitHubWebhooks, moment: Moment) {
        let settings = metric_settings();
        let config = self.app.config();
        warm_up(use_case, github, &config, &self.aws, &settings, moment).await;
    }

    async fn disconnect(&self, use_case: &Production) -> Answer {
        Answer::from(handle(use_case, delete_as(USER, "acme", "my-backend")).await)
    }

    /// A disconnect that must succeed: 200, and the installation inactive.
    async fn assert_disconnects(&self, use_case: &Production) -> Answer {
        let answer = self.disconnect(use_case).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        self.app.assert_inactive(&self.key).await;
        answer
    }

    fn fail_every_call(&self, aws: Fault, github: Fault) {
        self.aws_proxy.inject(None, aws);
        self.github_proxy.inject(None, github);
    }

    fn heal(&self) {
        self.aws_proxy.clear();
        self.github_proxy.clear();
    }
}

/// The calls `proxy` passed on from its `from`th, as "Operation status"
/// ("-" where no answer came), sorted.
fn operations(proxy: &FaultProxy, from: usize) -> Vec<String> {
    let mut calls: Vec<_> = proxy.calls()[from..]
        .iter()
        .map(|c| match c.upstream_status {
            Some(status) => format!("{} {status}", c.operation),
            None => format!("{} -", c.operation),
        })
        .collect();
    calls.sort();
    calls
}

#[tokio::test]
async fn warm_up_fetches_the_signing_keys_and_opens_dynamodb_kms_and_github_connections() {
    let proxied = app_behind_proxies().await;
    let (use_case, github) = proxied.use_case();

    proxied.warm_up(&use_case, &github).await;

    // AWSPREVIOUS does not exist before the first rotation: moto's 404.
    assert_eq!(
        operations(&proxied.aws_proxy, 0),
        [
            "DescribeKey 200",
            "DescribeTable 200",
            "DescribeTable 200",
            "GetSecretValue 200",
            "GetSecretValue 404"
        ]
    );
    assert_eq!(operations(&proxied.github_proxy, 0), ["HEAD 404"]);
}

#[tokio::test]
async fn beside_the_first_event_the_warm_up_describes_the_table_once() {
    let proxied = app_behind_proxies().await;
    let (use_case, github) = proxied.use_case();

    proxied
        .warm_up_at(&use_case, &github, Moment::BesideFirstEvent)
        .await;

    assert_eq!(
        operations(&proxied.aws_proxy, 0),
        [
            "DescribeKey 200",
            "DescribeTable 200",
            "GetSecretValue 200",
            "GetSecretValue 404"
        ]
    );
}

#[tokio::test]
async fn after_the_warm_up_the_first_request_fetches_no_key_and_opens_no_connection() {
    let proxied = app_behind_proxies().await;
    let (use_case, github) = proxied.use_case();
    proxied.warm_up(&use_case, &github).await;
    let calls = proxied.aws_proxy.calls().len();
    let connections = (
        proxied.aws_proxy.connections(),
        proxied.github_proxy.connections(),
    );

    let answer = proxied.assert_disconnects(&use_case).await;

    assert_eq!(answer.body["webhook"], "removed");
    assert_eq!(
        operations(&proxied.aws_proxy, calls),
        ["Decrypt 200", "GetItem 200", "Query 200", "UpdateItem 200"],
        "no GetSecretValue"
    );
    assert_eq!(
        (
            proxied.aws_proxy.connections(),
            proxied.github_proxy.connections()
        ),
        connections,
        "every call went over a connection the warm-up opened"
    );
}

/// The warm-up of an environment whose every AWS call meets `aws` and every
/// GitHub call `github`; the faults are gone once it returns.
async fn warmed_up_through(aws: Fault, github: Fault) -> (Proxied, Production) {
    let proxied = app_behind_proxies().await;
    let (use_case, github_client) = proxied.use_case();
    proxied.fail_every_call(aws, github);
    // A bound on the test, not a timing claim: a warm-up that waited for a
    // silent proxy would never return.
    let warm_up = proxied.warm_up(&use_case, &github_client);
    let warmed = tokio::time::timeout(Duration::from_secs(60), warm_up).await;
    assert!(warmed.is_ok(), "the warm-up never returned");
    proxied.heal();
    (proxied, use_case)
}

#[tokio::test]
async fn a_failed_warm_up_is_left_to_the_first_request() {
    let (proxied, use_case) = warmed_up_through(Fault::ServerError, Fault::Refused).await;
    let failed = proxied.aws_proxy.calls().len();
    let answer = proxied.assert_disconnects(&use_case).await;

    assert_eq!(answer.body["webhook"], "removed");
    assert!(
        operations(&proxied.aws_proxy, failed).contains(&"GetSecretValue 200".to_owned()),
        "the first request fetches the signing key itself"
    );
}

#[tokio::test]
async fn a_silent_dependency_does_not_hold_init() {
    let (proxied, use_case) = warmed_up_through(Fault::Hang, Fault::Hang).await;

    proxied.assert_disconnects(&use_case).await;
}

/// The ERROR lines a warm-up wrote, as (service, AWS error code), each
/// once, in order.
/// The metric documents the warm-up published: one `DependencyErrors`
/// with `cause=misconfiguration` per misconfigured step, by service and
/// per version, as a request meeting it publishes.
fn misconfiguration_metrics(text: &str) -> usize {
    let documents = metric_documents(text);
    for document in &documents {
        assert_eq!(document["cause"], "misconfiguration", "{document}");
        assert_eq!(document["DependencyErrors"], 1, "{document}");
        assert_eq!(document["function_version"], "$LATEST", "{document}");
        assert_eq!(
            document["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([
                ["service", "cause"],
                ["service", "cause", "function_version"]
            ]),
            "{document}"
        );
    }
    documents.len()
}

fn misconfigurations(text: &str) -> Vec<(String, String)> {
    let found: BTreeSet<_> = log_lines(text)
        .into_iter()
        .filter(|line| line["level"] == "ERROR")
        .map(|line| {
            assert!(
                line["resource"].as_str().is_some_and(|r| !r.is_empty()),
                "{line:?}"
            );
            let field = |name: &str| line[name].as_str().unwrap_or_default().to_owned();
            (field("aws_service"), field("aws_error_code"))
        })
        .collect();
    found.into_iter().collect()
}

#[tokio::test]
async fn a_denied_or_missing_dependency_is_an_error_at_cold_start() {
    let proxied = app_behind_proxies().await;
    let (use_case, github) = proxied.use_case();
    let denied = AwsError {
        status: 400,
        code: "AccessDeniedException",
        message: "User: arn:aws:sts::111122223333:assumed-role/nectr-disconnect-role/nectr-disconnect is not authorized to perform: kms:DescribeKey on resource: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab because no identity-based policy allows the kms:DescribeKey action",
    };
    let missing = AwsError {
        status: 400,
        code: "ResourceNotFoundException",
        message: "Requested resource not found: Table: nectr-test not found",
    };
    proxied
        .aws_proxy
        .inject(Some("DescribeKey"), Fault::Aws(denied));
    proxied
        .aws_proxy
        .inject(Some("DescribeTable"), Fault::Aws(missing));

    let (logs, _guard) = capture();
    proxied.warm_up(&use_case, &github).await;

    assert_eq!(
        misconfigurations(&logs.text()),
        [
            (
                "DynamoDB".to_owned(),
                "ResourceNotFoundException".to_owned()
            ),
            ("KMS".to_owned(), "AccessDeniedException".to_owned()),
        ]
    );
    assert_eq!(misconfiguration_metrics(&logs.text()), 2);
}

#[tokio::test]
async fn a_disabled_key_is_an_error_at_cold_start() {
    let proxied = app_behind_proxies().await;
    let (use_case, github) = proxied.use_case();
    proxied
        .app
        .aws
        .kms
        .disable_key()
        .key_id(&proxied.app.key_id)
        .send()
        .await
        .expect("moto disables the key");

    let (logs, _guard) = capture();
    proxied.warm_up(&use_case, &github).await;

    assert_eq!(
        misconfigurations(&logs.text()),
        [("KMS".to_owned(), "KeyState Disabled".to_owned())]
    );
    assert_eq!(misconfiguration_metrics(&logs.text()), 1);
}

#[tokio::test]
async fn a_healthy_deployment_logs_no_error_at_cold_start() {
    let proxied = app_behind_proxies().await;
    let (use_case, github) = proxied.use_case();

    let (logs, _guard) = capture();
    proxied.warm_up(&use_case, &github).await;

    assert_eq!(misconfigurations(&logs.text()), []);
    assert_eq!(misconfiguration_metrics(&logs.text()), 0);
}
