//! Verifies the caller's JWT (CONTRACT §2) against the signing keys, which it
//! caches between invocations and keeps through a Secrets Manager outage.

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::Mutex;
// tokio's clock, so tests can move time past the TTL without waiting.
use tokio::time::Instant;

use crate::domain::{Credentials, SigningKeys, UserId};
use crate::ports::{Dependency, DependencyError, SigningKeySource};
use crate::timeouts::{KEY_REFRESH_INTERVAL, within};

const LEEWAY_SECONDS: u64 = 60;
/// Far above any token Nectr issues; keeps hostile input cheap to refuse.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// A caller the edge is authenticating: who the token claims to be while
/// the signing keys are being fetched (`None` when verification needs no
/// fetch), and the verification, which starts when it is awaited. A use
/// case awaits it beside whatever it may read for `claimed` meanwhile.
pub struct Caller<F> {
    pub claimed: Option<UserId>,
    pub verified: F,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Dependency(#[from] DependencyError),
    /// The reason is for the log only; the caller always sees `Unauthorized`.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
}

#[derive(Clone, Debug, Default)]
pub struct JwtRules {
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// The origins that may use cookie authentication; empty: not checked.
    pub allowed_origins: Vec<String>,
}

/// How long fetched signing keys serve.
#[derive(Clone, Copy, Debug)]
pub struct KeyLifetime {
    /// Refetched after this (`JWT_KEY_TTL_SECONDS`).
    pub ttl: Duration,
    /// While refreshes fail, the last keys still serve this long past the
    /// TTL (`JWT_KEY_STALE_SECONDS`).
    pub stale: Duration,
    /// The previous key verifies only this long after the current one was
    /// created (`JWT_PREVIOUS_KEY_SECONDS`): by then every token it signed
    /// has expired, and a leaked key stops working.
    pub previous: Duration,
}

pub struct Authenticator<K> {
    keys: K,
    validation: Validation,
    allowed_origins: Vec<String>,
    lifetime: KeyLifetime,
    cache: Mutex<KeyCache>,
}

#[derive(Default)]
struct KeyCache {
    held: Option<CachedKeys>,
    /// When the last refresh of held keys failed.
    refresh_failed_at: Option<Instant>,
}

/// The fetched keys, ready for verification. Built once per fetch: each
/// `DecodingKey` holds a copy of the key that jsonwebtoken does not zero on
/// drop, so copies are made once per fetch rather than once per request.
#[derive(Clone)]
struct CachedKeys {
    keys: Arc<VerificationKeys>,
    fetched_at: Instant,
}

struct VerificationKeys {
    current: DecodingKey,
    /// The previous key, and until when it still verifies.
    previous: Option<(DecodingKey, SystemTime)>,
}

impl VerificationKeys {
    /// A previous key verifies for `window` after the current one was
    /// created; without that date, not at all.
    fn new(keys: SigningKeys, window: Duration) -> Self {
        let until = keys.current_created.and_then(|at| at.checked_add(window));
        Self {
            current: DecodingKey::from_secret(keys.current.expose()),
            previous: keys
                .previous
                .zip(until)
                .map(|(key, until)| (DecodingKey::from_secret(key.expose()), until)),
        }
    }

    /// Current key first: almost every token is signed with it.
    fn accepted(&self, now: SystemTime) -> impl Iterator<Item = &DecodingKey> {
        let previous = self
            .previous
            .as_ref()
            .filter(|(_, until)| now < *until)
            .map(|(key, _)| key);
        std::iter::once(&self.current).chain(previous)
    }
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<Subject>,
}

/// `sub` as a string, or as a JSON integer read as its decimal string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Subject {
    Text(String),
    Unsigned(u64),
    Signed(i64),
}

impl Subject {
    fn into_user_id(self) -> Option<UserId> {
        let id = match self {
            Self::Text(text) => text,
            Self::Unsigned(n) => n.to_string(),
            Self::Signed(n) => n.to_string(),
        };
        (!id.is_empty()).then(|| UserId::new(id))
    }
}

enum Verification {
    Valid(UserId),
    BadSignature,
    Invalid(&'static str),
}

impl<K: SigningKeySource> Authenticator<K> {
    pub fn new(keys: K, rules: JwtRules, lifetime: KeyLifetime) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp"]);
        if let Some(issuer) = &rules.issuer {
            validation.set_issuer(&[issuer]);
            validation.required_spec_claims.insert("iss".into());
        }
        match &rules.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                validation.required_spec_claims.insert("aud".into());
            }
            None => validation.validate_aud = false,
        }
        Self {
            keys,
            validation,
            allowed_origins: rules.allowed_origins,
            lifetime,
            cache: Mutex::new(KeyCache::default()),
        }
    }

    /// Fetches the signing keys into the cache now, so the first request
    /// does not wait for Secrets Manager.
    pub async fn prefetch(&self) -> Result<(), DependencyError> {
        self.keys_younger_than(self.lifetime.ttl).await.map(drop)
    }

    /// The user a token claims to be, read without verifying it, when its
    /// verification is going to wait for Secrets Manager (no keys held yet,
    /// or their TTL is over, or a fetch is under way): the disconnect reads
    /// that user's items meanwhile and drops them unless the token
    /// verifies. `None` whenever verification needs no fetch, so a forged
    /// token costs reads only while keys are being fetched, and for any
    /// token refused before the signature is looked at.
    pub fn claimed_user_while_keys_are_fetched(&self, credentials: &Credentials) -> Option<UserId> {
        let token = self.token_to_verify(credentials).ok()?;
        if !self.verification_fetches_keys() {
            return None;
        }
        if jsonwebtoken::decode_header(token).ok()?.alg != Algorithm::HS256 {
            return None;
        }
        jsonwebtoken::dangerous::insecure_decode_claims::<Claims>(token)
            .ok()?
            .sub
            .and_then(Subject::into_user_id)
    }

    /// Whether the next verification waits for a fetch. A cache in use is a
    /// fetch under way: on Lambda one invocation runs at a time, and the
    /// only other user of the cache is the init's prefetch.
    fn verification_fetches_keys(&self) -> bool {
        let Ok(cache) = self.cache.try_lock() else {
            return true;
        };
        let usable = cache.held.as_ref().filter(|held| {
            held.fetched_at.elapsed() < self.lifetime.ttl.saturating_add(self.lifetime.stale)
        });
        match usable {
            None => true,
            Some(held) => {
                held.fetched_at.elapsed() >= self.lifetime.ttl
                    && cache
                        .refresh_failed_at
                        .is_none_or(|failed| failed.elapsed() >= KEY_REFRESH_INTERVAL)
            }
        }
    }

    /// The caller `credentials` name, verified by `deadline` (past it,
    /// Secrets Manager counts as unavailable). The verification is boxed:
    /// unboxed, it enlarges each future it is moved through on its way into
    /// the use case, and a debug build's test thread ran out of stack.
    pub fn caller<'a>(
        &'a self,
        credentials: &'a Credentials,
        deadline: std::time::Instant,
    ) -> Caller<Pin<Box<impl Future<Output = Result<UserId, AuthError>> + 'a>>> {
        Caller {
            claimed: self.claimed_user_while_keys_are_fetched(credentials),
            verified: Box::pin(within(
                deadline,
                Dependency::SecretsManager,
                self.authenticate(credentials),
            )),
        }
    }

    pub async fn authenticate(&self, credentials: &Credentials) -> Result<UserId, AuthError> {
        let token = self.token_to_verify(credentials)?;
        let keys = self.keys_younger_than(self.lifetime.ttl).await?;
        match self.verify(token, &keys.keys) {
            Verification::Valid(user) => return Ok(user),
            Verification::Invalid(reason) => return Err(AuthError::Unauthorized(reason)),
            Verification::BadSignature if keys.just_fetched => {}
            Verification::BadSignature => {
                let keys = self.keys_younger_than(KEY_REFRESH_INTERVAL).await?;
                if keys.just_fetched
                    && let Verification::Valid(user) = self.verify(token, &keys.keys)
                {
                    return Ok(user);
                }
            }
        }
        Err(AuthError::Unauthorized("bad signature"))
    }

    /// The token whose signature decides, once the checks that need no key
    /// have passed: there is one, its cookie may be used, it is not
    /// oversized.
    fn token_to_verify<'c>(&self, credentials: &'c Credentials) -> Result<&'c str, AuthError> {
        let token = match credentials {
            Credentials::None => return Err(AuthError::Unauthorized("no token")),
            Credentials::Unusable(reason) => return Err(AuthError::Unauthorized(reason)),
            Credentials::Bearer(token) => token,
            Credentials::Cookie {
                token,
                origin,
                cross_site,
            } => {
                self.cookie_allowed(origin.as_deref(), *cross_site)?;
                token
            }
        }
        .expose();
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Unauthorized("token too large"));
        }
        Ok(token)
    }

    /// A cookie is sent by the browser on its own, also on a request another
    /// site makes it send: with `ALLOWED_ORIGINS` set, only the web app's
    /// own origins may use it. A page cannot forge `Origin`, so an allowed
    /// one is enough, even from another site (a `SameSite=None` cookie);
    /// without `Origin`, a cross-site request is refused.
    fn cookie_allowed(&self, origin: Option<&str>, cross_site: bool) -> Result<(), AuthError> {
        if self.allowed_origins.is_empty() {
            return Ok(());
        }
        match origin {
            Some(origin)
                if self
                    .allowed_origins
                    .iter()
                    .any(|allowed| allowed.eq_ignore_ascii_case(origin.trim_end_matches('/'))) =>
            {
                Ok(())
            }
            Some(_) => Err(AuthError::Unauthorized("cookie from an origin not allowed")),
            None if cross_site => Err(AuthError::Unauthorized(
                "cookie sent cross-site without an Origin",
            )),
            None => Ok(()),
        }
    }

    fn verify(&self, token: &str, keys: &VerificationKeys) -> Verification {
        for key in keys.accepted(SystemTime::now()) {
            match jsonwebtoken::decode::<Claims>(token, key, &self.validation) {
                Ok(data) => {
                    return match data.claims.sub.and_then(Subject::into_user_id) {
                        Some(user) => Verification::Valid(user),
                        None => Verification::Invalid("no usable sub claim"),
                    };
                }
                Err(e) if *e.kind() == ErrorKind::InvalidSignature => continue,
                Err(e) => return Verification::Invalid(reason(e.kind())),
            }
        }
        Verification::BadSignature
    }

    /// The cached keys while they are younger than `max_age`, otherwise keys
    /// fetched now. A refresh that fails keeps the held keys in use until
    /// `ttl + stale` and is not tried again for `KEY_REFRESH_INTERVAL`; only
    /// with no usable key held is it an error.
    async fn keys_younger_than(&self, max_age: Duration) -> Result<Keys, DependencyError> {
        let mut cache = self.cache.lock().await;
        let usable = cache.held.clone().filter(|held| {
            held.fetched_at.elapsed() < self.lifetime.ttl.saturating_add(self.lifetime.stale)
        });
        if let Some(held) = &usable
            && held.fetched_at.elapsed() < max_age
        {
            return Ok(Keys::held(held));
        }
        let backing_off = cache
            .refresh_failed_at
            .is_some_and(|failed| failed.elapsed() < KEY_REFRESH_INTERVAL);
        if let Some(held) = &usable
            && backing_off
        {
            return Ok(Keys::held(held));
        }
        match self.keys.fetch().await {
            Ok(fetched) => {
                let keys = Arc::new(VerificationKeys::new(fetched, self.lifetime.previous));
                *cache = KeyCache {
                    held: Some(CachedKeys {
                        keys: keys.clone(),
                        fetched_at: Instant::now(),
                    }),
                    refresh_failed_at: None,
                };
                Ok(Keys {
                    keys,
                    just_fetched: true,
                })
            }
            Err(e) => {
                let Some(held) = usable else {
                    return Err(e);
                };
                cache.refresh_failed_at = Some(Instant::now());
                refresh_failed(&held, &e);
                Ok(Keys::held(&held))
            }
        }
    }
}

/// The keys a verification uses, and whether they were fetched for it:
/// a bad signature against keys fetched just now needs no second fetch.
struct Keys {
    keys: Arc<VerificationKeys>,
    just_fetched: bool,
}

impl Keys {
    fn held(held: &CachedKeys) -> Self {
        Self {
            keys: held.keys.clone(),
            just_fetched: false,
        }
    }
}

/// A refresh failed while keys fetched earlier are still usable: they stay
/// in use. A deployment mistake needs an operator before the keys run out
/// (ERROR); an outage only needs time (WARN).
fn refresh_failed(held: &CachedKeys, error: &DependencyError) {
    let age_s = held.fetched_at.elapsed().as_secs();
    let cause = crate::logging::chain(error);
    let message = "the signing keys could not be refreshed; the last ones fetched stay in use";
    if error.misconfiguration().is_some() {
        tracing::error!(age_s, cause = %cause, "{message}");
    } else {
        tracing::warn!(age_s, cause = %cause, "{message}");
    }
}

fn reason(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::ImmatureSignature => "not valid yet",
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::MissingAlgorithm => "algorithm not allowed",
        ErrorKind::MissingRequiredClaim(_) => "missing required claim",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::InvalidClaimFormat(_) => "malformed claim",
        _ => "malformed token",
    }
}
