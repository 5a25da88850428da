//! Property tests over the owner/repo rules and the router: no input
//! panics, and a name GitHub would refuse is a 404 that touches nothing.

use std::sync::LazyLock;

use lambda_http::RequestExt;
use lambda_http::http::Method;
use nectr_disconnect::domain::RepoName;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use test_world::jwt::{FIXTURE_KEY, claims, hs256};

use super::route_property::names_that_pass_are_key_and_url_safe;
use crate::support::events::Answer;
use crate::support::handler::handle;
use crate::support::use_case::Fakes;

const CASES: u32 = 2_000;

/// GitHub's rules (CONTRACT §1, `RepoName`'s comments give the sources),
/// written independently of `RepoName`: a github.com or Enterprise Server
/// login, or an Enterprise Managed User's `HANDLE_SHORTCODE`.
fn github_accepts(owner: &str, repo: &str) -> bool {
    let alphanumeric = |c: char| c.is_ascii_alphanumeric();
    let login =
        |s: &str| s.chars().any(alphanumeric) && s.chars().all(|c| alphanumeric(c) || c == '-');
    let emu = |s: &str| {
        let Some((handle, shortcode)) = s.split_once('_') else {
            return false;
        };
        login(handle)
            && !handle.starts_with('-')
            && !handle.ends_with('-')
            && !handle.contains("--")
            && (3..=8).contains(&shortcode.chars().count())
            && shortcode.chars().all(alphanumeric)
    };
    let owner_ok = owner.chars().count() <= 39 && (login(owner) || emu(owner));
    let repo_ok = !repo.is_empty()
        && repo.chars().count() <= 100
        && repo != "."
        && repo != ".."
        && repo
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    owner_ok && repo_ok
}

/// Mostly near-valid names, plus anything at all.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9._-]{0,105}",
        "-?[A-Za-z0-9-]{0,42}",
        "-?[A-Za-z0-9-]{0,32}_[A-Za-z0-9_-]{0,9}",
        Just(".".to_owned()),
        Just("..".to_owned()),
        any::<String>(),
        "[\\x00-\\x7f]{0,20}",
    ]
}

/// Percent-encodes every byte but the unreserved ones, so the router must
/// decode the segment back to exactly `text`.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `check` over `CASES` values of `strategy`, then a line saying what ran.
fn for_cases<S: Strategy>(
    what: &str,
    strategy: S,
    check: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    TestRunner::new(Config::with_cases(CASES))
        .run(&strategy, check)
        .unwrap();
    println!("{what}: {CASES} cases");
}

/// `method` on `raw_path` with user-1's token, through the handler over
/// fresh, empty fakes: the answer, and the fakes to tell what was called.
fn handled(method: &str, raw_path: &str) -> (Answer, Fakes) {
    static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    });
    let token = hs256(FIXTURE_KEY, &claims("user-1"));
    let mut request = lambda_http::Request::new(lambda_http::Body::Empty);
    *request.method_mut() = Method::from_bytes(method.as_bytes()).unwrap_or(Method::DELETE);
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let request = request.with_raw_http_path(raw_path);
    let fakes = Fakes::new();
    let answer = RUNTIME.block_on(async { Answer::from(handle(&fakes.use_case(), request).await) });
    (answer, fakes)
}

#[test]
fn repo_name_accepts_exactly_what_github_accepts() {
    for_cases("RepoName property", (name(), name()), |(owner, repo)| {
        prop_assert_eq!(
            RepoName::parse(&owner, &repo).is_ok(),
            github_accepts(&owner, &repo)
        );
        Ok(())
    });
}

#[test]
fn a_name_github_refuses_is_404_without_touching_any_backend() {
    let names = (name(), name());
    for_cases(
        "router + names through the handler",
        names,
        |(owner, repo)| {
            let path = format!("/api/v1/repos/{}/{}/install", encode(&owner), encode(&repo));
            let (answer, fakes) = handled("DELETE", &path);
            if github_accepts(&owner, &repo) {
                // A valid name goes on to authentication; these fakes hold no
                // user item for the token's user.
                prop_assert_eq!(answer.status, 401);
            } else {
                prop_assert_eq!(answer.status, 404);
                prop_assert_eq!(&answer.body["detail"], "Installation not found");
                prop_assert_eq!(fakes.keys.fetches(), 0);
                prop_assert_eq!(fakes.store.calls(), 0);
            }
            Ok(())
        },
    );
}

#[test]
fn no_method_and_path_makes_the_handler_panic() {
    let method = prop_oneof![
        Just("DELETE".to_owned()),
        Just("GET".to_owned()),
        "[A-Z]{1,8}"
    ];
    let path = prop_oneof![
        "/(api|v1|repos|install|[^/]{0,12}|%[0-9A-Fa-f]{2}|%|\\.\\.)(/(api|v1|repos|install|[^/]{0,12}|%[0-9A-Fa-f]{2}|%|\\.\\.)){0,8}/?",
        any::<String>(),
    ];
    let requests = (method, path);
    for_cases(
        "router over arbitrary methods and paths",
        requests,
        |(method, path)| {
            let (answer, _) = handled(&method, &path);
            prop_assert!(
                matches!(answer.status, 401 | 404 | 405),
                "{} {path:?} → {}",
                method,
                answer.status
            );
            Ok(())
        },
    );
}

/// `route_property`'s property, on stable: the same one the cargo-fuzz
/// target checks under libFuzzer on a machine with nightly. Mostly paths
/// whose names the router decodes and `RepoName` accepts, so the property
/// meets many passing names, plus anything at all.
#[test]
fn a_name_the_router_and_repo_name_pass_is_key_and_url_safe() {
    let method = prop_oneof![Just("DELETE".to_owned()), "[A-Z]{1,8}"];
    // Near-valid names with the characters a key or a URL must not take.
    let risky = || prop_oneof![name(), "[A-Za-z0-9._~#/%?&= -]{1,12}"];
    let route = (risky(), risky()).prop_map(|(owner, repo)| {
        format!(
            "/prod/api/v1/repos/{}/{}/install",
            encode(&owner),
            encode(&repo)
        )
    });
    let text = prop_oneof![
        (method, route).prop_map(|(method, path)| format!("{method} {path}")),
        "DELETE /api/v1/repos/[^ ]{0,50}/[^ ]{0,110}/install",
        any::<String>(),
    ];
    for_cases("router + RepoName: key- and URL-safe", text, |text| {
        names_that_pass_are_key_and_url_safe(&text);
        Ok(())
    });
}
