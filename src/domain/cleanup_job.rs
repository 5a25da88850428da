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
    /// Never a job: not JSON, fields missing or mistyped.
    #[error("not a cleanup job: {0}")]
    Malformed(Mistake),
    /// A newer producer's format: a worker that knows it may do it.
    #[error("a cleanup job of version {0}, this worker knows {CLEANUP_JOB_VERSION}")]
    UnknownVersion(u64),
}

/// What is wrong with a message: the field and the kind of mistake, never
/// anything the message holds, which anyone who may send to the queue
/// chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Mistake {
    #[error("not JSON ({0})")]
    NotJson(&'static str),
    #[error("not a JSON object")]
    NotAnObject,
    #[error("no {0}")]
    Missing(&'static str),
    #[error("{field} is not {expected}")]
    Mistyped {
        field: &'static str,
        expected: &'static str,
    },
    #[error("a field no cleanup job has")]
    UnknownField,
}

#[derive(Serialize)]
struct Versioned<'a> {
    v: u64,
    #[serde(flatten)]
    job: &'a CleanupJob,
}

type Object = serde_json::Map<String, serde_json::Value>;

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
        let malformed = JobError::Malformed;
        let value: serde_json::Value = serde_json::from_str(body)
            .map_err(|e| malformed(Mistake::NotJson(json_mistake(&e))))?;
        let mut object = match value {
            serde_json::Value::Object(object) => object,
            _ => return Err(malformed(Mistake::NotAnObject)),
        };
        let version = object.remove("v").ok_or(malformed(Mistake::Missing("v")))?;
        match version.as_u64() {
            Some(CLEANUP_JOB_VERSION) => {}
            Some(newer) if newer > CLEANUP_JOB_VERSION => {
                return Err(JobError::UnknownVersion(newer));
            }
            _ => {
                return Err(malformed(Mistake::Mistyped {
                    field: "v",
                    expected: "a known version",
                }));
            }
        }
        let job = Self {
            user_id: string(&mut object, "user_id")?,
            repo: string(&mut object, "repo")?,
            installation_id: string(&mut object, "installation_id")?,
            webhook_id: take(&mut object, "webhook_id", "a whole number", |v| v.as_u64())?,
            disconnected_at: string(&mut object, "disconnected_at")?,
        };
        if !object.is_empty() {
            return Err(malformed(Mistake::UnknownField));
        }
        Ok(job)
    }
}

fn string(object: &mut Object, field: &'static str) -> Result<String, JobError> {
    take(object, field, "a string", |value| match value {
        serde_json::Value::String(text) => Some(text.clone()),
        _ => None,
    })
}

/// Removes `field` from `object` and reads it with `read`.
fn take<T>(
    object: &mut Object,
    field: &'static str,
    expected: &'static str,
    read: impl FnOnce(&serde_json::Value) -> Option<T>,
) -> Result<T, JobError> {
    let value = object
        .remove(field)
        .ok_or(JobError::Malformed(Mistake::Missing(field)))?;
    read(&value).ok_or(JobError::Malformed(Mistake::Mistyped { field, expected }))
}

/// serde_json's own messages quote what they could not read.
fn json_mistake(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "a syntax error",
        serde_json::error::Category::Data => "a value out of range",
        serde_json::error::Category::Eof => "cut short",
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
    fn a_malformed_message_is_named_by_field_and_mistake_never_by_content() {
        let secret = "gho_QuotedNowhere";
        for (body, says) in [
            (
                format!("{secret} not json"),
                "not a cleanup job: not JSON (a syntax error)",
            ),
            (
                format!("[\"{secret}\"]"),
                "not a cleanup job: not a JSON object",
            ),
            (
                format!(r#"{{"v": "{secret}"}}"#),
                "not a cleanup job: v is not a known version",
            ),
            (
                job()
                    .to_message()
                    .replace("\"user-1\"", &format!("{{\"t\": \"{secret}\"}}")),
                "not a cleanup job: user_id is not a string",
            ),
            (
                job().to_message().replace("42", &format!("\"{secret}\"")),
                "not a cleanup job: webhook_id is not a whole number",
            ),
            (
                job()
                    .to_message()
                    .replace("\"repo\"", &format!("\"{secret}\"")),
                "not a cleanup job: no repo",
            ),
            (
                job()
                    .to_message()
                    .replace("{", &format!("{{\"{secret}\": 1, ")),
                "not a cleanup job: a field no cleanup job has",
            ),
        ] {
            let error = CleanupJob::from_message(&body).unwrap_err().to_string();
            assert_eq!(error, says, "{body}");
        }
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
