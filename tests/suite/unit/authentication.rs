//! JWT verification (CONTRACT §2) over an in-memory signing-key source.

use std::time::Duration;

use jsonwebtoken::Algorithm;
use nectr_disconnect::auth::{AuthError, Authenticator, JwtRules, KeyLifetime};
use nectr_disconnect::domain::{BearerToken, Credentials};
use serde_json::{Value, json};
use test_world::jwt::{
    FIXTURE_KEY, claims, hmac_signed_with_header, hs256, now, unsigned, with_algorithm,
};

use crate::support::fakes::{FakeKeys, Fault};

const TTL: Duration = Duration::from_secs(300);
const STALE: Duration = Duration::from_secs(3_600);
/// `JWT_PREVIOUS_KEY_SECONDS`' default: the web app's token lifetime.
const PREVIOUS: Duration = Duration::from_secs(86_400);
const LIFETIME: KeyLifetime = KeyLifetime {
    ttl: TTL,
    stale: STALE,
    previous: PREVIOUS,
};

fn authenticator(keys: &FakeKeys) -> Authenticator<FakeKeys> {
    Authenticator::new(keys.clone(), JwtRules::default(), LIFETIME)
}

async fn authenticate(auth: &Authenticator<FakeKeys>, token: &str) -> Result<String, AuthError> {
    auth.authenticate(&Credentials::Bearer(BearerToken::new(token)))
        .await
        .map(|user| user.as_str().to_owned())
}

async fn user_of(token: &str) -> Result<String, AuthError> {
    authenticate(&authenticator(&FakeKeys::new(FIXTURE_KEY)), token).await
}

fn assert_unauthorized(result: Result<String, AuthError>, case: &str) {
    assert!(
        matches!(result, Err(AuthError::Unauthorized(_))),
        "{case}: {result:?}"
    );
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

/// A token of user-1 whose claim `key` is `value`.
fn token_with(key: &str, value: Value) -> String {
    hs256(FIXTURE_KEY, &with(claims("user-1"), key, value))
}

/// A token of user-1 signed with HS256 and the fixtures' key, whose header
/// says `alg`.
fn signed_claiming_alg(alg: &str) -> String {
    hmac_signed_with_header(
        &json!({"alg": alg, "typ": "JWT"}),
        FIXTURE_KEY,
        &claims("user-1"),
    )
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

#[tokio::test]
async fn a_valid_hs256_token_yields_its_subject() {
    assert_eq!(
        user_of(&hs256(FIXTURE_KEY, &claims("user-1")))
            .await
            .unwrap(),
        "user-1"
    );
}

#[tokio::test]
async fn a_numeric_subject_is_read_as_its_decimal_string() {
    let token = hs256(FIXTURE_KEY, &with(claims("x"), "sub", json!(12345)));
    assert_eq!(user_of(&token).await.unwrap(), "12345");
}

#[tokio::test]
async fn no_token_is_unauthorized() {
    let auth = authenticator(&FakeKeys::new(FIXTURE_KEY));
    assert_unauthorized(
        auth.authenticate(&Credentials::None)
            .await
            .map(|u| u.as_str().to_owned()),
        "no token",
    );
}

#[tokio::test]
async fn garbage_is_unauthorized() {
    for garbage in ["garbage", "a.b.c", "..", "eyJhbGciOiJIUzI1NiJ9.e30", ""] {
        assert_unauthorized(user_of(garbage).await, garbage);
    }
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_unauthorized() {
    assert_unauthorized(
        user_of(&hs256(b"some-other-key", &claims("user-1"))).await,
        "other key",
    );
}

#[tokio::test]
async fn a_valid_signature_over_a_modified_payload_is_unauthorized() {
    let token = hs256(FIXTURE_KEY, &claims("user-1"));
    let forged = hs256(FIXTURE_KEY, &claims("admin"));
    let [header, _, signature]: [&str; 3] =
        token.split('.').collect::<Vec<_>>().try_into().unwrap();
    let payload = forged.split('.').nth(1).unwrap();
    assert_unauthorized(
        user_of(&format!("{header}.{payload}.{signature}")).await,
        "swapped payload",
    );
}

#[tokio::test]
async fn alg_none_is_unauthorized() {
    assert_unauthorized(user_of(&unsigned(&claims("user-1"))).await, "alg none");
    for alg in ["none", "None", "NONE"] {
        assert_unauthorized(user_of(&signed_claiming_alg(alg)).await, alg);
    }
}

#[tokio::test]
async fn algorithms_other_than_hs256_are_unauthorized() {
    for algorithm in [Algorithm::HS384, Algorithm::HS512] {
        let token = with_algorithm(algorithm, FIXTURE_KEY, &claims("user-1"));
        assert_unauthorized(user_of(&token).await, &format!("{algorithm:?}"));
    }
    for alg in ["RS256", "ES256", "PS256", "EdDSA"] {
        assert_unauthorized(user_of(&signed_claiming_alg(alg)).await, alg);
    }
}

/// `exp` and `nbf` hold within a 60 s leeway for clock skew, and no
/// further.
#[tokio::test]
async fn exp_and_nbf_are_checked_with_a_minute_of_leeway() {
    for (claim, seconds_from_now, accepted) in [
        ("exp", -61 - 5, false),
        ("exp", -30, true),
        ("nbf", 600, false),
        ("nbf", -10, true),
    ] {
        let at = now().checked_add_signed(seconds_from_now).unwrap();
        let result = user_of(&token_with(claim, json!(at))).await;
        let case = format!("{claim} at now{seconds_from_now:+} s");
        if accepted {
            assert_eq!(result.unwrap(), "user-1", "{case}");
        } else {
            assert_unauthorized(result, &case);
        }
    }
}

#[tokio::test]
async fn a_token_without_exp_is_unauthorized() {
    let token = hs256(FIXTURE_KEY, &without(claims("user-1"), "exp"));
    assert_unauthorized(user_of(&token).await, "no exp");
}

#[tokio::test]
async fn exp_or_nbf_as_strings_are_unauthorized() {
    let exp = token_with("exp", json!((now() + 3600).to_string()));
    assert_unauthorized(user_of(&exp).await, "string exp");
    let nbf = token_with("nbf", json!(now().to_string()));
    assert_unauthorized(user_of(&nbf).await, "string nbf");
}

#[tokio::test]
async fn a_token_without_a_usable_subject_is_unauthorized() {
    for sub in [
        None,
        Some(json!("")),
        Some(json!(1.5)),
        Some(json!(["a"])),
        Some(json!(null)),
    ] {
        let claims = match &sub {
            None => without(claims("x"), "sub"),
            Some(sub) => with(claims("x"), "sub", sub.clone()),
        };
        assert_unauthorized(
            user_of(&hs256(FIXTURE_KEY, &claims)).await,
            &format!("{sub:?}"),
        );
    }
}

#[tokio::test]
async fn an_oversized_token_is_unauthorized_without_fetching_keys() {
    let keys = FakeKeys::new(FIXTURE_KEY);
    let huge = token_with("pad", json!("x".repeat(64 * 1024)));
    assert_unauthorized(authenticate(&authenticator(&keys), &huge).await, "64 KiB");
    assert_eq!(keys.fetches(), 0);
}

#[tokio::test]
async fn issuer_and_audience_are_enforced_when_configured() {
    let rules = JwtRules {
        issuer: Some("nectr".into()),
        audience: Some("nectr-api".into()),
        ..JwtRules::default()
    };
    let auth = Authenticator::new(FakeKeys::new(FIXTURE_KEY), rules, LIFETIME);
    let good = with(
        with(claims("user-1"), "iss", json!("nectr")),
        "aud",
        json!("nectr-api"),
    );

    assert_eq!(
        authenticate(&auth, &hs256(FIXTURE_KEY, &good))
            .await
            .unwrap(),
        "user-1"
    );
    for claims in [
        with(good.clone(), "iss", json!("evil")),
        with(good.clone(), "aud", json!("other-api")),
        without(good.clone(), "iss"),
        without(good.clone(), "aud"),
    ] {
        assert_unauthorized(
            authenticate(&auth, &hs256(FIXTURE_KEY, &claims)).await,
            &claims.to_string(),
        );
    }
}

#[tokio::test]
async fn issuer_and_audience_are_ignored_when_not_configured() {
    let claims = with(
        with(claims("user-1"), "iss", json!("anyone")),
        "aud",
        json!("anything"),
    );
    assert_eq!(
        user_of(&hs256(FIXTURE_KEY, &claims)).await.unwrap(),
        "user-1"
    );
}

#[tokio::test]
async fn a_token_signed_with_the_previous_key_is_accepted_during_rotation() {
    let keys = FakeKeys::new(b"old-key");
    keys.rotate(b"new-key");
    let auth = authenticator(&keys);

    assert_eq!(
        authenticate(&auth, &hs256(b"old-key", &claims("user-1")))
            .await
            .unwrap(),
        "user-1"
    );
    assert_eq!(
        authenticate(&auth, &hs256(b"new-key", &claims("user-1")))
            .await
            .unwrap(),
        "user-1"
    );
}

#[tokio::test]
async fn the_previous_key_dies_one_window_after_the_rotation_that_replaced_it() {
    for (rotated, accepted) in [
        (PREVIOUS - Duration::from_secs(60), true),
        (PREVIOUS + Duration::from_secs(1), false),
    ] {
        let keys = FakeKeys::new(b"leaked-key");
        keys.rotated_ago(b"new-key", rotated);
        let auth = authenticator(&keys);

        let leaked = authenticate(&auth, &hs256(b"leaked-key", &claims("user-1"))).await;
        let current = authenticate(&auth, &hs256(b"new-key", &claims("user-1"))).await;

        assert_eq!(
            leaked.is_ok(),
            accepted,
            "rotated {rotated:?} ago: {leaked:?}"
        );
        assert_eq!(current.unwrap(), "user-1");
    }
}

#[tokio::test]
async fn without_the_rotations_date_the_previous_key_is_not_accepted() {
    let keys = FakeKeys::new(b"old-key");
    keys.rotate(b"new-key");
    keys.forget_creation_date();
    let auth = authenticator(&keys);

    assert_unauthorized(
        authenticate(&auth, &hs256(b"old-key", &claims("user-1"))).await,
        "previous key, creation date unknown",
    );
}

#[tokio::test(start_paused = true)]
async fn keys_are_cached_until_the_ttl_passes() {
    let keys = FakeKeys::new(FIXTURE_KEY);
    let auth = authenticator(&keys);
    let token = hs256(FIXTURE_KEY, &claims("user-1"));

    authenticate(&auth, &token).await.unwrap();
    authenticate(&auth, &token).await.unwrap();
    assert_eq!(keys.fetches(), 1);

    tokio::time::advance(TTL + Duration::from_secs(1)).await;
    authenticate(&auth, &token).await.unwrap();
    assert_eq!(keys.fetches(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_rotated_key_is_picked_up_before_the_ttl_after_a_bad_signature() {
    let keys = FakeKeys::new(b"old-key");
    let auth = authenticator(&keys);
    authenticate(&auth, &hs256(b"old-key", &claims("user-1")))
        .await
        .unwrap();

    keys.rotate(b"new-key");
    tokio::time::advance(Duration::from_secs(31)).await;

    assert_eq!(
        authenticate(&auth, &hs256(b"new-key", &claims("user-1")))
            .await
            .unwrap(),
        "user-1"
    );
    assert_eq!(keys.fetches(), 2);
}

#[tokio::test(start_paused = true)]
async fn bad_signatures_refresh_the_keys_at_most_once_per_30_seconds() {
    let keys = FakeKeys::new(FIXTURE_KEY);
    let auth = authenticator(&keys);
    let forged = hs256(b"attacker-key", &claims("user-1"));

    assert_unauthorized(authenticate(&auth, &forged).await, "first");
    assert_eq!(keys.fetches(), 1, "the first fetch is not repeated at once");
    tokio::time::advance(Duration::from_secs(10)).await;
    assert_unauthorized(authenticate(&auth, &forged).await, "within 30 s");
    assert_eq!(keys.fetches(), 1);

    tokio::time::advance(Duration::from_secs(21)).await;
    assert_unauthorized(authenticate(&auth, &forged).await, "after 30 s");
    assert_unauthorized(authenticate(&auth, &forged).await, "again");
    assert_eq!(keys.fetches(), 2);
}

#[tokio::test]
async fn an_unavailable_key_source_is_a_dependency_error() {
    let keys = FakeKeys::new(FIXTURE_KEY);
    keys.fail_with(Fault::Unavailable);
    let result = authenticate(
        &authenticator(&keys),
        &hs256(FIXTURE_KEY, &claims("user-1")),
    )
    .await;
    assert!(
        matches!(result, Err(AuthError::Dependency(_))),
        "{result:?}"
    );
}

/// Secrets Manager fails from now on (`Fault`), after the keys were fetched.
async fn outage_after_warm_up(keys: &FakeKeys, auth: &Authenticator<FakeKeys>, fault: Fault) {
    auth.prefetch().await.unwrap();
    keys.fail_with(fault);
}

#[tokio::test(start_paused = true)]
async fn during_an_outage_the_last_keys_serve_past_the_ttl() {
    let keys = FakeKeys::new(FIXTURE_KEY);
    let auth = authenticator(&keys);
    outage_after_warm_up(&keys, &auth, Fault::Unavailable).await;
    let token = hs256(FIXTURE_KEY, &claims("user-1"));

    tokio::time::advance(TTL + Duration::from_secs(1)).await;
    assert_eq!(authenticate(&auth, &token).await.unwrap(), "user-1");
    tokio::time::advance(STALE - Duration::from_secs(2)).await;
    assert_eq!(authenticate(&auth, &token).await.unwrap(), "user-1");
}

#[tokio::test(start_paused = true)]
async fn past_ttl_and_stale_time_an_outage_is_a_dependency_error() {
    let keys = FakeKeys::new(FIXTURE_KEY);
    let auth = authenticator(&keys);
    outage_after_warm_up(&keys, &auth, Fault::Unavailable).await;

    tokio::time::advance(TTL + STALE + Duration::from_secs(1)).await;
    let result = authenticate(&auth, &hs256(FIXTURE_KEY, &claims("user-1"))).await;

    assert!(
        matches!(result, Err(AuthError::Dependency(_))),
        "{result:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_refresh_is_tried_at_most_once_per_30_seconds_whatever_the_traffic() {
    let keys = FakeKeys::new(FIXTURE_KEY);
    let auth = authenticator(&keys);
    outage_after_warm_up(&keys, &auth, Fault::Unavailable).await;
    tokio::time::advance(TTL + Duration::from_secs(1)).await;
    let good = hs256(FIXTURE_KEY, &claims("user-1"));
    let forged = hs256(b"attacker-key", &claims("user-1"));

    for second in 0..90 {
        for _ in 0..10 {
            assert_unauthorized(authenticate(&auth, &forged).await, "forged");
            assert_eq!(authenticate(&auth, &good).await.unwrap(), "user-1");
        }
        if second == 0 {
            assert_eq!(keys.fetches(), 2, "the warm-up and one refresh");
        }
        tokio::time::advance(Duration::from_secs(1)).await;
    }

    // 1,800 requests over 90 s: one attempt at 0, 30, 60 s, none between.
    assert_eq!(keys.fetches(), 1 + 3);
}

#[tokio::test(start_paused = true)]
async fn a_key_rotated_during_an_outage_is_picked_up_once_secrets_manager_is_back() {
    let keys = FakeKeys::new(b"old-key");
    let auth = authenticator(&keys);
    outage_after_warm_up(&keys, &auth, Fault::Unavailable).await;
    keys.rotate(b"new-key");
    let rotated = hs256(b"new-key", &claims("user-1"));
    tokio::time::advance(Duration::from_secs(31)).await;

    assert_unauthorized(authenticate(&auth, &rotated).await, "while down");
    keys.heal();
    assert_unauthorized(
        authenticate(&auth, &rotated).await,
        "within 30 s of the failure",
    );
    tokio::time::advance(Duration::from_secs(30)).await;

    assert_eq!(authenticate(&auth, &rotated).await.unwrap(), "user-1");
    assert_eq!(
        authenticate(&auth, &hs256(b"old-key", &claims("user-1")))
            .await
            .unwrap(),
        "user-1",
        "the previous key still serves during the rotation"
    );
}

#[tokio::test]
async fn without_keys_held_a_failing_fetch_is_tried_by_every_request() {
    let keys = FakeKeys::new(FIXTURE_KEY);
    keys.fail_with(Fault::Unavailable);
    let auth = authenticator(&keys);
    let token = hs256(FIXTURE_KEY, &claims("user-1"));

    assert!(authenticate(&auth, &token).await.is_err());
    keys.heal();

    assert_eq!(authenticate(&auth, &token).await.unwrap(), "user-1");
}

fn guarded(keys: &FakeKeys) -> Authenticator<FakeKeys> {
    let rules = JwtRules {
        allowed_origins: vec!["https://app.nectr.ai".into()],
        ..JwtRules::default()
    };
    Authenticator::new(keys.clone(), rules, LIFETIME)
}

/// The user of user-1's cookie, sent from `origin`, by a page on another
/// site when `cross_site`.
async fn cookie_user(
    auth: &Authenticator<FakeKeys>,
    origin: Option<&str>,
    cross_site: bool,
) -> Result<String, AuthError> {
    let cookie = Credentials::Cookie {
        token: BearerToken::new(&hs256(FIXTURE_KEY, &claims("user-1"))),
        origin: origin.map(str::to_owned),
        cross_site,
    };
    auth.authenticate(&cookie)
        .await
        .map(|user| user.as_str().to_owned())
}

#[tokio::test]
async fn with_allowed_origins_a_cookie_from_another_origin_or_cross_site_without_one_is_unauthorized()
 {
    let auth = guarded(&FakeKeys::new(FIXTURE_KEY));
    for (origin, cross_site) in [
        (Some("https://evil.example"), false),
        (Some("https://evil.example"), true),
        (Some("null"), false),
        (Some("http://app.nectr.ai"), false),
        (None, true),
    ] {
        assert_unauthorized(
            cookie_user(&auth, origin, cross_site).await,
            &format!("{origin:?}, cross-site {cross_site}"),
        );
    }
}

/// An allowed `Origin` is accepted whatever `Sec-Fetch-Site` says: the web
/// app may be on another site than the API.
#[tokio::test]
async fn with_allowed_origins_the_web_apps_cookie_is_accepted_from_its_site_or_another() {
    let auth = guarded(&FakeKeys::new(FIXTURE_KEY));
    for (origin, cross_site) in [
        (Some("https://app.nectr.ai"), false),
        (Some("https://APP.nectr.ai/"), false),
        (None, false),
        (Some("https://app.nectr.ai"), true),
    ] {
        assert_eq!(
            cookie_user(&auth, origin, cross_site).await.unwrap(),
            "user-1",
            "{origin:?}, cross-site {cross_site}"
        );
    }
}

#[tokio::test]
async fn an_authorization_header_is_not_subject_to_the_origin_rules() {
    let auth = guarded(&FakeKeys::new(FIXTURE_KEY));
    let token = hs256(FIXTURE_KEY, &claims("user-1"));
    assert_eq!(authenticate(&auth, &token).await.unwrap(), "user-1");
}

#[tokio::test]
async fn without_allowed_origins_a_cookie_is_not_checked_for_its_origin() {
    let auth = authenticator(&FakeKeys::new(FIXTURE_KEY));
    let user = cookie_user(&auth, Some("https://evil.example"), true).await;
    assert_eq!(user.unwrap(), "user-1");
}
