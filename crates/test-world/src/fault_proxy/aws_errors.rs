//! The AWS errors the proxy answers with, in each service's own protocol.

use super::AwsError;

/// The service's own error for failing inside.
pub(super) fn server_error(service: &str) -> AwsError {
    let code = match service {
        "DynamoDB_20120810" => "InternalServerError",
        "TrentService" => "KMSInternalException",
        "secretsmanager" => "InternalServiceError",
        _ => "InternalFailure",
    };
    AwsError {
        status: 500,
        code,
        message: "injected by the fault proxy",
    }
}

/// The service's own error for a caller over its request rate.
pub(super) fn throttled(service: &str) -> AwsError {
    let code = match service {
        "DynamoDB_20120810" => "ProvisionedThroughputExceededException",
        _ => "ThrottlingException",
    };
    AwsError {
        status: 400,
        code,
        message: "injected by the fault proxy",
    }
}

/// `error` in the service's protocol: DynamoDB speaks JSON 1.0 and puts a
/// namespace in front of the code (IAM's and validation's errors come from
/// AWS's shared front end, `com.amazon.coral`), KMS and Secrets Manager
/// speak JSON 1.1 with the bare code.
pub(super) fn aws_error(service: &str, error: AwsError) -> Vec<u8> {
    let (content_type, error_type) = match service {
        "DynamoDB_20120810" => {
            let namespace = match error.code {
                "AccessDeniedException" | "UnrecognizedClientException" => {
                    "com.amazon.coral.service"
                }
                "ValidationException" => "com.amazon.coral.validate",
                _ => "com.amazonaws.dynamodb.v20120810",
            };
            (
                "application/x-amz-json-1.0",
                format!("{namespace}#{}", error.code),
            )
        }
        _ => ("application/x-amz-json-1.1", error.code.to_owned()),
    };
    let body = serde_json::json!({"__type": error_type, "message": error.message}).to_string();
    let reason = match error.status {
        400 => "Bad Request",
        403 => "Forbidden",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    };
    format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        error.status,
        body.len()
    )
    .into_bytes()
}
