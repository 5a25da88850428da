//! Property tests over what GitHub sends back: whatever `Retry-After`,
//! `X-RateLimit-Remaining` and `X-RateLimit-Reset` hold (huge, negative,
//! fractional, an HTTP date, garbage), neither function panics, and every
//! wait computed from them stays within its bound (CONTRACT §5).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use lambda_http::lambda_runtime::{Context, LambdaEvent};
use nectr_disconnect::adapters::GitHubWebhooks;
use nectr_disconnect::config::GitHubConfig;
use nectr_disconnect::queue::handler::CleanupHandler;
use nectr_disconnect::timeouts::LONGEST_GITHUB_WAIT;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::Url;
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use crate::support::acting_user::{DISCONNECTED_AT, USER, cleanup_job};
use crate::support::events::Answer;
use crate::support::handler::{handle, worker_metric_settings};
use crate::support::test_app::delete_as;
use crate::support::use_case::Fakes;

const CASES: u32 = 300;

/// A status and headers.
type GitHubAnswer = (u16, Vec<(&'static str, String)>);

/// What the stub answers every request with, for the case at hand.
type Scripted = Arc<Mutex<GitHubAnswer>>;

struct Answers(Scripted);

impl Respond for Answers {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let (status, headers) = self.0.lock().unwrap().clone();
        headers
            .into_iter()
            .fold(ResponseTemplate::new(status), |response, (name, value)| {
                response.insert_header(name, value.as_str())
            })
    }
}

/// A number of seconds or a date as anyone might write one, or not.
fn header_value() -> impl Strategy<Value = String> {
    let edges = prop_oneof![
        Just(u64::MAX.to_string()),
        Just(i64::MIN.to_string()),
        Just("0".to_owned()),
        Just("1e309".to_owned()),
        Just("Fri, 31 Dec 9999 23:59:59 GMT".to_owned()),
    ];
    prop_oneof![
        edges,
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
        "[0-9]{15,60}",
        "-?[0-9]{1,25}\\.[0-9]{0,12}",
        "[+-]?[0-9]{0,3}(e|E)[+-]?[0-9]{1,4}",
        "(Mon|Fri|Xyz), [0-9]{2} (Jan|Dec|Foo) [0-9]{1,6} [0-9]{2}:[0-9]{2}:[0-9]{2} (GMT|UTC|\\+1400)",
        "[ -~]{0,40}",
    ]
}

/// A rate limit or a failing GitHub, with any of the three headers.
fn answer() -> impl Strategy<Value = GitHubAnswer> {
    let status = prop_oneof![Just(403u16), Just(429), Just(500), Just(503)];
    let remaining = prop_oneof![Just("0".to_owned()), header_value()];
    (
        status,
        proptest::option::of(header_value()),
        proptest::option::of(remaining),
        proptest::option::of(header_value()),
    )
        .prop_map(|(status, retry_after, remaining, reset)| {
            let headers = [
                ("retry-after", retry_after),
                ("x-ratelimit-remaining", remaining),
                ("x-ratelimit-reset", reset),
            ]
            .into_iter()
            .filter_map(|(name, value)| Some((name, value?.trim().to_owned())))
            .collect();
            (status, headers)
        })
}

/// The stub, and the GitHub adapter pointed at it.
fn github(runtime: &tokio::runtime::Runtime) -> (MockServer, Scripted, GitHubWebhooks) {
    let answers: Scripted = Arc::new(Mutex::new((503, Vec::new())));
    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(Answers(answers.clone()))
            .mount(&server)
            .await;
        server
    });
    let webhooks = GitHubWebhooks::new(&GitHubConfig {
        api_url: Url::parse(&server.uri()).unwrap(),
        timeout: Duration::from_secs(3),
    })
    .unwrap();
    (server, answers, webhooks)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// `CASES` answers, each the stub's to every request, through the real
/// adapter, each to fresh fakes holding USER's installation of
/// acme/my-backend, active or not: `check` runs a function over them and
/// judges what it did.
fn for_each_answer(
    active: bool,
    check: impl Fn(
        &tokio::runtime::Runtime,
        &GitHubWebhooks,
        &Fakes,
        &GitHubAnswer,
    ) -> Result<(), TestCaseError>,
) {
    let runtime = runtime();
    let (_server, answers, webhooks) = github(&runtime);
    TestRunner::new(Config::with_cases(CASES))
        .run(&answer(), |answer| {
            *answers.lock().unwrap() = answer.clone();
            let fakes = Fakes::with_installation("acme/my-backend", active);
            check(&runtime, &webhooks, &fakes, &answer)
        })
        .unwrap();
}

#[test]
fn no_github_header_crashes_a_disconnect_or_stretches_its_job_past_its_bound() {
    for_each_answer(true, |runtime, webhooks, fakes, answer| {
        let use_case = fakes.use_case_over(webhooks.clone());
        let answered = runtime.block_on(async {
            Answer::from(handle(&use_case, delete_as(USER, "acme", "my-backend")).await)
        });

        prop_assert_eq!(answered.status, 200, "{:?}: {}", answer, answered.body);
        prop_assert!(!fakes.store.installation("inst-1").is_active);
        let jobs = fakes.cleanup.jobs();
        match answered.body["webhook"].as_str() {
            Some("scheduled") => {
                prop_assert_eq!(jobs.len(), 1);
                prop_assert!(jobs[0].1 <= LONGEST_GITHUB_WAIT, "{:?}", jobs[0].1);
            }
            Some("failed") => prop_assert!(jobs.is_empty()),
            other => prop_assert!(false, "{answer:?}: webhook {other:?}"),
        }
        Ok(())
    });
    println!("GitHub's headers through the disconnect: {CASES} cases");
}

#[test]
fn no_github_header_crashes_the_worker_or_stretches_its_backoff_past_its_bound() {
    for_each_answer(false, |runtime, webhooks, fakes, answer| {
        let worker = fakes.cleanup_worker_over(webhooks.clone());
        let handler = CleanupHandler::new(&worker, &fakes.cleanup, worker_metric_settings());
        let mut message = SqsMessage::default();
        message.message_id = Some("m-1".into());
        message.receipt_handle = Some("receipt-m-1".into());
        message.body = Some(cleanup_job(DISCONNECTED_AT).to_message());
        let mut event = SqsEvent::default();
        event.records = vec![message];

        let response =
            runtime.block_on(handler.handle(LambdaEvent::new(event, Context::default())));

        let postponed = fakes.cleanup.postponed();
        if response.batch_item_failures.is_empty() {
            prop_assert!(postponed.is_empty(), "{answer:?}");
        } else {
            prop_assert_eq!(postponed.len(), 1, "{:?}", answer);
            prop_assert!(
                postponed[0].1 <= LONGEST_GITHUB_WAIT,
                "{:?}",
                postponed[0].1
            );
        }
        Ok(())
    });
    println!("GitHub's headers through the cleanup worker: {CASES} cases");
}
