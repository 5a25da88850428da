//! Every API Gateway event in `events/` through the same handler the binary
//! runs, over in-memory fakes seeded with the fixtures' world: `fixture-user`
//! has connected acme/my-backend (webhook 42) and acme/docs (no webhook).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use lambda_http::Body;
use nectr_disconnect::http::handle;
use serde_json::{Value, json};

use crate::support::use_case::Fakes;

const USER: &str = "fixture-user";

struct Expected {
    status: u16,
    body: Value,
    header: Option<(&'static str, &'static str)>,
}

fn expectations() -> BTreeMap<&'static str, Expected> {
    let ok = |repo: &str, webhook: &str| Expected {
        status: 200,
        body: json!({"status": "disconnected", "repo": repo, "webhook": webhook}),
        header: None,
    };
    let unauthorized = || Expected {
        status: 401,
        body: json!({"detail": "Unauthorized"}),
        header: Some(("www-authenticate", "Bearer")),
    };
    let installation_not_found = || Expected {
        status: 404,
        body: json!({"detail": "Installation not found"}),
        header: None,
    };
    let route_not_found = || Expected {
        status: 404,
        body: json!({"detail": "Not Found"}),
        header: None,
    };
    let method_not_allowed = || Expected {
        status: 405,
        body: json!({"detail": "Method Not Allowed"}),
        header: Some(("allow", "DELETE")),
    };
    BTreeMap::from([
        (
            "function-url-disconnect-with-webhook",
            ok("acme/my-backend", "removed"),
        ),
        ("http-api-bad-token", unauthorized()),
        ("http-api-cookie-auth", ok("acme/my-backend", "removed")),
        (
            "http-api-disconnect-mixed-case",
            ok("acme/my-backend", "removed"),
        ),
        (
            "http-api-disconnect-with-webhook",
            ok("acme/my-backend", "removed"),
        ),
        (
            "http-api-disconnect-without-webhook",
            ok("acme/docs", "not_configured"),
        ),
        ("http-api-encoded-slash", installation_not_found()),
        ("http-api-expired-token", unauthorized()),
        ("http-api-malformed-owner", installation_not_found()),
        ("http-api-named-stage", ok("acme/my-backend", "removed")),
        ("http-api-no-auth", unauthorized()),
        ("http-api-not-connected", installation_not_found()),
        ("http-api-unknown-path", route_not_found()),
        ("http-api-wrong-method", method_not_allowed()),
        ("rest-api-bad-token", unauthorized()),
        ("rest-api-cookie-auth", ok("acme/my-backend", "removed")),
        (
            "rest-api-disconnect-with-webhook",
            ok("acme/my-backend", "removed"),
        ),
        (
            "rest-api-disconnect-without-webhook",
            ok("acme/docs", "not_configured"),
        ),
        ("rest-api-expired-token", unauthorized()),
        ("rest-api-malformed-owner", installation_not_found()),
        ("rest-api-no-auth", unauthorized()),
        ("rest-api-stage-in-path", ok("acme/my-backend", "removed")),
        ("rest-api-unknown-path", route_not_found()),
        ("rest-api-wrong-method", method_not_allowed()),
    ])
}

fn fixture_world() -> Fakes {
    let fakes = Fakes::new();
    fakes.store.add_user(USER, Some(b"fixture-ciphertext"));
    fakes.tokens.add(USER, b"fixture-ciphertext", "gho_fixture");
    fakes
        .store
        .add_installation(USER, "acme/my-backend", "inst-backend", Some(42), true);
    fakes
        .store
        .add_installation(USER, "acme/docs", "inst-docs", None, true);
    fakes
}

fn fixtures() -> BTreeMap<String, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    fs::read_dir(&dir)
        .expect("events/ exists")
        .map(|entry| entry.expect("events/ is readable").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (
                name,
                fs::read_to_string(&path).expect("fixture is readable"),
            )
        })
        .collect()
}

fn body_text(body: &Body) -> &str {
    match body {
        Body::Text(text) => text,
        Body::Binary(bytes) => std::str::from_utf8(bytes).expect("UTF-8 body"),
        Body::Empty => "",
        _ => panic!("unexpected body kind"),
    }
}

#[test]
fn every_fixture_has_an_expectation_and_every_expectation_a_fixture() {
    let fixtures: Vec<String> = fixtures().into_keys().collect();
    let expected: Vec<String> = expectations().keys().map(|k| k.to_string()).collect();
    assert_eq!(fixtures, expected);
}

#[tokio::test]
async fn every_fixture_gets_the_response_the_contract_prescribes() {
    let expectations = expectations();
    for (name, event) in fixtures() {
        let expected = expectations
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name}.json has no expectation"));
        let request = lambda_http::request::from_str(&event)
            .unwrap_or_else(|e| panic!("{name}.json is not an API Gateway event: {e}"));
        let fakes = fixture_world();

        let response = handle(&fakes.use_case(), request).await;

        assert_eq!(response.status().as_u16(), expected.status, "{name}");
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{name}"
        );
        let body: Value = serde_json::from_str(body_text(response.body()))
            .unwrap_or_else(|e| panic!("{name}: body is not JSON: {e}"));
        assert_eq!(body, expected.body, "{name}");
        if let Some((header, value)) = expected.header {
            assert_eq!(response.headers()[header], value, "{name}");
        }
        let deactivated = fakes
            .store
            .installations()
            .iter()
            .filter(|i| !i.is_active)
            .count();
        assert_eq!(deactivated, usize::from(expected.status == 200), "{name}");
    }
}
