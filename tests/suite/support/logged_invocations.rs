//! The invocations whose log lines the log and metric tests read, each in
//! a fresh app and captured through [`capture`].

use wiremock::ResponseTemplate;

use super::acting_user::USER;
use super::events::invocation;
use super::logs::capture;
use super::test_app::{TestApp, delete_as};

/// What invocation `request_id` logs: USER's disconnect of acme/my-backend
/// (webhook 42) in a fresh app whose GitHub answers `github_status`.
pub async fn log_of_a_disconnect(github_status: u16, request_id: &str) -> String {
    let app = TestApp::start().await;
    app.connect(USER, Some(42)).await;
    app.github_answers(ResponseTemplate::new(github_status))
        .await;

    let (logs, _guard) = capture();
    let request = invocation(delete_as(USER, "acme", "my-backend"), request_id);
    assert_eq!(app.send(request).await.status, 200);
    logs.text()
}

/// What invocation `request_id` logs when a user the table does not know
/// asks: a 401.
pub async fn log_of_a_refused_request(request_id: &str) -> String {
    let app = TestApp::start().await;

    let (logs, _guard) = capture();
    let request = invocation(delete_as("nobody", "acme", "my-backend"), request_id);
    assert_eq!(app.send(request).await.status, 401);
    logs.text()
}
