//! Sorting AWS SDK failures into "retry later" and "something is wrong",
//! shared by the three AWS adapters.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::ports::{Dependency, DependencyError};

/// Error codes AWS services use when a caller is over its request rate.
const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "LimitExceededException",
];

pub(crate) fn is_throttling(code: Option<&str>) -> bool {
    code.is_some_and(|code| THROTTLING_CODES.contains(&code))
}

/// Classifies any SDK error of `dependency`: throttling, time-outs, network
/// failures, truncated or unreadable answers and the service's own 5xx are
/// transient.
pub(crate) fn classify<E>(
    dependency: Dependency,
    error: SdkError<E, HttpResponse>,
) -> DependencyError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let transient = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(e) => {
            let status = e.raw().status();
            // A success status whose body could not be read is a garbled
            // answer, not a refusal.
            status.is_success()
                || status.is_server_error()
                || status.as_u16() == 429
                || is_throttling(e.err().code())
        }
        _ => false,
    };
    if transient {
        DependencyError::unavailable(dependency, error)
    } else {
        DependencyError::failed(dependency, error)
    }
}
