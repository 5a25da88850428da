//! The code graph against a real Bolt server (ArcadeDB standing in for
//! Neo4j) behind TLS, as Aura is reached (`neo4j+s`): the 200 reports what
//! is kept, the graph is left exactly as it was, and a graph that is down,
//! refuses the login or never answers only drops `graph` from the body.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_http::RequestExt;
use nectr_disconnect::config;
use serde_json::json;
use test_world::arcadedb::{ArcadeDb, USERNAME};
use test_world::bolt_proxy::BoltProxy;
use test_world::free_port;
use test_world::tls::TlsTerminator;
use tokio::net::TcpListener;

use crate::support::acting_user::USER;
use crate::support::events::Answer;
use crate::support::test_app::{ItemKey, TestApp, delete_as};
use crate::support::tls;

/// Two repositories that share a developer: what one disconnect must not
/// touch includes the other repository's part of the graph.
const SEED: &str = "
CREATE (backend:Repository {full_name: 'acme/my-backend', default_branch: 'main'}),
       (frontend:Repository {full_name: 'acme/my-frontend', default_branch: 'main'}),
       (backend)-[:CONTAINS]->(:File {path: 'src/main.rs', language: 'Rust'}),
       (backend)-[:CONTAINS]->(:File {path: 'src/lib.rs', language: 'Rust'}),
       (backend)-[:CONTAINS]->(:File {path: 'Cargo.toml', language: 'TOML'}),
       (frontend)-[:CONTAINS]->(:File {path: 'src/App.tsx', language: 'TypeScript'}),
       (:PullRequest {repo: 'acme/my-backend', number: 7, title: 'Add retries'}),
       (:PullRequest {repo: 'acme/my-backend', number: 8, title: 'Fix the build'}),
       (:PullRequest {repo: 'acme/my-frontend', number: 3, title: 'Dark mode'}),
       (alice:Developer {login: 'alice'}),
       (bob:Developer {login: 'bob'}),
       (alice)-[:CONTRIBUTED_TO {commits: 12}]->(backend),
       (bob)-[:CONTRIBUTED_TO {commits: 3}]->(backend),
       (bob)-[:CONTRIBUTED_TO {commits: 5}]->(frontend)";

async fn assert_disconnected_without_graph(app: &TestApp, key: &ItemKey, answer: Answer) {
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({"status": "disconnected", "repo": "acme/my-backend", "webhook": "removed"})
    );
    app.assert_inactive(key).await;
}

/// `bolt_uri`'s server behind TLS: the `neo4j+s` URI, and the terminator
/// to keep alive meanwhile.
async fn over_tls(bolt_uri: &str) -> (String, TlsTerminator) {
    let terminator = tls::front(tls::address(bolt_uri)).await;
    (format!("neo4j+s://{}", terminator.addr), terminator)
}

/// Accepts connections and never says a word, not even the TLS handshake,
/// as a hung server does.
async fn silent_listener() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("neo4j+s://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    uri
}

/// A connected app whose graph takes connections and never answers, read
/// with `NEO4J_TIMEOUT_MS` set to `timeout_ms`.
async fn connected_to_a_silent_graph(timeout_ms: &str) -> (TestApp, ItemKey) {
    let (mut app, key) = TestApp::connected().await;
    app.use_graph(&silent_listener().await, USERNAME, "graph-password-silent")
        .await;
    app.env.insert(config::NEO4J_TIMEOUT_MS, timeout_ms.into());
    (app, key)
}

/// A deadline `seconds` from now, as Lambda gives it.
fn deadline_in(seconds: u64) -> lambda_http::Context {
    let mut context = lambda_http::Context::default();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    context.deadline = (now + Duration::from_secs(seconds)).as_millis() as u64;
    context
}

#[tokio::test]
async fn disconnect_reports_the_kept_graph_and_changes_no_node_relationship_or_property() {
    let ((mut app, key), arcadedb) = tokio::join!(TestApp::connected(), ArcadeDb::start());
    arcadedb.write(SEED).await;
    let (graph, _tls) = over_tls(&arcadedb.uri).await;
    app.use_graph(&graph, USERNAME, &arcadedb.password).await;
    let before = arcadedb.dump().await;
    assert_eq!(before.len(), 11 + 7, "the seed is in place: {before:#?}");

    let answer = app.disconnect_as(USER, "acme", "my-backend").await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({
            "status": "disconnected",
            "repo": "acme/my-backend",
            "webhook": "removed",
            "graph": {"files": 3, "pull_requests": 2, "developers": 2}
        })
    );
    app.assert_inactive(&key).await;
    assert_eq!(arcadedb.dump().await, before);
}

#[tokio::test]
async fn the_graph_is_read_over_bolt_4_4_the_version_neo4j_5_and_aura_need() {
    let ((mut app, _key), arcadedb) = tokio::join!(TestApp::connected(), ArcadeDb::start());
    let tap = BoltProxy::start(&arcadedb.uri, Duration::ZERO).await;
    let (graph, _tls) = over_tls(&tap.uri).await;
    app.use_graph(&graph, USERNAME, &arcadedb.password).await;

    let answer = app.disconnect_as(USER, "acme", "my-backend").await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.get("graph").is_some(), "{}", answer.body);
    // The server's handshake answer: [0, 0, minor, major].
    assert_eq!(tap.negotiated(), [[0, 0, 4, 4]]);
}

#[tokio::test]
async fn a_graph_that_is_down_or_refuses_the_password_is_left_out_and_the_disconnect_succeeds() {
    let arcadedb = ArcadeDb::start().await;
    arcadedb.write(SEED).await;
    let (refusing, _tls) = over_tls(&arcadedb.uri).await;
    let down = format!("neo4j+s://127.0.0.1:{}", free_port());
    for (graph, password) in [
        (&down, "graph-password-unused"),
        (&refusing, "not-the-arcadedb-password"),
    ] {
        let (mut app, key) = TestApp::connected().await;
        app.use_graph(graph, USERNAME, password).await;

        let answer = app.disconnect_as(USER, "acme", "my-backend").await;

        assert_disconnected_without_graph(&app, &key, answer).await;
    }
}

/// A graph that takes the connection and never answers is cut off by
/// `NEO4J_TIMEOUT_MS`, or by the invocation's deadline when that comes first.
#[tokio::test]
async fn a_graph_that_never_answers_is_cut_off_by_its_timeout_or_the_deadline() {
    // The bounds are on the test, not timing claims: with 300 ms the
    // invocation would otherwise wait for its 30 s default deadline; with ten
    // minutes only the 5 s deadline can end it.
    for (neo4j_timeout_ms, deadline_s, bound_s, cut_off_by) in [
        ("300", None, 20, config::NEO4J_TIMEOUT_MS),
        ("600000", Some(5), 60, "the invocation deadline"),
    ] {
        let (app, key) = connected_to_a_silent_graph(neo4j_timeout_ms).await;
        let mut request = delete_as(USER, "acme", "my-backend");
        if let Some(seconds) = deadline_s {
            request = request.with_lambda_context(deadline_in(seconds));
        }

        let answer = tokio::time::timeout(Duration::from_secs(bound_s), app.send(request))
            .await
            .unwrap_or_else(|_| panic!("the disconnect was not cut off by {cut_off_by}"));

        assert_disconnected_without_graph(&app, &key, answer).await;
    }
}
