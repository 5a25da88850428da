//! Configuration (CONTRACT §7), read once at cold start.

use std::time::Duration;

use reqwest::Url;
use url::Host;

use crate::auth::{JwtRules, KeyLifetime};
use crate::pre_traffic::Probed;

/// A variable the functions read, and what it means in a line: DESIGN.md's
/// table is these lines (`tests/suite/docs.rs`), the template must set
/// each (`tests/suite/deploy.rs`).
#[derive(Clone, Copy, Debug)]
pub struct Variable {
    pub name: &'static str,
    /// `yes`, `no`, or when it is.
    pub required: &'static str,
    pub means: &'static str,
}

pub const TABLE_NAME: &str = "TABLE_NAME";
pub const JWT_SECRET_ID: &str = "JWT_SECRET_ID";
pub const KMS_KEY_ID: &str = "KMS_KEY_ID";
pub const GITHUB_API_URL: &str = "GITHUB_API_URL";
pub const GITHUB_TIMEOUT_MS: &str = "GITHUB_TIMEOUT_MS";
pub const JWT_ISSUER: &str = "JWT_ISSUER";
pub const JWT_AUDIENCE: &str = "JWT_AUDIENCE";
pub const JWT_KEY_TTL_SECONDS: &str = "JWT_KEY_TTL_SECONDS";
pub const JWT_KEY_STALE_SECONDS: &str = "JWT_KEY_STALE_SECONDS";
pub const JWT_PREVIOUS_KEY_SECONDS: &str = "JWT_PREVIOUS_KEY_SECONDS";
pub const ALLOWED_ORIGINS: &str = "ALLOWED_ORIGINS";
pub const CLEANUP_QUEUE_URL: &str = "CLEANUP_QUEUE_URL";
pub const WARM_UP_ON_INIT: &str = "WARM_UP_ON_INIT";
pub const NEO4J_URI: &str = "NEO4J_URI";
pub const NEO4J_SECRET_ID: &str = "NEO4J_SECRET_ID";
pub const NEO4J_TIMEOUT_MS: &str = "NEO4J_TIMEOUT_MS";
pub const POWERTOOLS_SERVICE_NAME: &str = "POWERTOOLS_SERVICE_NAME";
pub const POWERTOOLS_METRICS_NAMESPACE: &str = "POWERTOOLS_METRICS_NAMESPACE";

/// Every variable of CONTRACT §7 the functions read, the AWS SDK's own
/// and what Lambda sets aside.
pub const VARIABLES: [Variable; 18] = [
    Variable {
        name: TABLE_NAME,
        required: "yes",
        means: "the DynamoDB table of users and installations (CONTRACT §3)",
    },
    Variable {
        name: JWT_SECRET_ID,
        required: "yes",
        means: "the Secrets Manager secret, id or ARN, whose `SecretString` is the HS256 signing key",
    },
    Variable {
        name: KMS_KEY_ID,
        required: "yes",
        means: "the KMS key, id, ARN or alias, that encrypts GitHub OAuth tokens",
    },
    Variable {
        name: GITHUB_API_URL,
        required: "no",
        means: "GitHub's REST API, `https://` only (`http://` for a loopback host); default `https://api.github.com`",
    },
    Variable {
        name: GITHUB_TIMEOUT_MS,
        required: "no",
        means: "bound on one webhook removal, in ms; default 3000",
    },
    Variable {
        name: JWT_ISSUER,
        required: "no",
        means: "the `iss` a token must carry, when set",
    },
    Variable {
        name: JWT_AUDIENCE,
        required: "no",
        means: "the `aud` a token must carry, when set",
    },
    Variable {
        name: JWT_KEY_TTL_SECONDS,
        required: "no",
        means: "how long fetched signing keys are kept; default 300",
    },
    Variable {
        name: JWT_KEY_STALE_SECONDS,
        required: "no",
        means: "how long past the TTL the last keys serve while refreshes fail; default 3600",
    },
    Variable {
        name: JWT_PREVIOUS_KEY_SECONDS,
        required: "no",
        means: "how long after a rotation the previous key still verifies; default 86400, `0`: never",
    },
    Variable {
        name: ALLOWED_ORIGINS,
        required: "no",
        means: "the web app's origins, comma-separated: the only ones a cookie is accepted from",
    },
    Variable {
        name: CLEANUP_QUEUE_URL,
        required: "the worker's",
        means: "the SQS queue of webhook cleanup jobs; unset, a transient GitHub failure is `failed`",
    },
    Variable {
        name: WARM_UP_ON_INIT,
        required: "no",
        means: "`true` (default): fetch the keys and open connections during init",
    },
    Variable {
        name: NEO4J_URI,
        required: "no",
        means: "the code graph's Bolt URI; unset, answers leave `graph` out",
    },
    Variable {
        name: NEO4J_SECRET_ID,
        required: "with `NEO4J_URI`",
        means: "the Secrets Manager secret holding the graph's `username` and `password`",
    },
    Variable {
        name: NEO4J_TIMEOUT_MS,
        required: "no",
        means: "bound on the graph read, in ms; default 1000",
    },
    Variable {
        name: POWERTOOLS_SERVICE_NAME,
        required: "no",
        means: "`service` on every log line and metric; default `nectr-disconnect`",
    },
    Variable {
        name: POWERTOOLS_METRICS_NAMESPACE,
        required: "no",
        means: "the metrics' CloudWatch namespace; default `Nectr`",
    },
];

#[derive(Clone, Debug)]
pub struct Config {
    pub shared: SharedConfig,
    pub jwt: JwtConfig,
    /// Fetch the signing keys and open connections during Lambda's init
    /// phase (`WARM_UP_ON_INIT`, default true).
    pub warm_up_on_init: bool,
    /// Whether Lambda starts this environment ahead of any event
    /// (`AWS_LAMBDA_INITIALIZATION_TYPE` `provisioned-concurrency`,
    /// `snap-start` or `lambda-managed-instances`): the warm-up then ends
    /// within init, off every request's path. On demand (or unset, as in
    /// local runs), the event that caused the cold start is already
    /// waiting, and it is served beside the warm-up.
    pub initialized_ahead: bool,
    /// The Neo4j code graph; `None` when `NEO4J_URI` is not set.
    pub neo4j: Option<Neo4jConfig>,
    /// The SQS queue of webhook cleanup jobs (`CLEANUP_QUEUE_URL`); `None`:
    /// a transient GitHub failure is `failed`.
    pub cleanup_queue_url: Option<String>,
}

/// What both functions read: the table, the key that encrypts OAuth tokens
/// and GitHub, for the three ports the cleanup worker shares with the
/// disconnect.
#[derive(Clone, Debug)]
pub struct SharedConfig {
    pub table_name: String,
    pub kms_key_id: String,
    pub github: GitHubConfig,
}

/// How callers are authenticated (CONTRACT §2): where the signing key is,
/// what a token must say, how long fetched keys serve.
#[derive(Clone, Debug)]
pub struct JwtConfig {
    pub secret_id: String,
    /// `JWT_ISSUER`, `JWT_AUDIENCE`, and the web app's origins, the only
    /// ones that may use cookie authentication (`ALLOWED_ORIGINS`).
    pub rules: JwtRules,
    pub key_lifetime: KeyLifetime,
}

/// GitHub's REST API: where it answers and how long one call may take.
#[derive(Clone, Debug)]
pub struct GitHubConfig {
    pub api_url: Url,
    pub timeout: Duration,
}

#[derive(Clone, Debug)]
pub struct Neo4jConfig {
    pub uri: String,
    /// A Secrets Manager secret holding `{"username": …, "password": …}`.
    pub secret_id: String,
    pub timeout: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("required environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is malformed: {reason}")]
    Malformed {
        name: &'static str,
        reason: &'static str,
    },
}

const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";
const DEFAULT_GITHUB_TIMEOUT_MS: u64 = 3_000;
const DEFAULT_JWT_KEY_TTL_SECONDS: u64 = 300;
const DEFAULT_JWT_KEY_STALE_SECONDS: u64 = 3_600;
/// The web app's token lifetime: a token signed before a rotation has
/// expired by then.
const DEFAULT_JWT_PREVIOUS_KEY_SECONDS: u64 = 86_400;
const DEFAULT_NEO4J_TIMEOUT_MS: u64 = 1_000;
/// The schemes neo4rs speaks, with and without TLS.
const NEO4J_SCHEMES: [&str; 6] = [
    "bolt",
    "bolt+s",
    "bolt+ssc",
    "neo4j",
    "neo4j+s",
    "neo4j+ssc",
];

/// The environment as the configuration reads it: a blank variable counts as
/// unset.
pub struct Variables<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Variables<'_> {
    fn optional(&self, name: &'static str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }

    fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.optional(name).ok_or(ConfigError::Missing(name))
    }

    fn positive_secs(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        positive(name, self.optional(name), default).map(Duration::from_secs)
    }

    fn positive_millis(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        positive(name, self.optional(name), default).map(Duration::from_millis)
    }

    /// Zero allowed: no stale keys, no previous key at all.
    fn non_negative_secs(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        non_negative(name, self.optional(name), default).map(Duration::from_secs)
    }

    fn flag(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        flag(name, self.optional(name), default)
    }
}

/// A configuration read from the environment once, at cold start.
pub trait FromEnvironment: Sized {
    /// The configuration, or the first variable that is missing or malformed.
    fn read(env: &Variables) -> Result<Self, ConfigError>;

    fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup`, so tests need not touch the
    /// process environment.
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::read(&Variables(&lookup))
    }
}

impl FromEnvironment for Config {
    fn read(env: &Variables) -> Result<Self, ConfigError> {
        Ok(Self {
            shared: shared(env)?,
            jwt: jwt(env)?,
            warm_up_on_init: env.flag(WARM_UP_ON_INIT, true)?,
            initialized_ahead: matches!(
                env.optional("AWS_LAMBDA_INITIALIZATION_TYPE").as_deref(),
                Some("provisioned-concurrency" | "snap-start" | "lambda-managed-instances")
            ),
            cleanup_queue_url: env.optional(CLEANUP_QUEUE_URL).map(queue_url).transpose()?,
            neo4j: match env.optional(NEO4J_URI) {
                None => None,
                Some(uri) => Some(Neo4jConfig {
                    uri: neo4j_uri(uri)?,
                    secret_id: env.required(NEO4J_SECRET_ID)?,
                    timeout: env.positive_millis(NEO4J_TIMEOUT_MS, DEFAULT_NEO4J_TIMEOUT_MS)?,
                }),
            },
        })
    }
}

/// The cleanup worker's configuration (CONTRACT §7 and §9): the disconnect's
/// table, key and GitHub, and the queue it works off.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub shared: SharedConfig,
    pub cleanup_queue_url: String,
}

impl FromEnvironment for WorkerConfig {
    fn read(env: &Variables) -> Result<Self, ConfigError> {
        Ok(Self {
            shared: shared(env)?,
            cleanup_queue_url: queue_url(env.required(CLEANUP_QUEUE_URL)?)?,
        })
    }
}

/// The pre-traffic hook's configuration (CONTRACT §11): which function it
/// checks, and the version the deployment is about to send traffic to.
#[derive(Clone, Debug)]
pub struct HookConfig {
    pub probed: Probed,
    /// The new version's ARN, as the template's `Function.Version` gives it.
    pub new_version: String,
}

impl FromEnvironment for HookConfig {
    fn read(env: &Variables) -> Result<Self, ConfigError> {
        let probed = match env.required("PROBED_FUNCTION")?.as_str() {
            "disconnect" => Probed::Disconnect,
            "cleanup" => Probed::Cleanup,
            _ => {
                return Err(ConfigError::Malformed {
                    name: "PROBED_FUNCTION",
                    reason: "expected disconnect or cleanup",
                });
            }
        };
        Ok(Self {
            probed,
            new_version: env.required("NEW_VERSION")?,
        })
    }
}

fn table_name(name: String) -> Result<String, ConfigError> {
    if is_table_name(&name) {
        Ok(name)
    } else {
        Err(ConfigError::Malformed {
            name: TABLE_NAME,
            reason: "expected 3-255 characters of A-Z a-z 0-9 _ - .",
        })
    }
}

fn shared(env: &Variables) -> Result<SharedConfig, ConfigError> {
    Ok(SharedConfig {
        table_name: table_name(env.required(TABLE_NAME)?)?,
        kms_key_id: env.required(KMS_KEY_ID)?,
        github: github(env)?,
    })
}

fn jwt(env: &Variables) -> Result<JwtConfig, ConfigError> {
    Ok(JwtConfig {
        secret_id: env.required(JWT_SECRET_ID)?,
        rules: JwtRules {
            issuer: env.optional(JWT_ISSUER),
            audience: env.optional(JWT_AUDIENCE),
            allowed_origins: origins(env.optional(ALLOWED_ORIGINS))?,
        },
        key_lifetime: KeyLifetime {
            ttl: env.positive_secs(JWT_KEY_TTL_SECONDS, DEFAULT_JWT_KEY_TTL_SECONDS)?,
            stale: env.non_negative_secs(JWT_KEY_STALE_SECONDS, DEFAULT_JWT_KEY_STALE_SECONDS)?,
            previous: env
                .non_negative_secs(JWT_PREVIOUS_KEY_SECONDS, DEFAULT_JWT_PREVIOUS_KEY_SECONDS)?,
        },
    })
}

fn github(env: &Variables) -> Result<GitHubConfig, ConfigError> {
    Ok(GitHubConfig {
        api_url: github_api_url(env.optional(GITHUB_API_URL))?,
        timeout: env.positive_millis(GITHUB_TIMEOUT_MS, DEFAULT_GITHUB_TIMEOUT_MS)?,
    })
}

fn github_api_url(value: Option<String>) -> Result<Url, ConfigError> {
    match value {
        None => Ok(Url::parse(DEFAULT_GITHUB_API_URL).expect("the default URL is valid")),
        Some(url) => Url::parse(url.trim_end_matches('/'))
            .ok()
            .filter(is_github_api_url)
            .ok_or(ConfigError::Malformed {
                name: GITHUB_API_URL,
                reason: "expected an https:// URL (http:// only for a loopback host)",
            }),
    }
}

fn queue_url(url: String) -> Result<String, ConfigError> {
    Url::parse(&url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .map(|_| url)
        .ok_or(ConfigError::Malformed {
            name: CLEANUP_QUEUE_URL,
            reason: "expected an SQS queue URL",
        })
}

/// Comma-separated origins (`https://app.nectr.ai`), each as a browser
/// sends it in `Origin`: scheme, host and port, no path.
fn origins(value: Option<String>) -> Result<Vec<String>, ConfigError> {
    let malformed = ConfigError::Malformed {
        name: ALLOWED_ORIGINS,
        reason: "expected comma-separated origins such as https://app.nectr.ai",
    };
    value
        .iter()
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            let url = Url::parse(origin).map_err(|_| malformed.clone())?;
            let bare = matches!(url.scheme(), "http" | "https")
                && url.host().is_some()
                && url.path() == "/"
                && url.query().is_none()
                && url.fragment().is_none()
                && url.username().is_empty();
            bare.then(|| url.origin().ascii_serialization())
                .ok_or_else(|| malformed.clone())
        })
        .collect()
}

/// The OAuth token travels to this URL, so only TLS will do, except on the
/// machine itself (local tooling).
fn is_github_api_url(url: &Url) -> bool {
    let loopback = match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => return false,
    };
    url.scheme() == "https" || (url.scheme() == "http" && loopback)
}

fn neo4j_uri(uri: String) -> Result<String, ConfigError> {
    Url::parse(&uri)
        .ok()
        .filter(|u| NEO4J_SCHEMES.contains(&u.scheme()) && u.host().is_some())
        .map(|_| uri)
        .ok_or(ConfigError::Malformed {
            name: NEO4J_URI,
            reason: "expected a bolt:// or neo4j:// URI (+s, +ssc for TLS)",
        })
}

fn flag(name: &'static str, value: Option<String>, default: bool) -> Result<bool, ConfigError> {
    match value.as_deref().map(str::trim) {
        None => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(ConfigError::Malformed {
            name,
            reason: "expected true or false",
        }),
    }
}

fn non_negative(
    name: &'static str,
    value: Option<String>,
    default: u64,
) -> Result<u64, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) => v.trim().parse::<u64>().map_err(|_| ConfigError::Malformed {
            name,
            reason: "expected a whole number of seconds",
        }),
    }
}

fn positive(name: &'static str, value: Option<String>, default: u64) -> Result<u64, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(ConfigError::Malformed {
                name,
                reason: "expected a positive integer",
            }),
    }
}

fn is_table_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    const REQUIRED: [(&str, &str); 3] = [
        ("TABLE_NAME", "nectr"),
        ("JWT_SECRET_ID", "nectr/jwt"),
        ("KMS_KEY_ID", "alias/nectr"),
    ];

    /// The list is the functions' vocabulary: no name in it that nothing
    /// reads.
    #[test]
    fn every_listed_variable_is_read() {
        let asked = std::cell::RefCell::new(std::collections::BTreeSet::new());
        let lookup = |name: &str| {
            asked.borrow_mut().insert(name.to_owned());
            let graph = [(NEO4J_URI, "bolt://127.0.0.1:7687"), (NEO4J_SECRET_ID, "g")];
            let mut set = REQUIRED.iter().chain(&graph);
            set.find(|(set, _)| *set == name)
                .map(|(_, value)| value.to_string())
        };
        Config::from_lookup(lookup).unwrap();
        crate::logging::LogSettings::from_lookup(lookup);
        crate::metrics::MetricsSettings::from_lookup(lookup, "nectr-disconnect");

        let asked = asked.into_inner();
        for variable in VARIABLES {
            assert!(asked.contains(variable.name), "{}", variable.name);
        }
    }

    #[test]
    fn defaults_apply_when_only_required_variables_are_set() {
        let config = config(&REQUIRED).unwrap();
        assert_eq!(
            config.shared.github.api_url.as_str(),
            "https://api.github.com/"
        );
        assert_eq!(config.shared.github.timeout, Duration::from_millis(3_000));
        assert_eq!(config.jwt.key_lifetime.ttl, Duration::from_secs(300));
        assert_eq!(config.jwt.key_lifetime.stale, Duration::from_secs(3_600));
        assert_eq!(
            config.jwt.key_lifetime.previous,
            Duration::from_secs(86_400)
        );
        assert_eq!(config.jwt.rules.issuer, None);
        assert_eq!(config.jwt.rules.audience, None);
        assert!(config.warm_up_on_init);
        assert!(config.neo4j.is_none());
        assert!(config.cleanup_queue_url.is_none());
    }

    #[test]
    fn only_an_environment_started_ahead_of_events_waits_for_the_warm_up() {
        for (initialization, ahead) in [
            (None, false),
            (Some("on-demand"), false),
            (Some("provisioned-concurrency"), true),
            (Some("snap-start"), true),
            (Some("lambda-managed-instances"), true),
        ] {
            let mut vars = REQUIRED.to_vec();
            vars.extend(initialization.map(|t| ("AWS_LAMBDA_INITIALIZATION_TYPE", t)));
            assert_eq!(
                config(&vars).unwrap().initialized_ahead,
                ahead,
                "{initialization:?}"
            );
        }
    }

    #[test]
    fn each_missing_required_variable_is_named() {
        for missing in ["TABLE_NAME", "JWT_SECRET_ID", "KMS_KEY_ID"] {
            let vars: Vec<_> = REQUIRED
                .into_iter()
                .filter(|(k, _)| *k != missing)
                .collect();
            assert_eq!(config(&vars).unwrap_err(), ConfigError::Missing(missing));
            let blank: Vec<_> = REQUIRED
                .into_iter()
                .map(|(k, v)| if k == missing { (k, " ") } else { (k, v) })
                .collect();
            assert_eq!(config(&blank).unwrap_err(), ConfigError::Missing(missing));
        }
    }

    #[test]
    fn malformed_variables_are_named() {
        for (name, value) in [
            ("TABLE_NAME", "a"),
            ("TABLE_NAME", "has space"),
            ("GITHUB_API_URL", "not a url"),
            ("GITHUB_API_URL", "ftp://example.com"),
            ("GITHUB_API_URL", "http://api.github.com"),
            ("GITHUB_API_URL", "http://github.example.com/api/v3"),
            ("GITHUB_API_URL", "http://10.0.0.7:8080"),
            ("GITHUB_TIMEOUT_MS", "soon"),
            ("GITHUB_TIMEOUT_MS", "0"),
            ("JWT_KEY_TTL_SECONDS", "-5"),
            ("JWT_KEY_STALE_SECONDS", "an hour"),
            ("JWT_PREVIOUS_KEY_SECONDS", "-1"),
            ("WARM_UP_ON_INIT", "yes"),
            ("ALLOWED_ORIGINS", "app.nectr.ai"),
            ("ALLOWED_ORIGINS", "https://app.nectr.ai/login"),
            ("ALLOWED_ORIGINS", "https://app.nectr.ai, *"),
            ("NEO4J_URI", "http://graph.example.com"),
            ("NEO4J_URI", "bolt://"),
            ("CLEANUP_QUEUE_URL", "nectr-webhook-cleanup"),
        ] {
            let mut vars = REQUIRED.to_vec();
            vars.push((name, value));
            match config(&vars) {
                Err(ConfigError::Malformed { name: named, .. }) => assert_eq!(named, name),
                other => panic!("{name}={value}: {other:?}"),
            }
        }
    }

    #[test]
    fn optional_variables_are_read() {
        let mut vars = REQUIRED.to_vec();
        vars.extend([
            ("GITHUB_API_URL", "http://127.0.0.1:9999/"),
            ("GITHUB_TIMEOUT_MS", "250"),
            ("JWT_ISSUER", "nectr"),
            ("JWT_AUDIENCE", "nectr-api"),
            ("JWT_KEY_TTL_SECONDS", "60"),
            ("JWT_KEY_STALE_SECONDS", "0"),
            ("JWT_PREVIOUS_KEY_SECONDS", "600"),
            ("WARM_UP_ON_INIT", "False"),
        ]);
        let config = config(&vars).unwrap();
        assert_eq!(
            config.shared.github.api_url.as_str(),
            "http://127.0.0.1:9999/"
        );
        assert_eq!(config.shared.github.timeout, Duration::from_millis(250));
        assert_eq!(config.jwt.rules.issuer.as_deref(), Some("nectr"));
        assert_eq!(config.jwt.rules.audience.as_deref(), Some("nectr-api"));
        assert_eq!(config.jwt.key_lifetime.ttl, Duration::from_secs(60));
        assert_eq!(config.jwt.key_lifetime.stale, Duration::ZERO);
        assert_eq!(config.jwt.key_lifetime.previous, Duration::from_secs(600));
        assert!(!config.warm_up_on_init);
    }

    #[test]
    fn allowed_origins_are_read_as_browsers_send_them() {
        let mut vars = REQUIRED.to_vec();
        vars.push((
            "ALLOWED_ORIGINS",
            "https://App.Nectr.ai/, http://localhost:3000 ,",
        ));
        assert_eq!(
            config(&vars).unwrap().jwt.rules.allowed_origins,
            ["https://app.nectr.ai", "http://localhost:3000"]
        );
        assert!(
            config(&REQUIRED)
                .unwrap()
                .jwt
                .rules
                .allowed_origins
                .is_empty()
        );
    }

    #[test]
    fn github_api_url_is_https_or_plain_text_on_loopback() {
        for url in [
            "https://api.github.com",
            "https://github.example.com/api/v3",
            "http://127.0.0.1:9999",
            "http://127.1.2.3",
            "http://[::1]:8080",
            "http://localhost:8080",
        ] {
            let mut vars = REQUIRED.to_vec();
            vars.push(("GITHUB_API_URL", url));
            assert!(config(&vars).is_ok(), "{url}");
        }
    }

    #[test]
    fn neo4j_is_read_when_its_uri_is_set() {
        let mut vars = REQUIRED.to_vec();
        vars.extend([
            ("NEO4J_URI", "neo4j+s://graph.example.com:7687"),
            ("NEO4J_SECRET_ID", "nectr/neo4j"),
        ]);
        let neo4j = config(&vars).unwrap().neo4j.unwrap();
        assert_eq!(neo4j.uri, "neo4j+s://graph.example.com:7687");
        assert_eq!(neo4j.secret_id, "nectr/neo4j");
        assert_eq!(neo4j.timeout, Duration::from_millis(1_000));

        vars.push(("NEO4J_TIMEOUT_MS", "250"));
        let neo4j = config(&vars).unwrap().neo4j.unwrap();
        assert_eq!(neo4j.timeout, Duration::from_millis(250));
    }

    #[test]
    fn the_worker_reads_the_disconnects_variables_and_needs_the_queue() {
        let mut vars = vec![
            ("TABLE_NAME", "nectr"),
            ("KMS_KEY_ID", "alias/nectr"),
            ("GITHUB_TIMEOUT_MS", "500"),
        ];
        let worker = |vars: &[(&str, &str)]| {
            let vars: HashMap<String, String> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            WorkerConfig::from_lookup(|name| vars.get(name).cloned())
        };
        assert_eq!(
            worker(&vars).unwrap_err(),
            ConfigError::Missing("CLEANUP_QUEUE_URL")
        );
        vars.push((
            "CLEANUP_QUEUE_URL",
            "https://sqs.eu-west-1.amazonaws.com/123456789012/nectr-webhook-cleanup",
        ));
        let config = worker(&vars).unwrap();
        assert_eq!(config.shared.github.timeout, Duration::from_millis(500));
        assert_eq!(
            config.shared.github.api_url.as_str(),
            "https://api.github.com/"
        );
    }

    #[test]
    fn a_neo4j_uri_without_its_secret_is_refused() {
        let mut vars = REQUIRED.to_vec();
        vars.push(("NEO4J_URI", "bolt://127.0.0.1:7687"));
        assert_eq!(
            config(&vars).unwrap_err(),
            ConfigError::Missing("NEO4J_SECRET_ID")
        );
    }
}
