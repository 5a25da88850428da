//! A webhook a disconnect could not remove, left for the cleanup worker
//! (CONTRACT §9). It names the hook and its owner; it holds no token,
//! ciphertext or secret, so the queue never does either.

use std::time::SystemTime;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// The message format this crate writes and reads (`"v"`).
pub const CLEANUP_JOB_VERSION: u64 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CleanupJob {
    pub user_id: String,
    /// The stored `repo_full_name`.
    pub repo: String,
    pub installation_id: String,
    pub webhook_id: u64,
    /// RFC 3339 UTC, as the disconnect wrote it on the installation.
    pub disconnected_at: String,
}

/// Why a message is not a job this worker can do.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Never a job: not JSON, fields missing or mistyped. The reason names
    /// the problem, never the body.
    #[error("not a cleanup job: {0}")]
    Malformed(String),
    /// A newer producer's format: a worker that knows it may do it.
    #[error("a cleanup job of version {0}, this worker knows {CLEANUP_JOB_VERSION}")]
    UnknownVersion(u64),
}

#[derive(Serialize)]
struct Versioned<'a> {
    v: u64,
    #[serde(flatten)]
    job: &'a CleanupJob,
}

impl CleanupJob {
    /// The SQS message body: `{"v": 1, "user_id": …, …}`.
    pub fn to_message(&self) -> String {
        serde_json::to_string(&Versioned {
            v: CLEANUP_JOB_VERSION,
            job: self,
        })
        .unwrap_or_default()
    }

    pub fn from_message(body: &str) -> Result<Self, JobError> {
        let malformed = |e: serde_json::Error| {
            JobError::Malformed(format!("{:?} error at column {}", e.classify(), e.column()))
        };
        let mut value: serde_json::Value = serde_json::from_str(body).map_err(malformed)?;
        let object = value
            .as_object_mut()
            .ok_or_else(|| JobError::Malformed("not a JSON object".into()))?;
        let version = object
            .remove("v")
            .ok_or_else(|| JobError::Malformed("no v".into()))?;
        match version.as_u64() {
            Some(CLEANUP_JOB_VERSION) => {}
            Some(newer) if newer > CLEANUP_JOB_VERSION => {
                return Err(JobError::UnknownVersion(newer));
            }
            _ => return Err(JobError::Malformed(format!("v is {version}"))),
        }
        serde_json::from_value(value).map_err(|e| JobError::Malformed(e.to_string()))
    }
}

/// `at` as the contract writes times: RFC 3339 UTC, to the microsecond.
pub fn rfc3339(at: SystemTime) -> String {
    DateTime::<Utc>::from(at).to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> CleanupJob {
        CleanupJob {
            user_id: "user-1".into(),
            repo: "acme/my-backend".into(),
            installation_id: "inst-1".into(),
            webhook_id: 42,
            disconnected_at: "2026-12-02T03:04:05.123456Z".into(),
        }
    }

    #[test]
    fn the_message_is_the_contracts_body() {
        let body: serde_json::Value = serde_json::from_str(&job().to_message()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "v": 1, "user_id": "user-1", "repo": "acme/my-backend",
                "installation_id": "inst-1", "webhook_id": 42,
                "disconnected_at": "2026-12-02T03:04:05.123456Z"
            })
        );
        assert_eq!(CleanupJob::from_message(&job().to_message()), Ok(job()));
    }

    #[test]
    fn a_newer_version_is_unknown_not_malformed() {
        let body = job().to_message().replace("\"v\":1", "\"v\":2");
        assert_eq!(
            CleanupJob::from_message(&body),
            Err(JobError::UnknownVersion(2))
        );
    }

    #[test]
    fn what_can_never_be_a_job_is_malformed() {
        for body in [
            "",
            "not json",
            "[1, 2]",
            r#"{"user_id": "u"}"#,
            r#"{"v": 0, "user_id": "u"}"#,
            r#"{"v": "1", "user_id": "u"}"#,
            r#"{"v": 1, "user_id": "u", "repo": "a/b", "installation_id": "i", "webhook_id": "42", "disconnected_at": "t"}"#,
            r#"{"v": 1, "user_id": "u", "repo": "a/b", "installation_id": "i", "disconnected_at": "t"}"#,
        ] {
            assert!(
                matches!(CleanupJob::from_message(body), Err(JobError::Malformed(_))),
                "{body}"
            );
        }
    }

    #[test]
    fn times_are_rfc3339_utc_to_the_microsecond() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_micros(1_796_180_645_123_456);
        assert_eq!(rfc3339(at), "2026-12-02T03:04:05.123456Z");
    }
}
