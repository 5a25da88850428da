//! The deployment's pre-traffic check (CONTRACT §11): its probes through the
//! real handlers; the hook over the AWS SDK against a Lambda and a CodeDeploy
//! of wiremock, for each verdict; and, run by `make sam-local` after it
//! starts `sam local start-lambda` (ignored here), the hook against the
//! template's own functions.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_lambda_events::sqs::SqsEvent;
use lambda_http::lambda_runtime::{Context, LambdaEvent};
use nectr_disconnect::adapters::CodeDeployReporter;
use nectr_disconnect::http::api::REPOSITORY_INSTALL;
use nectr_disconnect::http::lambda_event::request_from_json;
use nectr_disconnect::ports::HookStatus;
use nectr_disconnect::pre_traffic::{PreTrafficCheck, Probe, Probed, REPORT_MARGIN, probes};
use nectr_disconnect::queue::handler::CleanupHandler;
use nectr_disconnect::wiring::{self, PreTraffic};
use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::events::Answer;
use crate::support::handler::{handle, worker_metric_settings};
use crate::support::logs::{capture, log_lines, metric_documents};
use crate::support::test_app::sdk_config;
use crate::support::use_case::Fakes;

const DEPLOYMENT_ID: &str = "d-PRETRAFFIC";
const EXECUTION_ID: &str = "hook-execution-1";
const NEW_VERSION: &str = "arn:aws:lambda:us-east-1:123456789012:function:nectr-disconnect:7";

/// An answer of the HTTP API's payload format 2.0, as the runtime
/// serializes the handler's response.
fn http_api_answer(answer: &Answer) -> Value {
    let headers: serde_json::Map<String, Value> = answer
        .headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().into()))
        .collect();
    json!({
        "statusCode": answer.status,
        "headers": headers,
        "body": answer.body.to_string(),
        "isBase64Encoded": false,
    })
}

#[tokio::test]
async fn the_disconnect_answers_both_probes_as_the_check_expects() {
    let fakes = Fakes::new();
    for probe in probes(Probed::Disconnect) {
        let request = request_from_json(&probe.event.to_string())
            .unwrap_or_else(|e| panic!("{}: not an HTTP API event: {e}", probe.name));

        let answer = Answer::from(handle(&fakes.use_case(), request).await);

        assert_eq!(
            probe.check(&http_api_answer(&answer)),
            Ok(()),
            "{}",
            probe.name
        );
    }
    assert!(fakes.store.installations().is_empty());
}

/// The worker's one probe.
fn worker_probe() -> Probe {
    let [probe] = <[Probe; 1]>::try_from(probes(Probed::Cleanup))
        .unwrap_or_else(|_| panic!("the worker has one probe"));
    probe
}

#[tokio::test]
async fn the_worker_drops_the_probe_and_publishes_it_apart_from_the_queues_jobs() {
    let fakes = Fakes::new();
    let worker = fakes.cleanup_worker();
    let handler = CleanupHandler::new(&worker, &fakes.cleanup, worker_metric_settings());
    let probe = worker_probe();
    let event: SqsEvent = serde_json::from_value(probe.event.clone()).unwrap();
    let (logs, _guard) = capture();

    let response = handler
        .handle(LambdaEvent::new(event, Context::default()))
        .await;

    assert_eq!(
        probe.check(&serde_json::to_value(&response).unwrap()),
        Ok(())
    );
    let documents = metric_documents(&logs.text());
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0]["outcome"], "invalid");
    assert_eq!(documents[0]["source"], "nectr:pre-traffic");
    assert_eq!(
        documents[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        json!([["service", "outcome", "source"]])
    );
    assert!(
        log_lines(&logs.text())
            .iter()
            .all(|line| line["level"] != "ERROR"),
        "{}",
        logs.text()
    );
    assert!(fakes.cleanup.postponed().is_empty());
}

/// The marker covers the probe's own message only: the same `eventSource`
/// on any other record (a forged job, or the probe's body under another
/// message id) is a job like any the queue delivers, and dropping it as
/// invalid fires the alarm.
#[tokio::test]
async fn a_record_that_copies_the_probes_marker_is_counted_by_the_invalid_job_alarm() {
    let fakes = Fakes::new();
    let worker = fakes.cleanup_worker();
    let handler = CleanupHandler::new(&worker, &fakes.cleanup, worker_metric_settings());
    let probe_record = worker_probe().event["Records"][0].clone();
    let mut forged_job = probe_record.clone();
    forged_job["messageId"] = "forged-1".into();
    forged_job["body"] = json!({
        "v": 1, "user_id": "user-1", "repo": "acme/web", "installation_id": "inst-9",
        "webhook_id": 42, "disconnected_at": "2026-01-01T00:00:00Z"
    })
    .to_string()
    .into();
    let mut probe_body_elsewhere = probe_record;
    probe_body_elsewhere["messageId"] = "forged-2".into();
    let event: SqsEvent =
        serde_json::from_value(json!({"Records": [forged_job, probe_body_elsewhere]})).unwrap();
    let (logs, _guard) = capture();

    handler
        .handle(LambdaEvent::new(event, Context::default()))
        .await;

    let documents = metric_documents(&logs.text());
    assert_eq!(documents.len(), 2);
    for document in &documents {
        assert_eq!(document["outcome"], "invalid");
        assert_eq!(document.get("source"), None);
        assert_eq!(
            document["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([
                ["service", "outcome"],
                ["service", "outcome", "function_version"]
            ])
        );
    }
    let errors = log_lines(&logs.text())
        .into_iter()
        .filter(|line| line["level"] == "ERROR")
        .count();
    assert_eq!(errors, 2, "{}", logs.text());
}

/// A Lambda stand-in: answers each invocation with `answer(event)`, the
/// function error (if any) and the payload.
struct FakeLambda(fn(&Value) -> (Option<&'static str>, Value));

impl Respond for FakeLambda {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let event: Value = serde_json::from_slice(&request.body).expect("the payload is JSON");
        let (function_error, payload) = (self.0)(&event);
        let answer = ResponseTemplate::new(200)
            .insert_header("x-amz-executed-version", "7")
            .set_body_json(payload);
        match function_error {
            Some(error) => answer.insert_header("x-amz-function-error", error),
            None => answer,
        }
    }
}

/// `answer`, after `delay`.
struct Slow<R>(R, Duration);

impl<R: Respond> Respond for Slow<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request).set_delay(self.1)
    }
}

/// `first` to the first request, then what `then` answers.
struct FirstThen<R>(ResponseTemplate, R, AtomicUsize);

impl<R: Respond> Respond for FirstThen<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match self.2.fetch_add(1, Ordering::SeqCst) {
            0 => self.0.clone(),
            _ => self.1.respond(request),
        }
    }
}

/// The disconnect's answers, as the contract gives them.
fn healthy_disconnect(event: &Value) -> (Option<&'static str>, Value) {
    let method = event["requestContext"]["http"]["method"].as_str();
    let answer = match method {
        Some(method) if REPOSITORY_INSTALL.methods.contains(&method) => json!({
            "statusCode": 401,
            "headers": {"content-type": "application/json", "www-authenticate": "Bearer"},
            "body": "{\"detail\":\"Unauthorized\"}"
        }),
        _ => json!({
            "statusCode": 405,
            "headers": {"content-type": "application/json", "allow": REPOSITORY_INSTALL.allow()},
            "body": "{\"detail\":\"Method Not Allowed\"}"
        }),
    };
    (None, answer)
}

struct World {
    lambda: MockServer,
    codedeploy: MockServer,
}

impl World {
    async fn start(lambda: impl Respond + 'static) -> Self {
        Self::with_codedeploy(lambda, ResponseTemplate::new(200).set_body_json(json!({}))).await
    }

    async fn with_codedeploy(lambda: impl Respond + 'static, codedeploy: ResponseTemplate) -> Self {
        let world = Self {
            lambda: MockServer::start().await,
            codedeploy: MockServer::start().await,
        };
        Mock::given(method("POST"))
            .and(path_regex(r"^/2015-03-31/functions/[^/]+/invocations$"))
            .respond_with(lambda)
            .mount(&world.lambda)
            .await;
        Mock::given(method("POST"))
            .respond_with(codedeploy)
            .mount(&world.codedeploy)
            .await;
        world
    }

    async fn hook(&self, probed: Probed) -> PreTraffic {
        hook_over(
            &self.lambda.uri(),
            &self.codedeploy.uri(),
            probed,
            NEW_VERSION,
        )
        .await
    }

    /// The statuses CodeDeploy was sent, each checked to be the AWS SDK's
    /// `PutLifecycleEventHookExecutionStatus` for this hook execution.
    async fn reported(&self) -> Vec<String> {
        reported(&self.codedeploy).await
    }
}

async fn hook_over(lambda: &str, codedeploy: &str, probed: Probed, version: &str) -> PreTraffic {
    PreTrafficCheck {
        invoker: wiring::lambda_invoker(&sdk_config(lambda).await),
        reporter: CodeDeployReporter::new(aws_sdk_codedeploy::Client::new(
            &sdk_config(codedeploy).await,
        )),
        probed,
        new_version: version.to_owned(),
    }
}

async fn reported(codedeploy: &MockServer) -> Vec<String> {
    let requests = codedeploy.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .map(|request| {
            assert_eq!(
                request.headers["x-amz-target"],
                "CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus"
            );
            assert!(request.headers.contains_key("authorization"), "signed");
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            assert_eq!(body["deploymentId"], DEPLOYMENT_ID);
            assert_eq!(body["lifecycleEventHookExecutionId"], EXECUTION_ID);
            body["status"].as_str().unwrap().to_owned()
        })
        .collect()
}

fn in_a_minute() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

/// The hook's verdict on a version that answers as `lambda` does, and the
/// statuses CodeDeploy was sent.
async fn checked(lambda: impl Respond + 'static, probed: Probed) -> (HookStatus, Vec<String>) {
    let world = World::start(lambda).await;
    let hook = world.hook(probed).await;

    let status = hook.run(DEPLOYMENT_ID, EXECUTION_ID, in_a_minute()).await;

    (
        status.expect("the report was taken"),
        world.reported().await,
    )
}

#[tokio::test]
async fn a_disconnect_version_that_answers_as_the_contract_says_is_succeeded() {
    let world = World::start(FakeLambda(healthy_disconnect)).await;
    let hook = world.hook(Probed::Disconnect).await;

    let status = hook.run(DEPLOYMENT_ID, EXECUTION_ID, in_a_minute()).await;

    assert_eq!(status.unwrap(), HookStatus::Succeeded);
    assert_eq!(world.reported().await, ["Succeeded"]);
    let invoked = world.lambda.received_requests().await.unwrap();
    let methods: Vec<Value> = invoked
        .iter()
        .map(|request| {
            let event: Value = serde_json::from_slice(&request.body).unwrap();
            event["requestContext"]["http"]["method"].clone()
        })
        .collect();
    let declared_then_patch: Vec<&str> = REPOSITORY_INSTALL
        .methods
        .iter()
        .copied()
        .chain(["PATCH"])
        .collect();
    assert_eq!(methods, declared_then_patch);
    assert!(
        invoked
            .iter()
            .all(|request| request.url.path().contains("nectr-disconnect%3A7")),
        "the new version, not the alias: {:?}",
        invoked[0].url
    );
}

/// A version whose cold start takes longer than any AWS call's own bound
/// (the SDK's 2 s attempt, 5 s operation): the check waits for it.
#[tokio::test]
async fn a_version_that_starts_slowly_is_succeeded_after_one_invocation_per_probe() {
    let slow_start = Duration::from_secs(6);
    let world = World::start(Slow(FakeLambda(healthy_disconnect), slow_start)).await;
    let hook = world.hook(Probed::Disconnect).await;

    let status = hook.run(DEPLOYMENT_ID, EXECUTION_ID, in_a_minute()).await;

    assert_eq!(status.unwrap(), HookStatus::Succeeded);
    assert_eq!(world.reported().await, ["Succeeded"]);
    let invocations = world.lambda.received_requests().await.unwrap();
    assert_eq!(invocations.len(), probes(Probed::Disconnect).len());
}

/// Lambda's answer when the function's concurrency is used up: the
/// version never ran the probe.
fn throttled() -> ResponseTemplate {
    ResponseTemplate::new(429)
        .insert_header("x-amzn-errortype", "TooManyRequestsException")
        .set_body_json(json!({
            "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
            "Type": "User",
            "message": "Rate Exceeded."
        }))
}

#[tokio::test]
async fn a_throttled_probe_is_sent_again_and_the_version_is_succeeded() {
    let throttled_first = FirstThen(
        throttled(),
        FakeLambda(healthy_disconnect),
        AtomicUsize::new(0),
    );
    let world = World::start(throttled_first).await;
    let hook = world.hook(Probed::Disconnect).await;

    let status = hook.run(DEPLOYMENT_ID, EXECUTION_ID, in_a_minute()).await;

    assert_eq!(status.unwrap(), HookStatus::Succeeded);
    let invocations = world.lambda.received_requests().await.unwrap();
    assert_eq!(invocations.len(), probes(Probed::Disconnect).len() + 1);
}

#[tokio::test]
async fn a_report_codedeploy_throttles_once_is_delivered_once() {
    let codedeploy_throttles_once = FirstThen(
        ResponseTemplate::new(400).set_body_json(json!({
            "__type": "ThrottlingException",
            "message": "Rate exceeded"
        })),
        ResponseTemplate::new(200).set_body_json(json!({})),
        AtomicUsize::new(0),
    );
    let world = World::start(FakeLambda(healthy_disconnect)).await;
    Mock::given(method("POST"))
        .respond_with(codedeploy_throttles_once)
        .with_priority(1)
        .mount(&world.codedeploy)
        .await;
    let hook = world.hook(Probed::Disconnect).await;

    let status = hook.run(DEPLOYMENT_ID, EXECUTION_ID, in_a_minute()).await;

    assert_eq!(status.unwrap(), HookStatus::Succeeded);
    // Sent twice, taken once: the throttled one was refused.
    assert_eq!(world.reported().await, ["Succeeded", "Succeeded"]);
}

#[tokio::test]
async fn a_disconnect_version_that_answers_the_wrong_status_is_failed() {
    let wrong_status = FakeLambda(|_| {
        (
            None,
            json!({"statusCode": 200, "headers": {}, "body": "{\"detail\":\"Unauthorized\"}"}),
        )
    });

    let verdict = checked(wrong_status, Probed::Disconnect).await;

    assert_eq!(verdict, (HookStatus::Failed, vec!["Failed".to_owned()]));
}

#[tokio::test]
async fn a_version_that_cannot_start_is_failed() {
    // What Lambda answers when the function's init exits (a required
    // variable missing, say): 200, with the function error and its report.
    let exits_at_init = FakeLambda(|_| {
        (
            Some("Unhandled"),
            json!({
                "errorType": "Runtime.ExitError",
                "errorMessage": "RequestId: 1 Error: Runtime exited with error: exit status 1"
            }),
        )
    });

    let verdict = checked(exits_at_init, Probed::Disconnect).await;

    assert_eq!(verdict, (HookStatus::Failed, vec!["Failed".to_owned()]));
}

#[tokio::test]
async fn a_silent_version_is_failed_and_reported_before_the_hooks_deadline() {
    let world = World::start(ResponseTemplate::new(200).set_delay(Duration::from_secs(600))).await;
    let hook = world.hook(Probed::Disconnect).await;
    let deadline = Instant::now() + REPORT_MARGIN + Duration::from_millis(500);

    let status = tokio::time::timeout_at(
        deadline.into(),
        hook.run(DEPLOYMENT_ID, EXECUTION_ID, deadline),
    )
    .await
    .expect("the hook returns by its own deadline");

    assert_eq!(status.unwrap(), HookStatus::Failed);
    assert_eq!(world.reported().await, ["Failed"]);
}

#[tokio::test]
async fn a_worker_version_that_drops_the_malformed_message_is_succeeded() {
    let drops_it = FakeLambda(|_| (None, json!({"batchItemFailures": []})));

    let verdict = checked(drops_it, Probed::Cleanup).await;

    assert_eq!(
        verdict,
        (HookStatus::Succeeded, vec!["Succeeded".to_owned()])
    );
}

#[tokio::test]
async fn a_worker_version_that_hands_the_malformed_message_back_is_failed() {
    let hands_it_back = FakeLambda(|_| {
        (
            None,
            json!({"batchItemFailures": [{"itemIdentifier": "pre-traffic-check"}]}),
        )
    });

    let verdict = checked(hands_it_back, Probed::Cleanup).await;

    assert_eq!(verdict, (HookStatus::Failed, vec!["Failed".to_owned()]));
}

#[tokio::test]
async fn a_report_codedeploy_refuses_fails_the_hooks_invocation() {
    let world = World::with_codedeploy(
        FakeLambda(healthy_disconnect),
        ResponseTemplate::new(400).set_body_json(json!({
            "__type": "LifecycleEventAlreadyCompletedException",
            "message": "The lifecycle event is already completed"
        })),
    )
    .await;
    let hook = world.hook(Probed::Disconnect).await;

    let result = hook.run(DEPLOYMENT_ID, EXECUTION_ID, in_a_minute()).await;

    let error = result.expect_err("the invocation fails, so the hook's error is on record");
    assert!(
        error.to_string().contains("LifecycleEventAlreadyCompleted"),
        "{error}"
    );
}

/// `sam local start-lambda`'s Invoke API, from `make sam-local`.
fn start_lambda(variable: &str) -> String {
    std::env::var(variable)
        .unwrap_or_else(|_| panic!("{variable} is set by scripts/sam/sam_local.sh"))
}

/// The template's functions, built by `sam build` and run in containers by
/// `sam local start-lambda`, checked by the hook: both healthy ones are
/// `Succeeded`, and a disconnect whose `TABLE_NAME` is missing, which
/// cannot start, is `Failed`.
#[tokio::test]
#[ignore = "needs sam local start-lambda: make sam-local runs it"]
async fn under_sam_local_a_healthy_build_is_succeeded_and_one_that_cannot_start_is_failed() {
    let healthy = start_lambda("SAM_START_LAMBDA_URL");
    let broken = start_lambda("SAM_START_LAMBDA_BROKEN_URL");
    let cases = [
        (
            &healthy,
            Probed::Disconnect,
            "DisconnectFunction",
            "Succeeded",
        ),
        (&healthy, Probed::Cleanup, "CleanupFunction", "Succeeded"),
        (&broken, Probed::Disconnect, "DisconnectFunction", "Failed"),
    ];
    for (lambda, probed, function, expected) in cases {
        let codedeploy = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
            .mount(&codedeploy)
            .await;
        let hook = hook_over(lambda, &codedeploy.uri(), probed, function).await;
        // SAM starts a container for each invocation: slower than Lambda.
        let deadline = Instant::now() + Duration::from_secs(180);

        let status = hook.run(DEPLOYMENT_ID, EXECUTION_ID, deadline).await;

        assert!(status.is_ok(), "{function}: {status:?}");
        assert_eq!(
            reported(&codedeploy).await,
            [expected],
            "{function} at {lambda}"
        );
    }
}
