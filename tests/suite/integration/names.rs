//! Names GitHub could never accept are refused before any backend sees them:
//! every AWS client points at a port nobody listens on, and GitHub must not
//! be called, yet the answer is a clean 404.

use serde_json::json;
use test_world::jwt::{FIXTURE_KEY, claims, hs256};

use crate::support::events::http_api_event;
use crate::support::test_app::{TestApp, unreachable_clients};

#[tokio::test]
async fn malformed_names_are_404_without_touching_any_backend() {
    let app = TestApp::start().await;
    let aws = unreachable_clients().await;
    let authorization = format!("Bearer {}", hs256(FIXTURE_KEY, &claims("user-1")));
    let long_owner = "o".repeat(40);
    let long_repo = "r".repeat(101);

    for (owner, repo) in [
        ("_acme", "my-backend"),
        ("ac_me", "my-backend"),
        ("ac.me", "my-backend"),
        (long_owner.as_str(), "my-backend"),
        ("acme", long_repo.as_str()),
        ("acme", "."),
        ("acme", ".."),
        ("acme", "%2e%2E"),
        ("acme", "my%2Fbackend"),
        ("acme%2Fother", "my-backend"),
        ("acme", "my%00backend"),
        ("acme", "my%0Abackend"),
        ("acme", "my%20backend"),
        ("acme", "my%backend"),
        ("acme", "caf%C3%A9"),
        ("%2D%2D", "my-backend"),
    ] {
        let path = format!("/api/v1/repos/{owner}/{repo}/install");
        let answer = app
            .send_with(
                &aws,
                http_api_event("DELETE", &path, &[("authorization", &authorization)]),
            )
            .await;

        assert_eq!(answer.status, 404, "{path}");
        assert_eq!(
            answer.body,
            json!({"detail": "Installation not found"}),
            "{path}"
        );
    }
    assert!(app.github.received_requests().await.unwrap().is_empty());
}
