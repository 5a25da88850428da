//! Every dependency call runs against the invocation's deadline: past it,
//! the call is abandoned and the dependency counts as unavailable, so the
//! answer still leaves before Lambda ends the invocation.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_http::Context;

use crate::ports::{Dependency, DependencyError};

/// Time kept back from the invocation deadline for writing the answer.
const ANSWER_MARGIN: Duration = Duration::from_millis(250);
/// Used when the event carries no Lambda deadline (local tools, tests); the
/// GitHub adapter's own timeout still applies.
const DEFAULT_TIME_LEFT: Duration = Duration::from_secs(30);
/// 2020-01-01 in epoch milliseconds. Lambda's deadline is an epoch time;
/// local emulators send 0 or a duration (`cargo lambda watch` sends 600000),
/// which would otherwise read as long past and leave no time for GitHub.
const PLAUSIBLE_DEADLINE_MS: u64 = 1_577_836_800_000;

/// When every dependency call of this invocation must have given up, so
/// that the answer still makes it out before Lambda's own deadline.
pub fn deadline(context: Option<&Context>) -> Instant {
    Instant::now() + time_left(context).saturating_sub(ANSWER_MARGIN)
}

fn time_left(context: Option<&Context>) -> Duration {
    let Some(deadline_ms) = context
        .map(|c| c.deadline)
        .filter(|d| *d > PLAUSIBLE_DEADLINE_MS)
    else {
        return DEFAULT_TIME_LEFT;
    };
    let deadline = UNIX_EPOCH + Duration::from_millis(deadline_ms);
    deadline
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
}

#[derive(Debug, thiserror::Error)]
#[error("the invocation deadline was reached")]
struct DeadlineReached;

/// Bounds a dependency call by the request's deadline: past it the call is
/// abandoned and the dependency counts as unavailable.
pub async fn within<T, E>(
    deadline: Instant,
    dependency: Dependency,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, E>
where
    E: From<DependencyError>,
{
    match tokio::time::timeout_at(deadline.into(), call).await {
        Ok(result) => result,
        Err(_) => Err(DependencyError::unavailable(dependency, DeadlineReached).into()),
    }
}
