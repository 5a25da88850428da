// One property, two runners: this file is a module of the suite, whose
// proptest runs it on stable (`make unit`, `hostile::names`), and is
// `include!`d by the cargo-fuzz target (`fuzz/fuzz_targets/route.rs`,
// nightly only). Plain comments: an included file takes no inner docs.

use lambda_http::http::Method;
use nectr_disconnect::domain::RepoName;
use nectr_disconnect::http::api::{Endpoint, endpoint};

/// What the routes and `RepoName` promise together, for any "METHOD PATH"
/// text: nothing panics, and a name that passes holds only characters that
/// are safe unescaped in a DynamoDB key (`INSTALL#owner/repo#id`: no `#`,
/// no `/`) and in a GitHub URL path (unreserved characters, never `.` or
/// `..` alone), within GitHub's lengths. Which logins GitHub gives is
/// `names.rs`' business, not this property's.
pub fn names_that_pass_are_key_and_url_safe(text: &str) {
    let (method, path) = text.split_once(' ').unwrap_or(("DELETE", text));
    let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::DELETE);
    let Ok(Endpoint::Disconnect { owner, repo }) = endpoint(&method, path, Some("prod")) else {
        return;
    };
    let Ok(name) = RepoName::parse(&owner, &repo) else {
        return;
    };
    let safe = |segment: &str, longest: usize| {
        (1..=longest).contains(&segment.len())
            && segment != "."
            && segment != ".."
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    };
    assert!(
        safe(name.owner(), 39),
        "owner {:?} of {text:?}",
        name.owner()
    );
    assert!(safe(name.name(), 100), "repo {:?} of {text:?}", name.name());
}
