//! What the code graph keeps, reported beside the disconnect and never in
//! its way.

use std::time::Duration;

use nectr_disconnect::disconnect::DisconnectError;
use nectr_disconnect::domain::{BearerToken, Disconnected, GraphCounts, WebhookOutcome};
use nectr_disconnect::ports::DependencyError;

use crate::support::acting_user::USER;
use crate::support::fakes::Fault;
use crate::support::use_case::{Fakes, disconnect_with, token_for, webhook_removed};

const KEPT: GraphCounts = GraphCounts {
    files: 120,
    pull_requests: 35,
    developers: 4,
};

/// USER connected to `stored_name` (webhook 42), whose graph holds KEPT.
fn connected(stored_name: &str) -> Fakes {
    let fakes = Fakes::with_installation(stored_name, true);
    fakes.graph.keeps(stored_name, KEPT);
    fakes
}

/// A disconnect of acme/`repo` through the use case with the code graph.
async fn disconnect(
    fakes: &Fakes,
    token: Option<&BearerToken>,
    repo: &str,
) -> Result<Disconnected, DisconnectError> {
    disconnect_with(&fakes.use_case_with_graph(), token, "acme", repo).await
}

/// USER's disconnect of acme/my-backend, which succeeds.
async fn disconnected_as_user(fakes: &Fakes) -> Disconnected {
    let use_case = fakes.use_case_with_graph();
    disconnect_with(&use_case, Some(&token_for(USER)), "acme", "my-backend")
        .await
        .unwrap()
}

fn assert_inactive(fakes: &Fakes) {
    let installation = fakes.store.installation("inst-1");
    assert!(!installation.is_active, "{installation:?}");
}

#[tokio::test]
async fn the_disconnect_reports_what_the_code_graph_keeps() {
    let fakes = connected("acme/my-backend");

    let outcome = disconnected_as_user(&fakes).await;

    assert_eq!(outcome, webhook_removed(Some(KEPT)));
    assert_inactive(&fakes);
    assert_eq!(fakes.graph.asked(), ["acme/my-backend"]);
}

#[tokio::test]
async fn without_a_configured_graph_the_disconnect_leaves_graph_out() {
    let fakes = connected("acme/my-backend");

    let outcome = disconnect_with(
        &fakes.use_case(),
        Some(&token_for(USER)),
        "acme",
        "my-backend",
    )
    .await
    .unwrap();

    assert_eq!(outcome.graph, None);
    assert_eq!(outcome.webhook, WebhookOutcome::Removed);
    assert_inactive(&fakes);
    assert!(fakes.graph.asked().is_empty());
}

#[tokio::test]
async fn a_failing_graph_leaves_graph_out_and_changes_nothing_else() {
    let fakes = connected("acme/my-backend");
    fakes.graph.fail_with(Fault::Unavailable);

    let outcome = disconnected_as_user(&fakes).await;

    assert_eq!(outcome, webhook_removed(None));
    assert_inactive(&fakes);
}

#[tokio::test]
async fn a_request_in_another_case_gets_the_counts_under_the_stored_name() {
    let fakes = connected("Acme/My-Backend");

    let outcome = disconnected_as_user(&fakes).await;

    assert_eq!(outcome.graph, Some(KEPT));
    assert_eq!(
        fakes.graph.asked().last().map(String::as_str),
        Some("Acme/My-Backend")
    );
    assert_inactive(&fakes);
}

#[tokio::test]
async fn an_unauthenticated_caller_never_reaches_the_graph() {
    let fakes = connected("acme/my-backend");

    let refused = disconnect(&fakes, None, "my-backend").await;

    assert!(matches!(refused, Err(DisconnectError::Unauthorized(_))));
    assert!(fakes.graph.asked().is_empty());
}

#[tokio::test]
async fn a_repository_without_an_installation_is_not_found_whatever_the_graph_holds() {
    let fakes = connected("acme/my-backend");
    fakes.graph.keeps("acme/other", KEPT);

    let refused = disconnect(&fakes, Some(&token_for(USER)), "other").await;

    assert!(matches!(
        refused,
        Err(DisconnectError::InstallationNotFound)
    ));
    assert!(fakes.store.installation("inst-1").is_active);
}

#[tokio::test]
async fn a_failed_disconnect_answers_without_waiting_for_the_graph() {
    let fakes = connected("acme/my-backend");
    fakes.graph.hang();
    fakes.tokens.fail_with(Fault::Unavailable);

    // A bound on the test, not a timing claim: waiting for this graph would
    // never end.
    let refused = tokio::time::timeout(
        Duration::from_secs(30),
        disconnect(&fakes, Some(&token_for(USER)), "my-backend"),
    )
    .await
    .expect("the failed disconnect waited for the graph");

    assert!(matches!(
        refused,
        Err(DisconnectError::Dependency(
            DependencyError::Unavailable { .. }
        ))
    ));
    assert!(fakes.store.installation("inst-1").is_active);
}
