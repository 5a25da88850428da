//! Every event in `events/` through the same handler the binary runs, over
//! in-memory fakes seeded with the fixtures' state (`tests/fixture-state.json`,
//! which the demo seeds too). API Gateway events go to the disconnect's
//! handler; SQS batches (`sqs-*`) to the cleanup worker's.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use aws_lambda_events::sqs::SqsEvent;
use lambda_http::lambda_runtime::{Context, LambdaEvent};
use nectr_disconnect::domain::GraphCounts;
use nectr_disconnect::http::lambda_event::request_from_json;
use nectr_disconnect::queue::handler::CleanupHandler;
use serde_json::Value;

use crate::support::events::Answer;
use crate::support::handler::handle;
use crate::support::handler::worker_metric_settings;
use crate::support::use_case::Fakes;

/// The fixture user's OAuth token as the fakes store it.
const CIPHERTEXT: &[u8] = b"fixture-ciphertext";

/// `tests/expected-responses.json`: for each fixture, the status, the body
/// and any header the contract prescribes. `scripts/check/invoke_fixtures.sh`
/// checks the same expectations through `cargo lambda invoke`.
fn expectations() -> BTreeMap<String, Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expected-responses.json");
    let text = fs::read_to_string(path).expect("tests/expected-responses.json is readable");
    serde_json::from_str(&text).expect("tests/expected-responses.json is a JSON object")
}

/// `tests/fixture-state.json` in the fakes: the user, each installation,
/// and what the graph counts for each repository.
fn seeded_fakes() -> Fakes {
    let state = test_world::fixture_state::fixture_state();
    let fakes = Fakes::new();
    fakes.store.add_user(&state.user, Some(CIPHERTEXT));
    fakes
        .tokens
        .add(&state.user, CIPHERTEXT, &state.oauth_token);
    for installation in &state.installations {
        fakes.store.add(
            &state.user,
            &installation.repo,
            &installation.installation_id,
            installation.webhook_id,
            installation.disconnected_at.as_deref(),
        );
    }
    for (repo, graph) in &state.graph {
        fakes.graph.keeps(
            repo,
            GraphCounts {
                files: graph.files.len() as u64,
                pull_requests: graph.pull_requests.len() as u64,
                developers: graph.developers.len() as u64,
            },
        );
    }
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

#[test]
fn every_fixture_has_an_expectation_and_every_expectation_a_fixture() {
    let fixtures: Vec<String> = fixtures().into_keys().collect();
    let expected: Vec<String> = expectations().into_keys().collect();
    assert_eq!(fixtures, expected);
}

/// The fixtures of one function: the cleanup worker's or the disconnect's.
fn fixtures_of(worker: bool) -> impl Iterator<Item = (String, String)> {
    fixtures()
        .into_iter()
        .filter(move |(name, _)| name.starts_with("sqs-") == worker)
}

#[tokio::test]
async fn every_sqs_batch_gets_the_batch_response_expected() {
    let expectations = expectations();
    for (name, event) in fixtures_of(true) {
        let event: SqsEvent = serde_json::from_str(&event)
            .unwrap_or_else(|e| panic!("{name}.json is not an SQS event: {e}"));
        let fakes = seeded_fakes();
        let before = fakes.store.installations();
        let worker = fakes.cleanup_worker();
        let handler = CleanupHandler::new(&worker, &fakes.cleanup, worker_metric_settings());

        let response = handler
            .handle(LambdaEvent::new(event, Context::default()))
            .await;

        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            expectations[&name]["response"],
            "{name}"
        );
        assert_eq!(
            fakes.store.installations(),
            before,
            "{name}: no item changes"
        );
        assert_eq!(
            serde_json::to_value(fakes.webhooks.webhook_ids()).unwrap(),
            expectations[&name]["webhooks_removed"],
            "{name}"
        );
    }
}

#[tokio::test]
async fn every_fixture_gets_the_response_the_contract_prescribes() {
    let expectations = expectations();
    for (name, event) in fixtures_of(false) {
        let expected = expectations
            .get(&name)
            .unwrap_or_else(|| panic!("{name}.json has no expectation"));
        // lambda_http::request::from_str, after the sanitizing the binary
        // applies to every event.
        let request = request_from_json(&event)
            .unwrap_or_else(|e| panic!("{name}.json is not an API Gateway event: {e}"));
        let fakes = seeded_fakes();
        let active = active_count(&fakes);

        let answer = Answer::from(handle(&fakes.use_case_with_graph(), request).await);

        assert_eq!(answer.status, expected["status"], "{name}");
        assert_eq!(answer.body, expected["body"], "{name}");
        assert_eq!(
            answer.header("content-type"),
            Some("application/json"),
            "{name}"
        );
        if let Some(headers) = expected.get("headers").and_then(Value::as_object) {
            for (header, value) in headers {
                assert_eq!(answer.header(header), value.as_str(), "{name}: {header}");
            }
        }
        let deactivated = active - active_count(&fakes);
        assert_eq!(deactivated, usize::from(answer.status == 200), "{name}");
    }
}

fn active_count(fakes: &Fakes) -> usize {
    fakes
        .store
        .installations()
        .iter()
        .filter(|i| i.is_active)
        .count()
}
