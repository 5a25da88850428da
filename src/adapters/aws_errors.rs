//! What an AWS error means for the user and for the operator (CONTRACT §1),
//! decided here for the three AWS adapters: the ciphertext's fault (401),
//! worth a retry (503), the deployment's fault (500 and an alarm), or
//! anything else (500). By the codes and messages AWS documents, not by
//! what an emulator happens to send.

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

/// The service failing inside or waiting on its own dependency.
const SERVICE_FAULT_CODES: &[&str] = &[
    "InternalServerError",
    "InternalServiceError",
    "InternalFailure",
    "ServiceUnavailable",
    "KMSInternalException",
    "KeyUnavailableException",
    "DependencyTimeoutException",
];

/// The deployment is wrong: every request will fail the same way until an
/// operator acts. (An `AccessDeniedException` about a ciphertext is sorted
/// out before these.)
const DEPLOYMENT_CODES: &[&str] = &[
    "AccessDeniedException",
    "AccessDenied",
    "DisabledException",
    "KMSInvalidStateException",
    "ResourceNotFoundException",
    "NotFoundException",
    // Secrets Manager may not use the KMS key the secret is encrypted under.
    "DecryptionFailure",
];

/// KMS refusing a ciphertext for good: another key's, another context's,
/// or not a ciphertext at all.
const CIPHERTEXT_CODES: &[(&str, &str)] = &[
    (
        "InvalidCiphertextException",
        "KMS: invalid ciphertext or encryption context",
    ),
    ("IncorrectKeyException", "KMS: encrypted under another key"),
];

/// What an error means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Meaning {
    /// The ciphertext will never decrypt here: the user signs in again.
    CiphertextRefused(&'static str),
    Transient,
    Deployment,
    Unexpected,
}

/// The meaning of an answer with this HTTP status, error code and message.
pub(crate) fn meaning(status: u16, code: Option<&str>, message: Option<&str>) -> Meaning {
    let code = code.unwrap_or_default();
    let message = message.unwrap_or_default().to_ascii_lowercase();
    if let Some((_, reason)) = CIPHERTEXT_CODES.iter().find(|(c, _)| *c == code) {
        return Meaning::CiphertextRefused(reason);
    }
    // KMS's answer for a ciphertext whose key is in another account or
    // region, or gone: "The ciphertext refers to a customer master key that
    // does not exist, does not exist in this region, or you are not allowed
    // to access." An IAM denial names the caller and the action instead.
    if code == "AccessDeniedException" && message.contains("ciphertext refers to") {
        return Meaning::CiphertextRefused(
            "KMS: the ciphertext's key is not one this function may use",
        );
    }
    // KMS's answer for a ciphertext outside its limits: "1 validation error
    // detected: Value at 'ciphertextBlob' failed to satisfy constraint: …".
    if code == "ValidationException" && message.contains("ciphertextblob") {
        return Meaning::CiphertextRefused("KMS: the ciphertext is outside KMS's limits");
    }
    if DEPLOYMENT_CODES.contains(&code)
        || (code == "ValidationException"
            && message.contains("key element does not match the schema"))
        || (code == "InvalidRequestException" && message.contains("for deletion"))
    {
        return Meaning::Deployment;
    }
    if THROTTLING_CODES.contains(&code)
        || SERVICE_FAULT_CODES.contains(&code)
        || status == 429
        || (500..600).contains(&status)
    {
        return Meaning::Transient;
    }
    Meaning::Unexpected
}

/// The meaning of any SDK error: time-outs, network failures, truncated or
/// unreadable answers are transient; the service's answers by [`meaning`].
pub(crate) fn meaning_of<E>(error: &SdkError<E, HttpResponse>) -> Meaning
where
    E: ProvideErrorMetadata,
{
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Meaning::Transient
        }
        SdkError::ServiceError(e) => {
            let status = e.raw().status();
            // A success status whose body could not be read is a garbled
            // answer, not a refusal.
            if status.is_success() {
                return Meaning::Transient;
            }
            meaning(status.as_u16(), e.err().code(), e.err().message())
        }
        _ => Meaning::Unexpected,
    }
}

/// Classifies an SDK error of `dependency`, made on `resource` (the table,
/// key or secret it named), for the use case.
pub(crate) fn classify<E>(
    dependency: Dependency,
    resource: &str,
    error: SdkError<E, HttpResponse>,
) -> DependencyError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match meaning_of(&error) {
        Meaning::Transient => DependencyError::unavailable(dependency, error),
        Meaning::Deployment => {
            let code = error.code().unwrap_or("unknown").to_owned();
            DependencyError::misconfigured(dependency, code, resource, error)
        }
        // Only KMS's Decrypt can refuse a ciphertext; its adapter asks
        // [`meaning_of`] first. Anywhere else the code is unexpected.
        Meaning::CiphertextRefused(_) | Meaning::Unexpected => {
            DependencyError::failed(dependency, error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ciphertext_under_another_key_context_or_account_is_the_ciphertexts_fault() {
        for (code, message) in [
            ("InvalidCiphertextException", ""),
            ("IncorrectKeyException", ""),
            (
                "AccessDeniedException",
                "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
            ),
            // KMS Decrypt's CiphertextBlob takes 1 to 6144 bytes.
            (
                "ValidationException",
                "1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ),
            (
                "ValidationException",
                "1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length less than or equal to 6144",
            ),
        ] {
            assert!(
                matches!(
                    meaning(400, Some(code), Some(message)),
                    Meaning::CiphertextRefused(_)
                ),
                "{code}"
            );
        }
    }

    #[test]
    fn an_iam_denial_disabled_or_missing_resource_is_the_deployments_fault() {
        for (code, message) in [
            (
                "AccessDeniedException",
                "User: arn:aws:sts::111122223333:assumed-role/nectr/fn is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:111122223333:key/1234abcd because no identity-based policy allows the kms:Decrypt action",
            ),
            (
                "DisabledException",
                "arn:aws:kms:us-east-1:111122223333:key/1234abcd is disabled.",
            ),
            ("KMSInvalidStateException", "is pending deletion."),
            ("NotFoundException", "Key 'arn:aws:kms:…' does not exist"),
            ("ResourceNotFoundException", "Requested resource not found"),
            (
                "ValidationException",
                "The provided key element does not match the schema",
            ),
            (
                "DecryptionFailure",
                "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
            ),
            (
                "InvalidRequestException",
                "You can't perform this operation on the secret because it was marked for deletion.",
            ),
        ] {
            assert_eq!(
                meaning(400, Some(code), Some(message)),
                Meaning::Deployment,
                "{code}"
            );
        }
    }

    #[test]
    fn throttling_and_service_faults_are_transient() {
        for (status, code) in [
            (400, "ThrottlingException"),
            (400, "ProvisionedThroughputExceededException"),
            (400, "RequestLimitExceeded"),
            (500, "InternalServerError"),
            (500, "InternalServiceError"),
            (500, "KMSInternalException"),
            (500, "KeyUnavailableException"),
            (500, "DependencyTimeoutException"),
            (503, "ServiceUnavailable"),
            (502, ""),
        ] {
            assert_eq!(
                meaning(status, Some(code), None),
                Meaning::Transient,
                "{code}"
            );
        }
    }

    #[test]
    fn anything_else_is_unexpected() {
        for code in [
            "ValidationException",
            "SerializationException",
            "UnknownOperationException",
        ] {
            assert_eq!(
                meaning(400, Some(code), Some("1 validation error detected")),
                Meaning::Unexpected,
                "{code}"
            );
        }
    }
}
