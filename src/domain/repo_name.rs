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
const MIN_SHORTCODE_LEN: usize = 3;
const MAX_SHORTCODE_LEN: usize = 8;

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

/// Every login some GitHub gives an account (CONTRACT §1).
///
/// - github.com users and organizations: letters, digits and hyphens, at
///   most 39. Today's sign-up form also refuses a hyphen at either end and
///   two in a row, but accounts made before that rule keep their logins
///   (`-ACE-`, `Link-`, `0----0` are live: shinnn/github-username-regex
///   issues 1 and 7), and GitHub serves them.
/// - Enterprise Server: logins normalized from an external identity hold
///   only letters, digits and single inner hyphens, at most 39 (GitHub Docs,
///   "Username considerations for external authentication"), a subset of
///   the above; built-in accounts follow github.com's rules.
/// - Enterprise Managed Users: `HANDLE_SHORTCODE`, the handle normalized as
///   above, then an underscore and the enterprise's shortcode of 3 to 8
///   letters and digits, 39 in all (the same page, GitHub Enterprise Cloud);
///   the setup user is `SHORTCODE_admin`, of the same shape.
///
/// A login of hyphens alone, any other character, or an underscore in any
/// other place is no account's on any GitHub.
fn is_valid_owner(owner: &str) -> bool {
    if !(1..=MAX_OWNER_LEN).contains(&owner.len()) {
        return false;
    }
    match owner.split_once('_') {
        None => is_login(owner),
        Some((handle, shortcode)) => is_normalized_handle(handle) && is_shortcode(shortcode),
    }
}

fn is_login(login: &str) -> bool {
    login.bytes().any(|b| b.is_ascii_alphanumeric())
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Letters and digits in runs joined by single hyphens.
fn is_normalized_handle(handle: &str) -> bool {
    handle
        .split('-')
        .all(|run| !run.is_empty() && run.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn is_shortcode(shortcode: &str) -> bool {
    (MIN_SHORTCODE_LEN..=MAX_SHORTCODE_LEN).contains(&shortcode.len())
        && shortcode.bytes().all(|b| b.is_ascii_alphanumeric())
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

    /// Owners some GitHub serves, each with where its rule comes from.
    const OWNERS_GITHUB_ACCEPTS: &[(&str, &str)] = &[
        ("octocat", "github.com, today's sign-up rules"),
        ("A", "github.com: one character is a login"),
        ("mona-the-octocat", "github.com: single inner hyphens"),
        ("2048", "github.com: digits alone"),
        (
            "-ACE-",
            "github.com: a legacy login with hyphens at both ends",
        ),
        ("Link-", "github.com: a legacy login ending in a hyphen"),
        ("0----0", "github.com: a legacy login with hyphens in a row"),
        (
            "The-Octocat",
            "Enterprise Server: a normalized external identity",
        ),
        (
            "mona-cat_octo",
            "Enterprise Managed Users: HANDLE_SHORTCODE",
        ),
        (
            "The-Octocat_OCTO1234",
            "Enterprise Managed Users: an 8-character shortcode",
        ),
        (
            "octo_admin",
            "Enterprise Managed Users: the setup user, SHORTCODE_admin",
        ),
        ("2abvd19d_admin", "GHE.com (data residency): the setup user"),
        (
            "mona_abc",
            "Enterprise Managed Users: a 3-character shortcode",
        ),
    ];

    /// Owners no GitHub gives any account.
    const OWNERS_NO_GITHUB_ACCEPTS: &[(&str, &str)] = &[
        ("", "empty"),
        ("-", "hyphens alone"),
        ("--", "hyphens alone"),
        ("ac.me", "a dot: every GitHub normalizes it to a hyphen"),
        ("ac_me", "a shortcode is 3 to 8 characters"),
        ("mona_octo12345", "a shortcode is 3 to 8 characters"),
        ("_octo", "an EMU handle is never empty"),
        ("mona_", "an EMU shortcode is never empty"),
        ("a_b_c", "one underscore, before the shortcode"),
        (
            "-mona_octo",
            "a normalized EMU handle never starts with a hyphen",
        ),
        (
            "mona-_octo",
            "a normalized EMU handle never ends with a hyphen",
        ),
        (
            "mo--na_octo",
            "a normalized EMU handle never has two hyphens in a row",
        ),
        ("mona_oc-to", "a shortcode has no special characters"),
        ("acmé", "ASCII letters only"),
        ("ac me", "no spaces"),
        ("ac%me", "no percent signs"),
    ];

    #[test]
    fn accepts_every_owner_some_github_serves() {
        for (owner, source) in OWNERS_GITHUB_ACCEPTS {
            assert!(RepoName::parse(owner, "repo").is_ok(), "{owner}: {source}");
        }
        let longest_emu = format!("{}_octo1234", "m".repeat(30));
        for owner in ["o".repeat(39), longest_emu] {
            assert!(RepoName::parse(&owner, "repo").is_ok(), "{owner}");
        }
    }

    #[test]
    fn refuses_every_owner_no_github_serves() {
        for (owner, why) in OWNERS_NO_GITHUB_ACCEPTS {
            assert_eq!(
                RepoName::parse(owner, "repo"),
                Err(InvalidRepoName),
                "{owner:?}: {why}"
            );
        }
        let too_long_emu = format!("{}_octo1234", "m".repeat(31));
        for owner in ["o".repeat(40), too_long_emu] {
            assert_eq!(
                RepoName::parse(&owner, "repo"),
                Err(InvalidRepoName),
                "{owner}"
            );
        }
    }

    #[test]
    fn accepts_repository_names_github_accepts() {
        for name in [
            "my-backend",
            "b",
            ".github",
            "under_score.dot-dash",
            &"r".repeat(100),
        ] {
            assert!(RepoName::parse("acme", name).is_ok(), "{name}");
        }
    }

    #[test]
    fn refuses_repository_names_github_refuses() {
        for name in [
            "",
            ".",
            "..",
            "a/b",
            "a b",
            "a\u{0}b",
            "a\nb",
            "repö",
            "a#b",
            &"r".repeat(101),
        ] {
            assert_eq!(
                RepoName::parse("acme", name),
                Err(InvalidRepoName),
                "{name:?}"
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
