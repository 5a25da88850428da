//! The table's keys as CONTRACT §3 spells them. The one place the suite
//! writes them out: every other test, the bench and `test-world seed` key
//! their items through the adapter's own functions (test-world's
//! `seed.rs`), so a wrong format fails here, once.

use nectr_disconnect::adapters::dynamodb::{
    PROFILE_SK, installation_sk, installation_sk_prefix, user_pk,
};
use nectr_disconnect::domain::{RepoName, UserId};

#[test]
fn a_user_item_is_keyed_user_and_profile() {
    assert_eq!(user_pk(&UserId::new("user-1")), "USER#user-1");
    assert_eq!(PROFILE_SK, "PROFILE");
}

#[test]
fn an_installation_is_keyed_by_the_lower_case_repository_and_its_id() {
    let repo = RepoName::parse("Acme", "My-Backend").unwrap();

    assert_eq!(installation_sk_prefix(&repo), "INSTALL#acme/my-backend#");
    assert_eq!(
        installation_sk(&repo, "inst-1"),
        "INSTALL#acme/my-backend#inst-1"
    );
}
