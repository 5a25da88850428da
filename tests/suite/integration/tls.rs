//! TLS on every hop (CONTRACT §8). The app's endpoints speak TLS with
//! certificates from the run's CA, which the function trusts only through
//! `SSL_CERT_FILE` (support/tls.rs), as an operator trusts a private CA in
//! Lambda. Every hop must refuse an endpoint it cannot trust, and never fall
//! back to plain text; the disconnect still answers as CONTRACT §1 says.

use std::net::SocketAddr;

use nectr_disconnect::config;
use nectr_disconnect::wiring::AwsClients;
use serde_json::{Value, json};
use test_world::arcadedb::{ArcadeDb, USERNAME};
use test_world::tls::{BadCertificate, TlsTerminator};
use wiremock::ResponseTemplate;

use crate::support::acting_user::USER;
use crate::support::test_app::{ItemKey, Seed, TestApp, delete_as, sdk_config};
use crate::support::tls;

/// Seeds what every graph test reads: one repository with two files.
const GRAPH: &str = "
CREATE (backend:Repository {full_name: 'acme/my-backend'}),
       (backend)-[:CONTAINS]->(:File {path: 'src/main.rs'}),
       (backend)-[:CONTAINS]->(:File {path: 'Cargo.toml'})";

/// How an endpoint can fail a client that verifies what it connects to.
#[derive(Clone, Copy, Debug)]
enum Untrustworthy {
    Certificate(BadCertificate),
    /// The server speaks plain text where the URL says TLS.
    PlainText,
}

const UNTRUSTWORTHY: [Untrustworthy; 5] = [
    Untrustworthy::Certificate(BadCertificate::Untrusted),
    Untrustworthy::Certificate(BadCertificate::SelfSigned),
    Untrustworthy::Certificate(BadCertificate::Expired),
    Untrustworthy::Certificate(BadCertificate::WrongName),
    Untrustworthy::PlainText,
];

/// Where a client finds `upstream` behind `how`, and the terminator to keep
/// alive meanwhile (none in plain text).
async fn behind(upstream: SocketAddr, how: Untrustworthy) -> (SocketAddr, Option<TlsTerminator>) {
    match how {
        Untrustworthy::Certificate(bad) => {
            let terminator = tls::bad_front(upstream, bad).await;
            (terminator.addr, Some(terminator))
        }
        Untrustworthy::PlainText => (upstream, None),
    }
}

fn no_handshake_completed(terminator: &Option<TlsTerminator>, how: Untrustworthy) {
    if let Some(terminator) = terminator {
        assert_eq!(terminator.handshakes(), 0, "{how:?}: a handshake completed");
    }
}

/// A fresh active installation of acme/my-backend with webhook 42, so that
/// each case of a test disconnects one of its own.
async fn install(app: &TestApp, case: usize) -> ItemKey {
    app.seed_installation(Seed {
        user: USER,
        repo_full_name: "acme/my-backend",
        installation_id: &format!("inst-{case}"),
        webhook_id: Some(42),
        is_active: true,
    })
    .await
}

async fn app_with_graph(arcadedb: &ArcadeDb) -> TestApp {
    let mut app = TestApp::start().await;
    app.seed_user(USER, "gho_tlstoken").await;
    app.github_answers(ResponseTemplate::new(204)).await;
    app.use_graph(&arcadedb.uri, USERNAME, &arcadedb.password)
        .await;
    app
}

fn disconnected(webhook: &str, graph: Option<Value>) -> Value {
    let mut body = json!({"status": "disconnected", "repo": "acme/my-backend", "webhook": webhook});
    if let Some(graph) = graph {
        body["graph"] = graph;
    }
    body
}

#[tokio::test]
async fn the_graph_is_read_over_tls_with_each_uri_form_neo4j_hands_out() {
    let arcadedb = ArcadeDb::start().await;
    arcadedb.write(GRAPH).await;
    let mut app = app_with_graph(&arcadedb).await;
    let bolt = tls::address(&arcadedb.uri);
    let self_signed = tls::bad_front(bolt, BadCertificate::SelfSigned).await;
    let trusted = tls::front(bolt).await;

    for (case, (scheme, terminator)) in [
        ("neo4j+s", &trusted),
        ("bolt+s", &trusted),
        ("bolt+ssc", &self_signed),
    ]
    .into_iter()
    .enumerate()
    {
        let key = install(&app, case).await;
        app.env
            .insert(config::NEO4J_URI, format!("{scheme}://{}", terminator.addr));

        let answer = app.disconnect_as(USER, "acme", "my-backend").await;

        assert_eq!(answer.status, 200, "{scheme}: {}", answer.body);
        let graph = json!({"files": 2, "pull_requests": 0, "developers": 0});
        assert_eq!(
            answer.body,
            disconnected("removed", Some(graph)),
            "{scheme}"
        );
        app.assert_inactive(&key).await;
    }
    assert!(self_signed.handshakes() > 0 && trusted.handshakes() > 0);
}

#[tokio::test]
async fn bolt_s_refuses_an_untrustworthy_graph_and_the_disconnect_leaves_the_graph_out() {
    let arcadedb = ArcadeDb::start().await;
    arcadedb.write(GRAPH).await;
    let mut app = app_with_graph(&arcadedb).await;

    let mut case = 0;
    for how in UNTRUSTWORTHY {
        let (graph, terminator) = behind(tls::address(&arcadedb.uri), how).await;
        for scheme in ["bolt+s", "neo4j+s"] {
            let key = install(&app, case).await;
            case += 1;
            app.env
                .insert(config::NEO4J_URI, format!("{scheme}://{graph}"));

            let answer = app.disconnect_as(USER, "acme", "my-backend").await;

            assert_eq!(answer.status, 200, "{scheme} {how:?}: {}", answer.body);
            assert_eq!(
                answer.body,
                disconnected("removed", None),
                "{scheme} {how:?}"
            );
            app.assert_inactive(&key).await;
        }
        no_handshake_completed(&terminator, how);
    }
}

#[tokio::test]
async fn bolt_ssc_still_refuses_plain_text() {
    let arcadedb = ArcadeDb::start().await;
    arcadedb.write(GRAPH).await;
    let mut app = app_with_graph(&arcadedb).await;
    let key = install(&app, 0).await;
    let plain = tls::address(&arcadedb.uri);
    app.env
        .insert(config::NEO4J_URI, format!("bolt+ssc://{plain}"));

    let answer = app.disconnect_as(USER, "acme", "my-backend").await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body, disconnected("removed", None));
    app.assert_inactive(&key).await;
}

#[tokio::test]
async fn aws_behind_an_untrustworthy_endpoint_is_503_and_changes_nothing() {
    let app = TestApp::start().await;
    app.connect(USER, Some(42)).await;
    app.github_answers(ResponseTemplate::new(204)).await;
    let before = app.items().await;

    for how in UNTRUSTWORTHY {
        let (aws, terminator) = behind(tls::address(&app.moto_endpoint()), how).await;
        let clients = AwsClients::new(&sdk_config(&format!("https://{aws}")).await);

        let answer = app
            .send_with(&clients, delete_as(USER, "acme", "my-backend"))
            .await;

        assert_eq!(answer.status, 503, "{how:?}: {}", answer.body);
        assert_eq!(
            answer.body,
            json!({"detail": "Service temporarily unavailable"})
        );
        no_handshake_completed(&terminator, how);
    }
    assert_eq!(app.items().await, before);
    assert!(app.github.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn github_behind_an_untrustworthy_endpoint_never_gets_the_token_and_the_webhook_failed() {
    let mut app = TestApp::start().await;
    app.seed_user(USER, "gho_tlstoken").await;
    app.github_answers(ResponseTemplate::new(204)).await;

    for (case, how) in UNTRUSTWORTHY.into_iter().enumerate() {
        let key = install(&app, case).await;
        let (github, terminator) = behind(*app.github.address(), how).await;
        app.env
            .insert(config::GITHUB_API_URL, format!("https://{github}"));

        let answer = app.disconnect_as(USER, "acme", "my-backend").await;

        assert_eq!(answer.status, 200, "{how:?}: {}", answer.body);
        assert_eq!(answer.body, app.disconnected_body("failed"), "{how:?}");
        app.assert_inactive(&key).await;
        no_handshake_completed(&terminator, how);
    }
    let received = app.github.received_requests().await.unwrap();
    let deletes = received.iter().filter(|r| r.method.as_str() == "DELETE");
    assert_eq!(
        deletes.count(),
        0,
        "a webhook delete went through: {received:?}"
    );
}
