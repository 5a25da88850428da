//! The router and the owner/repo rules on arbitrary input: "METHOD PATH".
//! Nothing may panic, and a name that passes must hold only the characters
//! GitHub allows, so it is safe in a DynamoDB key and a GitHub URL.

#![no_main]

use lambda_http::http::Method;
use libfuzzer_sys::fuzz_target;
use nectr_disconnect::domain::RepoName;
use nectr_disconnect::http::router::{Route, route};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (method, path) = text.split_once(' ').unwrap_or(("DELETE", text));
    let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::DELETE);
    let Route::Disconnect { owner, repo } = route(&method, path, Some("prod")) else {
        return;
    };
    if let Ok(name) = RepoName::parse(&owner, &repo) {
        let owner = name.owner();
        let repo = name.name();
        assert!((1..=39).contains(&owner.len()) && !owner.starts_with('-'));
        assert!(owner.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        assert!((1..=100).contains(&repo.len()) && repo != "." && repo != "..");
        assert!(repo.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)));
    }
});
