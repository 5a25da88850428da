//! TLS on every hop (CONTRACT §8). The world's endpoints speak TLS with
//! certificates from the run's CA, which the function trusts only through
//! `SSL_CERT_FILE` (support/tls.rs), as an operator trusts a private CA in
//! Lambda. Every hop must refuse an endpoint it cannot trust, and never fall
//! back to plain text; the disconnect still answers as CONTRACT §1 says.

use std::net::SocketAddr;

use aws_sdk_dynamodb::types::AttributeValue;
use nectr_disconnect::wiring::AwsClients;
use serde_json::{Value, json};
use test_world::arcadedb::{ArcadeDb, USERNAME};
use test_world::tls::{BadCertificate, TlsTerminator};
use wiremock::ResponseTemplate;

use crate::support::acting_user::USER;
use crate::support::tls;
use crate::support::world::{ItemKey, Seed, World, delete_as, sdk_config};

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
async fn install(world: &World, case: usize) -> ItemKey {
    world
        .seed_installation(Seed {
            user: USER,
            repo_full_name: "acme/my-backend",
            installation_id: &format!("inst-{case}"),
            webhook_id: Some(42),
            is_active: true,
        })
        .await
}

async fn world_with_graph(arcadedb: &ArcadeDb) -> World {
    let mut world = World::start().await;
    world.seed_user(USER, "gho_tlstoken").await;
    world.github_answers(ResponseTemplate::new(204)).await;
    world
        .use_graph(&arcadedb.uri, USERNAME, &arcadedb.password)
        .await;
    world
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
    let mut world = world_with_graph(&arcadedb).await;
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
        let key = install(&world, case).await;
        world
            .env
            .insert("NEO4J_URI", format!("{scheme}://{}", terminator.addr));

        let answer = world.disconnect_as(USER, "acme", "my-backend").await;

        assert_eq!(answer.status, 200, "{scheme}: {}", answer.body);
        let graph = json!({"files": 2, "pull_requests": 0, "developers": 0});
        assert_eq!(
            answer.body,
            disconnected("removed", Some(graph)),
            "{scheme}"
        );
        assert_eq!(
            world.item(&key).await["is_active"],
            AttributeValue::Bool(false)
        );
    }
    assert!(self_signed.handshakes() > 0 && trusted.handshakes() > 0);
}

#[tokio::test]
async fn bolt_s_refuses_an_untrustworthy_graph_and_the_disconnect_leaves_the_graph_out() {
    let arcadedb = ArcadeDb::start().await;
    arcadedb.write(GRAPH).await;
    let mut world = world_with_graph(&arcadedb).await;

    let mut case = 0;
    for how in UNTRUSTWORTHY {
        let (graph, terminator) = behind(tls::address(&arcadedb.uri), how).await;
        for scheme in ["bolt+s", "neo4j+s"] {
            let key = install(&world, case).await;
            case += 1;
            world.env.insert("NEO4J_URI", format!("{scheme}://{graph}"));

            let answer = world.disconnect_as(USER, "acme", "my-backend").await;

            assert_eq!(answer.status, 200, "{scheme} {how:?}: {}", answer.body);
            assert_eq!(
                answer.body,
                disconnected("removed", None),
                "{scheme} {how:?}"
            );
            assert_eq!(
                world.item(&key).await["is_active"],
                AttributeValue::Bool(false)
            );
        }
        no_handshake_completed(&terminator, how);
    }
}

#[tokio::test]
async fn bolt_ssc_still_refuses_plain_text() {
    let arcadedb = ArcadeDb::start().await;
    arcadedb.write(GRAPH).await;
    let mut world = world_with_graph(&arcadedb).await;
    let key = install(&world, 0).await;
    let plain = tls::address(&arcadedb.uri);
    world.env.insert("NEO4J_URI", format!("bolt+ssc://{plain}"));

    let answer = world.disconnect_as(USER, "acme", "my-backend").await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body, disconnected("removed", None));
    assert_eq!(
        world.item(&key).await["is_active"],
        AttributeValue::Bool(false)
    );
}

#[tokio::test]
async fn aws_behind_an_untrustworthy_endpoint_is_503_and_changes_nothing() {
    let world = World::start().await;
    world.connect(USER, Some(42)).await;
    world.github_answers(ResponseTemplate::new(204)).await;
    let before = world.items().await;

    for how in UNTRUSTWORTHY {
        let (aws, terminator) = behind(tls::address(&world.moto_endpoint()), how).await;
        let clients = AwsClients::new(&sdk_config(&format!("https://{aws}")).await);

        let answer = world
            .send_with(&clients, delete_as(USER, "acme", "my-backend"))
            .await;

        assert_eq!(answer.status, 503, "{how:?}: {}", answer.body);
        assert_eq!(
            answer.body,
            json!({"detail": "Service temporarily unavailable"})
        );
        no_handshake_completed(&terminator, how);
    }
    assert_eq!(world.items().await, before);
    assert!(world.github.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn github_behind_an_untrustworthy_endpoint_never_gets_the_token_and_the_webhook_failed() {
    let mut world = World::start().await;
    world.seed_user(USER, "gho_tlstoken").await;
    world.github_answers(ResponseTemplate::new(204)).await;

    for (case, how) in UNTRUSTWORTHY.into_iter().enumerate() {
        let key = install(&world, case).await;
        let (github, terminator) = behind(*world.github.address(), how).await;
        world
            .env
            .insert("GITHUB_API_URL", format!("https://{github}"));

        let answer = world.disconnect_as(USER, "acme", "my-backend").await;

        assert_eq!(answer.status, 200, "{how:?}: {}", answer.body);
        assert_eq!(answer.body, world.disconnected_body("failed"), "{how:?}");
        assert_eq!(
            world.item(&key).await["is_active"],
            AttributeValue::Bool(false)
        );
        no_handshake_completed(&terminator, how);
    }
    let received = world.github.received_requests().await.unwrap();
    let deletes = received.iter().filter(|r| r.method.as_str() == "DELETE");
    assert_eq!(
        deletes.count(),
        0,
        "a webhook delete went through: {received:?}"
    );
}
