//! The pre-traffic check (CONTRACT §11): before CodeDeploy moves any traffic
//! to a new version, invoke that version with requests that need no user and
//! no data, and report `Succeeded` only when each gets the contract's answer.
//! A version that cannot start, answers otherwise, or does not answer in
//! time is `Failed`, and CodeDeploy never sends it traffic.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::http::api::RESOURCES;
use crate::http::router::Resource;
use crate::logging::chain;
use crate::ports::{DeploymentReporter, FunctionInvoker, HookStatus, InvokeError, Invoked};
use crate::queue;
use crate::timeouts::AWS_OPERATION_TIMEOUT;

/// Kept back from the hook's own deadline for the report: a hook that
/// never reports holds the deployment until CodeDeploy gives up on it, an
/// hour later.
pub const REPORT_MARGIN: Duration = AWS_OPERATION_TIMEOUT.saturating_add(Duration::from_secs(1));

/// A throttled probe is sent again after this, each next time after twice
/// as long, up to `LONGEST_THROTTLED_WAIT`.
const FIRST_THROTTLED_WAIT: Duration = Duration::from_millis(500);
const LONGEST_THROTTLED_WAIT: Duration = Duration::from_secs(4);

/// Which function's new version the hook checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probed {
    Disconnect,
    Cleanup,
}

/// One request to the new version, and the answer the contract gives it.
pub struct Probe {
    pub name: String,
    pub event: Value,
    expected: Expected,
}

enum Expected {
    /// This status, `{"detail": detail}` and this header.
    Http {
        status: u16,
        detail: &'static str,
        header: (&'static str, String),
    },
    /// An SQS batch response without a failure.
    NothingHandedBack,
}

impl Probe {
    pub fn check(&self, answer: &Value) -> Result<(), String> {
        match &self.expected {
            Expected::Http {
                status,
                detail,
                header: (name, value),
            } => http_answer(answer, *status, detail, (name, value)),
            Expected::NothingHandedBack => {
                match answer.get("batchItemFailures").and_then(Value::as_array) {
                    Some(failures) if failures.is_empty() => Ok(()),
                    _ => Err(format!(
                        "expected no batch item failure, the worker answered {answer}"
                    )),
                }
            }
        }
    }
}

/// The requests of CONTRACT §11, derived from the routes: for the
/// disconnect, on each of the API's paths, each method it answers without
/// credentials (401 with §1's body and `WWW-Authenticate`) and a method it
/// does not answer (405 with `Allow` listing those it does); for the
/// worker, a batch whose one message is malformed, which it must drop
/// rather than hand back.
pub fn probes(probed: Probed) -> Vec<Probe> {
    match probed {
        Probed::Disconnect => RESOURCES.into_iter().flat_map(resource_probes).collect(),
        Probed::Cleanup => vec![Probe {
            name: "a malformed cleanup job".into(),
            event: malformed_job_batch(),
            expected: Expected::NothingHandedBack,
        }],
    }
}

/// PATCH first among the methods tried for the 405: it means nothing on a
/// resource that is either there or not, where GET and PUT are the next
/// endpoints one would add.
fn resource_probes(resource: &Resource) -> Vec<Probe> {
    let unauthorized = resource.methods.iter().map(|method| Probe {
        name: format!("{method} {} without credentials", resource.path),
        event: http_api_event(resource, method),
        expected: Expected::Http {
            status: 401,
            detail: "Unauthorized",
            header: ("www-authenticate", "Bearer".into()),
        },
    });
    let not_answered = ["PATCH", "PUT", "POST", "GET", "DELETE"]
        .into_iter()
        .filter(|method| !resource.methods.contains(method))
        .take(1)
        .map(|method| Probe {
            name: format!("{method} {}", resource.path),
            event: http_api_event(resource, method),
            expected: Expected::Http {
                status: 405,
                detail: "Method Not Allowed",
                header: ("allow", resource.allow()),
            },
        });
    unauthorized.chain(not_answered).collect()
}

/// A request to `resource` as API Gateway's HTTP API hands it to the
/// function (payload format 2.0), for a repository no user has.
fn http_api_event(resource: &Resource, method: &str) -> Value {
    let path = resource
        .path
        .replace("{owner}", "nectr-pre-traffic")
        .replace("{repo}", "check");
    let route_key = format!("ANY {}", resource.path);
    json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"user-agent": "nectr-pre-traffic", "x-forwarded-proto": "https"},
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "pre-traffic",
            "domainName": "pre-traffic.invalid",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "nectr-pre-traffic"
            },
            "requestId": "pre-traffic-check",
            "routeKey": route_key,
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1_767_225_600_000_u64
        },
        "isBase64Encoded": false,
        "pathParameters": {"owner": "nectr-pre-traffic", "repo": "check"}
    })
}

/// An SQS batch of one message that is no cleanup job: the worker's probe
/// (`queue::is_pre_traffic_probe`), counted apart from the forged jobs its
/// alarm watches.
fn malformed_job_batch() -> Value {
    json!({"Records": [{
        "messageId": queue::PRE_TRAFFIC_MESSAGE_ID,
        "receiptHandle": "",
        "body": queue::PRE_TRAFFIC_BODY,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": queue::PRE_TRAFFIC_EVENT_SOURCE,
        "eventSourceARN": "",
        "awsRegion": ""
    }]})
}

/// An HTTP API answer (`statusCode`, `headers`, a JSON `body`) with this
/// status, `{"detail": detail}` and this header.
fn http_answer(
    answer: &Value,
    status: u16,
    detail: &str,
    (header, value): (&str, &str),
) -> Result<(), String> {
    let got = answer.get("statusCode").and_then(Value::as_u64);
    if got != Some(u64::from(status)) {
        return Err(format!(
            "expected status {status}, the version answered {answer}"
        ));
    }
    let header_value = answer
        .get("headers")
        .and_then(Value::as_object)
        .and_then(|headers| {
            headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(header))
        })
        .and_then(|(_, value)| value.as_str());
    if header_value != Some(value) {
        return Err(format!(
            "expected {header}: {value}, the version answered {answer}"
        ));
    }
    let body = answer
        .get("body")
        .and_then(Value::as_str)
        .and_then(|body| serde_json::from_str::<Value>(body).ok());
    if body != Some(json!({"detail": detail})) {
        return Err(format!(
            "expected the body {{\"detail\": \"{detail}\"}}, the version answered {answer}"
        ));
    }
    Ok(())
}

/// The check of one function's new version, built once per cold start.
pub struct PreTrafficCheck<I, R> {
    pub invoker: I,
    pub reporter: R,
    pub probed: Probed,
    pub new_version: String,
}

impl<I: FunctionInvoker, R: DeploymentReporter> PreTrafficCheck<I, R> {
    /// Checks the new version, then reports the verdict to CodeDeploy, all
    /// before `deadline`. Errs only when the report itself failed.
    pub async fn run(
        &self,
        deployment_id: &str,
        execution_id: &str,
        deadline: Instant,
    ) -> Result<HookStatus, crate::ports::BoxError> {
        let status = match self.verdict(deadline - REPORT_MARGIN).await {
            Ok(()) => {
                tracing::info!(
                    deployment_id,
                    version = self.new_version,
                    status = "Succeeded",
                    "pre-traffic check passed"
                );
                HookStatus::Succeeded
            }
            Err(reason) => {
                tracing::error!(
                    deployment_id,
                    version = self.new_version,
                    status = "Failed",
                    reason,
                    "pre-traffic check failed; the version takes no traffic"
                );
                HookStatus::Failed
            }
        };
        let report = self.reporter.report(deployment_id, execution_id, status);
        match tokio::time::timeout_at(deadline.into(), report).await {
            Ok(Ok(())) => Ok(status),
            Ok(Err(e)) => Err(e),
            Err(_) => Err("CodeDeploy did not take the report before the hook's deadline".into()),
        }
    }

    /// `Ok` when every probe got the contract's answer before `by`;
    /// otherwise why not.
    pub async fn verdict(&self, by: Instant) -> Result<(), String> {
        for probe in probes(self.probed) {
            let invoked = self.invoke(&probe, by).await?;
            if let Some(error) = invoked.function_error {
                return Err(format!(
                    "{}: the version failed ({error}): {}",
                    probe.name,
                    String::from_utf8_lossy(&invoked.payload)
                ));
            }
            let answer: Value = serde_json::from_slice(&invoked.payload)
                .map_err(|e| format!("{}: the answer is not JSON: {e}", probe.name))?;
            probe
                .check(&answer)
                .map_err(|e| format!("{}: {e}", probe.name))?;
        }
        Ok(())
    }

    /// One invocation of the new version with the probe, bounded by `by`
    /// alone: a cold start may take seconds. Sent again only after Lambda
    /// throttled it, which means the version never saw it, so no two
    /// invocations of one probe ever overlap.
    async fn invoke(&self, probe: &Probe, by: Instant) -> Result<Invoked, String> {
        let payload = serde_json::to_vec(&probe.event).map_err(|e| e.to_string())?;
        let mut wait = FIRST_THROTTLED_WAIT;
        loop {
            let invoke = self.invoker.invoke(&self.new_version, payload.clone());
            match tokio::time::timeout_at(by.into(), invoke).await {
                Err(_) => {
                    return Err(format!(
                        "{}: no answer before the hook's deadline",
                        probe.name
                    ));
                }
                Ok(Ok(invoked)) => return Ok(invoked),
                Ok(Err(throttled @ InvokeError::Throttled(_))) => {
                    tracing::warn!(
                        probe = probe.name,
                        cause = %chain(&throttled),
                        wait_ms = wait.as_millis() as u64,
                        "Lambda throttled the probe; sent again"
                    );
                    tokio::time::sleep_until(by.min(Instant::now() + wait).into()).await;
                    wait = (wait * 2).min(LONGEST_THROTTLED_WAIT);
                }
                Ok(Err(e @ InvokeError::Failed(_))) => {
                    return Err(format!("{}: {}", probe.name, chain(&e)));
                }
            }
        }
    }
}
