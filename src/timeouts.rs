//! Every timeout and deadline of the two functions, in one place. An invocation has
//! a deadline (Lambda's, less `ANSWER_MARGIN`), and every dependency call
//! runs against it: past it the call is abandoned and the dependency counts
//! as unavailable, so the answer still leaves in time. The caller of a port
//! holds the deadline and bounds each call with [`within`] or [`before`];
//! no port takes one, so a port that never answers cannot hold the answer
//! back. Inside the deadline, each call has its own bound, kept by its
//! adapter:
//!
//! | what | bound | where it is set |
//! |---|---|---|
//! | an AWS call | 1 s to connect, 2 s an attempt, 5 s with retries | `AWS_*` below |
//! | the webhook removal, redirects included | `GITHUB_TIMEOUT_MS` (3 s) | `Config` |
//! | the code graph read, credentials and handshake included | `NEO4J_TIMEOUT_MS` (1 s) | `Config` |
//! | reading an item back after an unanswered update | `READ_BACK_RESERVE` kept for it | below |
//! | queueing the cleanup job of a removal the deadline cut short | `QUEUE_SEND_RESERVE` kept for it | below |
//! | an init warm-up step | `WARM_UP_STEP` | below |
//! | signing keys | `JWT_KEY_TTL_SECONDS` (300 s), `JWT_KEY_STALE_SECONDS` (3600 s) | `Config` |
//! | a signing-key refresh after a bad signature or a failure | once per `KEY_REFRESH_INTERVAL` | below |
//! | a cleanup job's first try, its retries | `FIRST_CLEANUP_DELAY`; `FIRST_RETRY` doubling to `LONGEST_RETRY` | below |
//! | a wait GitHub asks for in a header | at most `LONGEST_GITHUB_WAIT` | below |
//! | one cleanup job, GitHub's timeout and its six AWS calls at theirs | `time_per_cleanup_job` | below |
//! | a retried job's next delivery | what is left of SQS's 12 h from its receipt | `visibility_left` |

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_http::Context;
use tokio::time::Timeout;

use crate::domain::RepoName;
use crate::ports::{Dependency, DependencyError, WebhookRemoval};

/// Time kept back from the invocation deadline for writing the answer.
pub const ANSWER_MARGIN: Duration = Duration::from_millis(250);
/// The AWS SDK's own limits, so that a silent dependency cannot hold an
/// invocation until Lambda kills it.
pub const AWS_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
pub const AWS_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
pub const AWS_OPERATION_TIMEOUT: Duration = Duration::from_secs(5);
/// Kept back from the deadline to read an item back after an update that
/// ended without an answer.
pub const READ_BACK_RESERVE: Duration = Duration::from_millis(300);
/// Kept back from the deadline, when a cleanup queue is configured, to send
/// the job of a webhook removal the deadline cut short: it is a time-out
/// like any other, and `scheduled`, not `failed` (CONTRACT §6, §9). A
/// `SendMessage` in the function's region takes tens of milliseconds, a
/// new TLS connection included.
pub const QUEUE_SEND_RESERVE: Duration = Duration::from_millis(500);
/// Init must not hang on a silent dependency: past this a warm-up step is
/// left to the first request, which retries it under its own deadline.
pub const WARM_UP_STEP: Duration = Duration::from_secs(2);
/// A signature that fails against cached keys may mean the key was
/// rotated; refetching is allowed this often, and a failed refresh is
/// retried this often, so bad tokens and an outage cannot hammer the secret.
pub const KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(30);
/// GitHub just failed: the cleanup worker's first try waits at least this.
pub const FIRST_CLEANUP_DELAY: Duration = Duration::from_secs(60);
/// A failed cleanup attempt waits about this long, each next one twice as
/// long ...
pub const FIRST_RETRY: Duration = Duration::from_secs(60);
/// ... but never longer than this (before jitter, and unless GitHub asks
/// for longer).
pub const LONGEST_RETRY: Duration = Duration::from_secs(3_600);
/// The AWS calls one cleanup job makes at most: its installation, the
/// in-use check before and after the token, the user item, the decryption
/// and the postponement. Each is a few milliseconds when AWS is healthy,
/// but each may take `AWS_OPERATION_TIMEOUT`, and the budget is the worst.
pub const CLEANUP_JOB_AWS_CALLS: u32 = 6;
/// The longest wait a GitHub header (`Retry-After`, `X-RateLimit-Reset`)
/// can ask for: SQS's longest visibility timeout. The queue's longest
/// delivery delay, 15 min, bounds a first try further, and what is left of
/// the visibility a retry.
pub const LONGEST_GITHUB_WAIT: Duration = LONGEST_VISIBILITY;
/// SQS's longest visibility timeout, counted from the message's receipt:
/// `ChangeMessageVisibility` past it fails.
pub const LONGEST_VISIBILITY: Duration = Duration::from_secs(12 * 3_600);
/// Kept back from it: the event source mapping received the batch before
/// the invocation began, how long before no event says.
pub const RECEIPT_MARGIN: Duration = Duration::from_secs(300);
/// Used when the event carries no Lambda deadline (local tools, tests):
/// every call's own bound still applies, and a cleanup batch, whose jobs
/// are each begun only with their worst case left, is not handed back.
const DEFAULT_TIME_LEFT: Duration = LONGEST_INVOCATION;
/// Lambda's longest timeout: no deadline an event carries is later.
const LONGEST_INVOCATION: Duration = Duration::from_secs(900);
/// 2020-01-01 in epoch milliseconds. Lambda's deadline is an epoch time;
/// local emulators send 0 or a duration (`cargo lambda watch` sends 600000),
/// which would otherwise read as long past and leave no time for GitHub.
const PLAUSIBLE_DEADLINE_MS: u64 = 1_577_836_800_000;

/// When every dependency call of this invocation must have given up, so
/// that the answer still makes it out before Lambda's own deadline.
pub fn deadline(context: Option<&Context>) -> Instant {
    let now = Instant::now();
    let left = time_left(context)
        .saturating_sub(ANSWER_MARGIN)
        .min(LONGEST_INVOCATION);
    now.checked_add(left).unwrap_or(now)
}

fn time_left(context: Option<&Context>) -> Duration {
    let Some(deadline_ms) = context
        .map(|c| c.deadline)
        .filter(|d| *d > PLAUSIBLE_DEADLINE_MS)
    else {
        return DEFAULT_TIME_LEFT;
    };
    let Some(deadline) = UNIX_EPOCH.checked_add(Duration::from_millis(deadline_ms)) else {
        return LONGEST_INVOCATION;
    };
    deadline
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
}

/// What a webhook removal the deadline cut short comes to: no answer,
/// worth asking again. Logged as the GitHub adapter logs GitHub's own
/// silence, so the operator sees the one as the other.
pub fn removal_cut_short(repo: &RepoName, webhook_id: u64) -> WebhookRemoval {
    tracing::warn!(
        repo = %repo,
        webhook_id,
        cause = %DeadlineReached,
        "GitHub did not answer"
    );
    WebhookRemoval::UNANSWERED
}

/// `timeout` from now: when a call with that bound must have given up. A
/// bound longer than any invocation is as good as none.
pub fn from_now(timeout: Duration) -> Instant {
    Instant::now() + timeout.min(LONGEST_INVOCATION)
}

/// The time one cleanup job needs at worst: each of its AWS calls taking
/// the SDK's whole operation timeout, and GitHub's removal timing out. The
/// worker's timeout is sized from it (template.yaml), and a batch takes no
/// job with less time left.
pub fn time_per_cleanup_job(github_timeout: Duration) -> Duration {
    worst_cleanup_job(AWS_OPERATION_TIMEOUT, github_timeout)
}

/// One cleanup job when every AWS call takes `aws_call` and GitHub
/// `github`.
pub fn worst_cleanup_job(aws_call: Duration, github: Duration) -> Duration {
    aws_call
        .saturating_mul(CLEANUP_JOB_AWS_CALLS)
        .saturating_add(github)
}

/// How long a message received no later than `invoked` may still be kept
/// invisible from now: what is left of SQS's 12 hours, less the margin.
pub fn visibility_left(invoked: Instant) -> Duration {
    LONGEST_VISIBILITY
        .saturating_sub(RECEIPT_MARGIN)
        .saturating_sub(invoked.elapsed())
}

/// Why a call was abandoned.
#[derive(Debug, thiserror::Error)]
#[error("the invocation deadline was reached")]
pub struct DeadlineReached;

/// Bounds a port call by the invocation's deadline: its answer, or `Err`
/// when the deadline came first and the call was abandoned.
pub fn before<F: Future>(deadline: Instant, call: F) -> Timeout<F> {
    tokio::time::timeout_at(deadline.into(), call)
}

/// [`before`] for a call that can fail: past the deadline, the dependency
/// counts as unavailable.
pub async fn within<T, E>(
    deadline: Instant,
    dependency: Dependency,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, E>
where
    E: From<DependencyError>,
{
    before(deadline, call)
        .await
        .unwrap_or_else(|_| Err(DependencyError::unavailable(dependency, DeadlineReached).into()))
}
