//! The invocations whose log lines the log and metric tests read, each in
//! a fresh world and captured through [`capture`].

use wiremock::ResponseTemplate;

use super::acting_user::USER;
use super::events::invocation;
use super::logs::capture;
use super::world::{World, delete_as};

/// What invocation `request_id` logs: USER's disconnect of acme/my-backend
/// (webhook 42) in a fresh world whose GitHub answers `github_status`.
pub async fn log_of_a_disconnect(github_status: u16, request_id: &str) -> String {
    let world = World::start().await;
    world.connect(USER, Some(42)).await;
    world
        .github_answers(ResponseTemplate::new(github_status))
        .await;

    let (logs, _guard) = capture();
    let request = invocation(delete_as(USER, "acme", "my-backend"), request_id);
    assert_eq!(world.send(request).await.status, 200);
    logs.text()
}

/// What invocation `request_id` logs when a user the table does not know
/// asks: a 401.
pub async fn log_of_a_refused_request(request_id: &str) -> String {
    let world = World::start().await;

    let (logs, _guard) = capture();
    let request = invocation(delete_as("nobody", "acme", "my-backend"), request_id);
    assert_eq!(world.send(request).await.status, 401);
    logs.text()
}
