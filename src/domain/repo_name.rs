use std::fmt;

/// A repository name that GitHub could accept.
///
/// Holding one means `owner` and `name` passed GitHub's naming rules, so they
/// are safe to put in a DynamoDB key or a GitHub URL without escaping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoName {
    owner: String,
    name: String,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a repository name GitHub accepts")]
pub struct InvalidRepoName;

const MAX_OWNER_LEN: usize = 39;
const MAX_NAME_LEN: usize = 100;

impl RepoName {
    pub fn parse(owner: &str, name: &str) -> Result<Self, InvalidRepoName> {
        if is_valid_owner(owner) && is_valid_name(name) {
            Ok(Self {
                owner: owner.to_owned(),
                name: name.to_owned(),
            })
        } else {
            Err(InvalidRepoName)
        }
    }

    /// Parses `owner/name`, as stored in `repo_full_name`.
    pub fn parse_full_name(full_name: &str) -> Result<Self, InvalidRepoName> {
        let (owner, name) = full_name.split_once('/').ok_or(InvalidRepoName)?;
        Self::parse(owner, name)
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// GitHub names are case-insensitive; this is the form keys are built from.
    pub fn lowercase_full_name(&self) -> String {
        self.to_string().to_ascii_lowercase()
    }

    pub fn same_repository(&self, other: &RepoName) -> bool {
        self.owner.eq_ignore_ascii_case(&other.owner) && self.name.eq_ignore_ascii_case(&other.name)
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

fn is_valid_owner(owner: &str) -> bool {
    (1..=MAX_OWNER_LEN).contains(&owner.len())
        && !owner.starts_with('-')
        && owner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn is_valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_names_github_accepts() {
        for (owner, name) in [
            ("acme", "my-backend"),
            ("A", "b"),
            ("a-b-c", ".github"),
            ("x1", "under_score.dot-dash"),
            (&"o".repeat(39), &"r".repeat(100)),
        ] {
            assert!(RepoName::parse(owner, name).is_ok(), "{owner}/{name}");
        }
    }

    #[test]
    fn rejects_names_github_refuses() {
        for (owner, name) in [
            ("", "repo"),
            ("acme", ""),
            ("-acme", "repo"),
            ("ac_me", "repo"),
            ("ac.me", "repo"),
            ("acme", "."),
            ("acme", ".."),
            ("acme", "a/b"),
            ("acme", "a b"),
            ("acme", "a\u{0}b"),
            ("acme", "a\nb"),
            ("acmé", "repo"),
            ("acme", "repö"),
            ("acme", "a#b"),
            (&"o".repeat(40), "repo"),
            ("acme", &"r".repeat(101)),
        ] {
            assert_eq!(
                RepoName::parse(owner, name),
                Err(InvalidRepoName),
                "{owner:?}/{name:?}"
            );
        }
    }

    #[test]
    fn full_name_round_trips() {
        let repo = RepoName::parse_full_name("Acme/My-Backend").unwrap();
        assert_eq!(repo.to_string(), "Acme/My-Backend");
        assert_eq!(repo.lowercase_full_name(), "acme/my-backend");
        assert!(RepoName::parse_full_name("acme").is_err());
        assert!(RepoName::parse_full_name("acme/a/b").is_err());
    }

    #[test]
    fn same_repository_ignores_case() {
        let a = RepoName::parse("ACME", "My-Backend").unwrap();
        let b = RepoName::parse("acme", "my-backend").unwrap();
        let c = RepoName::parse("acme", "my-frontend").unwrap();
        assert!(a.same_repository(&b));
        assert!(!a.same_repository(&c));
    }
}
