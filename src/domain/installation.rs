use std::fmt;

use serde::Serialize;

use super::{Ciphertext, GraphCounts, RepoName};

/// The Nectr user id, the `sub` of their JWT.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserId(String);

impl UserId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Nectr user's profile, as far as disconnecting needs it.
#[derive(Clone, Debug)]
pub struct User {
    /// Absent when the user never granted GitHub access or the item lost it.
    pub github_token: Option<Ciphertext>,
}

/// One connection of a repository to Nectr.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installation {
    /// The item's own sort key (`sk`), as the store read it: a
    /// deactivation addresses exactly the item that was found.
    pub sort_key: String,
    pub installation_id: String,
    /// `owner/repo` as GitHub spells it.
    pub repo_full_name: String,
    pub webhook_id: Option<u64>,
}

impl Installation {
    /// The repository to address on GitHub: the stored spelling when it is a
    /// valid name for the requested repository, otherwise the requested name
    /// (GitHub matches names case-insensitively either way).
    pub fn github_repo(&self, requested: &RepoName) -> RepoName {
        RepoName::parse_full_name(&self.repo_full_name)
            .ok()
            .filter(|stored| stored.same_repository(requested))
            .unwrap_or_else(|| requested.clone())
    }
}

/// The sort-key prefix shared by every installation of `repo` (CONTRACT
/// §3); `#` cannot occur in a valid name, so the prefix matches exactly one
/// repository.
pub fn installation_sk_prefix(repo: &RepoName) -> String {
    format!("{INSTALLATION_SK_PREFIX}{}#", repo.lowercase_full_name())
}

/// What every installation's sort key starts with (CONTRACT §3).
pub const INSTALLATION_SK_PREFIX: &str = "INSTALL#";

/// The sort key of installation `installation_id` of `repo`.
pub fn installation_sk(repo: &RepoName, installation_id: &str) -> String {
    format!("{}{installation_id}", installation_sk_prefix(repo))
}

impl Installation {
    /// Whether the stored `repo_full_name` and `installation_id` give back
    /// the item's own sort key: what a cleanup job, which names the item by
    /// them, needs.
    pub fn stored_name_names_its_key(&self) -> bool {
        RepoName::parse_full_name(&self.repo_full_name)
            .is_ok_and(|repo| installation_sk(&repo, &self.installation_id) == self.sort_key)
    }
}

/// An installation as the store holds it, active or not: what the cleanup
/// worker checks a job against (CONTRACT §9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstallationRecord {
    pub installation: Installation,
    pub is_active: bool,
    /// RFC 3339, as the disconnect wrote it; `None` while never disconnected.
    pub disconnected_at: Option<String>,
}

/// What happened to the repository's GitHub webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookOutcome {
    NotConfigured,
    Removed,
    AlreadyGone,
    /// GitHub failed transiently; the cleanup worker will remove it.
    Scheduled,
    Failed,
}

impl WebhookOutcome {
    pub const ALL: [Self; 5] = [
        Self::NotConfigured,
        Self::Removed,
        Self::AlreadyGone,
        Self::Scheduled,
        Self::Failed,
    ];

    /// How much a caller must know about it: when one disconnect leaves
    /// several hooks, the answer reports the outcome of highest concern, so
    /// a hook left behind is never hidden behind one that was removed.
    pub fn concern(self) -> u8 {
        match self {
            Self::NotConfigured => 0,
            Self::Removed => 1,
            Self::AlreadyGone => 2,
            Self::Scheduled => 3,
            Self::Failed => 4,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotConfigured => "not_configured",
            Self::Removed => "removed",
            Self::AlreadyGone => "already_gone",
            Self::Scheduled => "scheduled",
            Self::Failed => "failed",
        }
    }
}

/// A successful disconnect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disconnected {
    pub user_id: UserId,
    pub repo_full_name: String,
    /// Every installation this disconnect made inactive, in the order found.
    pub installation_ids: Vec<String>,
    /// When several installations were active, the outcome a user most needs
    /// to act on (`failed` beats the others).
    pub webhook: WebhookOutcome,
    /// With `failed`: the page where the user removes the hook by hand.
    pub webhook_settings_url: Option<String>,
    /// Left out when there is no graph or it could not be read in time.
    pub graph: Option<GraphCounts>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn installation(full_name: &str) -> Installation {
        Installation {
            sort_key: "INSTALL#acme/my-backend#i-1".into(),
            installation_id: "i-1".into(),
            repo_full_name: full_name.into(),
            webhook_id: Some(1),
        }
    }

    #[test]
    fn github_repo_prefers_the_stored_spelling() {
        let requested = RepoName::parse("ACME", "MY-BACKEND").unwrap();
        let repo = installation("acme/My-Backend").github_repo(&requested);
        assert_eq!(repo.to_string(), "acme/My-Backend");
    }

    #[test]
    fn github_repo_falls_back_to_the_request_when_the_stored_name_is_unusable() {
        let requested = RepoName::parse("acme", "my-backend").unwrap();
        for stored in ["acme/other", "not a name", ""] {
            assert_eq!(installation(stored).github_repo(&requested), requested);
        }
    }

    #[test]
    fn webhook_outcomes_serialize_as_the_contract_names_them() {
        for outcome in [
            WebhookOutcome::NotConfigured,
            WebhookOutcome::Removed,
            WebhookOutcome::AlreadyGone,
            WebhookOutcome::Scheduled,
            WebhookOutcome::Failed,
        ] {
            assert_eq!(
                serde_json::to_value(outcome).unwrap(),
                serde_json::Value::from(outcome.as_str())
            );
        }
    }
}
