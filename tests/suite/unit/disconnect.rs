//! The disconnect use case, behaviour by behaviour, over in-memory fakes.

use std::time::Duration;

use nectr_disconnect::disconnect::DisconnectError;
use nectr_disconnect::domain::{BearerToken, Disconnected, WebhookOutcome};
use nectr_disconnect::ports::{DependencyError, WebhookRemoval};
use nectr_disconnect::timeouts::QUEUE_SEND_RESERVE;
use test_world::jwt::{claims, hs256};

use crate::support::acting_user::{CIPHERTEXT, OAUTH_TOKEN, USER};
use crate::support::fakes::{Fault, StoredInstallation, TRANSIENT, WebhookCall};
use crate::support::logs::{capture, log_lines};
use crate::support::use_case::{Fakes, disconnect_with, token_for, webhook_removed};

/// `Fakes::connected()`, and USER's installation `inst-0` of `repo_full_name`
/// (with `webhook_id`), disconnected earlier.
fn connected_and_disconnected_earlier(repo_full_name: &str, webhook_id: u64) -> Fakes {
    let fakes = Fakes::connected();
    fakes
        .store
        .add_installation(USER, repo_full_name, "inst-0", Some(webhook_id), false);
    fakes
}

async fn disconnect_as(
    fakes: &Fakes,
    user: &str,
    owner: &str,
    repo: &str,
) -> Result<Disconnected, DisconnectError> {
    disconnect_with(&fakes.use_case(), Some(&token_for(user)), owner, repo).await
}

fn assert_inactive(installation: &StoredInstallation) {
    assert!(!installation.is_active, "{installation:?}");
    assert!(installation.disconnected_at.is_some(), "{installation:?}");
}

fn unavailable(result: &Result<Disconnected, DisconnectError>) -> bool {
    matches!(
        result,
        Err(DisconnectError::Dependency(
            DependencyError::Unavailable { .. }
        ))
    )
}

fn assert_untouched(before: &[StoredInstallation], fakes: &Fakes) {
    assert_eq!(before, fakes.store.installations());
}

#[tokio::test]
async fn disconnect_removes_the_webhook_and_marks_the_installation_inactive() {
    let fakes = Fakes::connected();

    let outcome = disconnect_as(&fakes, USER, "acme", "my-backend")
        .await
        .unwrap();

    assert_eq!(outcome, webhook_removed(None));
    assert_inactive(&fakes.store.installation("inst-1"));
    assert_eq!(
        fakes.webhooks.calls(),
        vec![WebhookCall {
            token: OAUTH_TOKEN.into(),
            repo: "acme/my-backend".into(),
            webhook_id: 42,
        }]
    );
}

#[tokio::test]
async fn webhook_removal_outcomes_are_reported_and_the_installation_is_inactive_in_every_case() {
    for (removal, outcome) in [
        (WebhookRemoval::AlreadyGone, WebhookOutcome::AlreadyGone),
        (WebhookRemoval::Refused, WebhookOutcome::Failed),
        (TRANSIENT, WebhookOutcome::Failed),
    ] {
        let fakes = Fakes::connected();
        fakes.webhooks.answer(removal);

        let result = disconnect_as(&fakes, USER, "acme", "my-backend")
            .await
            .unwrap();

        assert_eq!(result.webhook, outcome);
        assert_inactive(&fakes.store.installation("inst-1"));
    }
}

#[tokio::test]
async fn without_a_webhook_the_outcome_is_not_configured_and_the_token_is_never_decrypted() {
    let fakes = Fakes::new();
    fakes.store.add_user(USER, None);
    fakes
        .store
        .add_installation(USER, "acme/my-backend", "inst-1", None, true);

    let result = disconnect_as(&fakes, USER, "acme", "my-backend")
        .await
        .unwrap();

    assert_eq!(result.webhook, WebhookOutcome::NotConfigured);
    assert_eq!(fakes.tokens.calls(), 0);
    assert!(fakes.webhooks.calls().is_empty());
    assert_inactive(&fakes.store.installation("inst-1"));
}

#[tokio::test]
async fn lookup_ignores_case_and_github_gets_the_stored_spelling() {
    let fakes = Fakes::new();
    fakes.store.add_user(USER, Some(CIPHERTEXT));
    fakes.tokens.add(USER, CIPHERTEXT, OAUTH_TOKEN);
    fakes
        .store
        .add_installation(USER, "Acme/My-Backend", "inst-1", Some(7), true);

    let result = disconnect_as(&fakes, USER, "ACME", "my-BACKEND")
        .await
        .unwrap();

    assert_eq!(result.repo_full_name, "Acme/My-Backend");
    assert_eq!(fakes.webhooks.calls()[0].repo, "Acme/My-Backend");
    assert_inactive(&fakes.store.installation("inst-1"));
}

#[tokio::test]
async fn another_users_installation_is_not_found_and_stays_active() {
    let fakes = Fakes::connected();
    fakes.store.add_user("user-2", None);
    let before = fakes.store.installations();

    let result = disconnect_as(&fakes, "user-2", "acme", "my-backend").await;

    assert!(matches!(result, Err(DisconnectError::InstallationNotFound)));
    assert_untouched(&before, &fakes);
    assert!(fakes.webhooks.calls().is_empty());
}

#[tokio::test]
async fn a_repository_never_connected_or_already_disconnected_is_not_found() {
    let fakes = connected_and_disconnected_earlier("acme/old", 1);
    let before = fakes.store.installations();

    for repo in ["never-connected", "old"] {
        let result = disconnect_as(&fakes, USER, "acme", repo).await;
        assert!(
            matches!(result, Err(DisconnectError::InstallationNotFound)),
            "{repo}"
        );
    }
    assert_untouched(&before, &fakes);
}

#[tokio::test]
async fn a_reconnected_repository_disconnects_only_the_active_installation() {
    let fakes = connected_and_disconnected_earlier("acme/my-backend", 41);
    let old = fakes.store.installation("inst-0");

    disconnect_as(&fakes, USER, "acme", "my-backend")
        .await
        .unwrap();

    assert_eq!(fakes.store.installation("inst-0"), old);
    assert_inactive(&fakes.store.installation("inst-1"));
    assert_eq!(fakes.store.installations().len(), 2);
    assert_eq!(fakes.webhooks.calls().len(), 1);
}

#[tokio::test]
async fn every_active_installation_of_the_repository_is_disconnected() {
    let fakes = Fakes::connected();
    fakes
        .store
        .add_installation(USER, "acme/my-backend", "inst-2", Some(43), true);
    fakes.webhooks.answer(WebhookRemoval::AlreadyGone);

    let result = disconnect_as(&fakes, USER, "acme", "my-backend")
        .await
        .unwrap();

    assert_eq!(result.webhook, WebhookOutcome::AlreadyGone);
    assert_eq!(result.installation_ids, ["inst-1", "inst-2"]);
    assert_inactive(&fakes.store.installation("inst-1"));
    assert_inactive(&fakes.store.installation("inst-2"));
    assert_eq!(fakes.webhooks.webhook_ids(), [42, 43]);
}

#[tokio::test]
async fn losing_the_race_to_a_concurrent_disconnect_is_not_found() {
    let fakes = Fakes::connected();
    fakes.store.deactivate_before_update("inst-1");

    let result = disconnect_as(&fakes, USER, "acme", "my-backend").await;

    assert!(matches!(result, Err(DisconnectError::InstallationNotFound)));
    let stored = fakes.store.installation("inst-1");
    assert!(!stored.is_active);
    assert_eq!(
        stored.disconnected_at, None,
        "the other disconnect's write stands"
    );
}

#[tokio::test]
async fn malformed_names_are_not_found_without_calling_any_dependency() {
    let fakes = Fakes::connected();
    let long_owner = "o".repeat(40);
    let long_repo = "r".repeat(101);
    for (owner, repo) in [
        ("ac.me", "my-backend"),
        ("ac_me", "my-backend"),
        ("--", "my-backend"),
        ("", "my-backend"),
        (long_owner.as_str(), "my-backend"),
        ("acme", ""),
        ("acme", "."),
        ("acme", ".."),
        ("acme", "my/backend"),
        ("acme", "my backend"),
        ("acme", "my\u{0}backend"),
        ("acme", "my\nbackend"),
        ("acme", "%2e%2e"),
        ("acme", long_repo.as_str()),
    ] {
        let result = disconnect_as(&fakes, USER, owner, repo).await;
        assert!(
            matches!(result, Err(DisconnectError::InstallationNotFound)),
            "{owner:?}/{repo:?}"
        );
    }
    assert_eq!(fakes.keys.fetches(), 0);
    assert_eq!(fakes.store.calls(), 0);
    assert_eq!(fakes.tokens.calls(), 0);
    assert!(fakes.webhooks.calls().is_empty());
}

#[tokio::test]
async fn a_caller_without_a_token_is_unauthorized() {
    let fakes = Fakes::connected();

    let result = disconnect_with(&fakes.use_case(), None, "acme", "my-backend").await;

    assert!(matches!(result, Err(DisconnectError::Unauthorized(_))));
    assert_eq!(fakes.store.calls(), 0);
}

#[tokio::test]
async fn a_valid_token_of_a_user_without_a_user_item_is_unauthorized() {
    let fakes = Fakes::connected();
    fakes
        .store
        .add_installation("ghost", "acme/my-backend", "inst-9", None, true);
    let before = fakes.store.installations();

    let result = disconnect_as(&fakes, "ghost", "acme", "my-backend").await;

    assert!(matches!(result, Err(DisconnectError::Unauthorized(_))));
    assert_untouched(&before, &fakes);
}

/// A cold start: the signing keys are not held yet, and their fetch and the
/// user's read each take one second.
fn cold_and_slow() -> Fakes {
    let fakes = Fakes::connected();
    fakes.keys.slow(Duration::from_secs(1));
    fakes.store.slow(Duration::from_secs(1));
    fakes
}

#[tokio::test(start_paused = true)]
async fn on_a_cold_start_the_installation_is_read_while_the_signing_keys_arrive() {
    let fakes = cold_and_slow();
    let started = tokio::time::Instant::now();

    let outcome = disconnect_as(&fakes, USER, "acme", "my-backend").await;

    // Keys ‖ user: one second, not two.
    assert_eq!(started.elapsed(), Duration::from_secs(1));
    assert_eq!(outcome.unwrap(), webhook_removed(None));
    assert_inactive(&fakes.store.installation("inst-1"));
    assert_eq!(fakes.keys.fetches(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_forged_token_on_a_cold_start_is_unauthorized_and_its_reads_are_dropped() {
    let fakes = cold_and_slow();
    let before = fakes.store.installations();
    let forged = BearerToken::new(&hs256(b"attacker-key", &claims(USER)));

    let result = disconnect_with(&fakes.use_case(), Some(&forged), "acme", "my-backend").await;

    assert!(
        matches!(result, Err(DisconnectError::Unauthorized(_))),
        "{result:?}"
    );
    // The user and the installations were read under the claimed id.
    assert_eq!(fakes.store.calls(), 2);
    assert_eq!(fakes.tokens.calls(), 0);
    assert!(fakes.webhooks.calls().is_empty());
    assert_untouched(&before, &fakes);
}

#[tokio::test]
async fn with_the_keys_held_a_forged_token_reads_nothing() {
    let fakes = Fakes::connected();
    let use_case = fakes.use_case();
    use_case.prefetch_signing_keys().await.unwrap();
    let forged = BearerToken::new(&hs256(b"attacker-key", &claims(USER)));

    let result = disconnect_with(&use_case, Some(&forged), "acme", "my-backend").await;

    assert!(
        matches!(result, Err(DisconnectError::Unauthorized(_))),
        "{result:?}"
    );
    assert_eq!(fakes.store.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn on_a_cold_start_a_failed_read_under_a_token_that_does_not_verify_is_unauthorized() {
    let fakes = cold_and_slow();
    fakes.store.fail_with(Fault::Unavailable);
    let forged = BearerToken::new(&hs256(b"attacker-key", &claims(USER)));

    let result = disconnect_with(&fakes.use_case(), Some(&forged), "acme", "my-backend").await;

    assert!(
        matches!(result, Err(DisconnectError::Unauthorized(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_undecryptable_oauth_token_is_session_expired_and_changes_nothing() {
    // The user item holds another user's ciphertext, or none at all.
    for github_token in [Some(b"ciphertext-of-user-2".as_slice()), None] {
        let fakes = Fakes::new();
        fakes.store.add_user(USER, github_token);
        fakes
            .tokens
            .add("user-2", b"ciphertext-of-user-2", "gho_other");
        fakes
            .store
            .add_installation(USER, "acme/my-backend", "inst-1", Some(42), true);
        let before = fakes.store.installations();

        let result = disconnect_as(&fakes, USER, "acme", "my-backend").await;

        assert!(matches!(result, Err(DisconnectError::SessionExpired(_))));
        assert_untouched(&before, &fakes);
        assert!(fakes.webhooks.calls().is_empty());
    }
}

#[tokio::test]
async fn an_unavailable_dependency_is_reported_as_unavailable_and_changes_nothing() {
    for (dependency, result) in each_dependency_failing_with(Fault::Unavailable).await {
        assert!(unavailable(&result), "{dependency:?}: {result:?}");
    }
}

#[tokio::test]
async fn a_failing_dependency_is_reported_as_failed_and_changes_nothing() {
    for (dependency, result) in each_dependency_failing_with(Fault::Failed).await {
        assert!(
            matches!(
                result,
                Err(DisconnectError::Dependency(DependencyError::Failed { .. }))
            ),
            "{dependency:?}: {result:?}"
        );
    }
}

/// The dependencies a disconnect reads before it calls GitHub.
#[derive(Clone, Copy, Debug)]
enum ReadBeforeGitHub {
    Store,
    Kms,
    SigningKeys,
}

/// A disconnect with each dependency read before GitHub failing in turn:
/// what it answered, once it is checked that nothing changed and GitHub was
/// not called.
async fn each_dependency_failing_with(
    fault: Fault,
) -> Vec<(ReadBeforeGitHub, Result<Disconnected, DisconnectError>)> {
    let mut results = Vec::new();
    for dependency in [
        ReadBeforeGitHub::Store,
        ReadBeforeGitHub::Kms,
        ReadBeforeGitHub::SigningKeys,
    ] {
        let fakes = Fakes::connected();
        let before = fakes.store.installations();
        match dependency {
            ReadBeforeGitHub::Store => fakes.store.fail_with(fault),
            ReadBeforeGitHub::Kms => fakes.tokens.fail_with(fault),
            ReadBeforeGitHub::SigningKeys => fakes.keys.fail_with(fault),
        }

        let result = disconnect_as(&fakes, USER, "acme", "my-backend").await;

        assert_untouched(&before, &fakes);
        assert!(fakes.webhooks.calls().is_empty(), "{dependency:?}");
        results.push((dependency, result));
    }
    results
}

#[tokio::test]
async fn an_update_whose_answer_was_lost_but_went_through_is_a_200() {
    let fakes = Fakes::connected();
    fakes.store.lose_update_answers();

    let result = disconnect_as(&fakes, USER, "acme", "my-backend").await;

    assert_eq!(result.unwrap().webhook, WebhookOutcome::Removed);
    assert_inactive(&fakes.store.installation("inst-1"));
}

#[tokio::test(start_paused = true)]
async fn an_update_that_never_answers_is_unavailable_by_the_deadline_and_changes_nothing() {
    let fakes = Fakes::connected();
    fakes.store.hang_updates();
    let before = fakes.store.installations();

    let result = disconnect_as(&fakes, USER, "acme", "my-backend").await;

    assert!(unavailable(&result), "{result:?}");
    assert_untouched(&before, &fakes);
}

const SETTINGS_URL: &str = "https://github.test/acme/my-backend/settings/hooks/42";

/// The use case bounds the removal by the deadline, whatever the adapter
/// does: without a queue to take the job, the hook is the user's to remove.
#[tokio::test(start_paused = true)]
async fn without_a_queue_a_removal_that_outlasts_the_deadline_is_failed_and_the_installation_is_inactive()
 {
    let fakes = Fakes::connected();
    fakes.webhooks.hang(Duration::from_secs(600));
    let started = tokio::time::Instant::now();
    let (logs, _guard) = capture();

    let outcome = disconnect_as(&fakes, USER, "acme", "my-backend")
        .await
        .unwrap();

    // Paused time: the clock moves only to the next timer, so this tells
    // which timer ended the removal, not how fast anything ran.
    assert!(
        started.elapsed() < Duration::from_secs(600),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(outcome.webhook, WebhookOutcome::Failed);
    assert_eq!(outcome.webhook_settings_url.as_deref(), Some(SETTINGS_URL));
    assert_inactive(&fakes.store.installation("inst-1"));
    let silence: Vec<_> = log_lines(&logs.text())
        .into_iter()
        .filter(|line| line["message"] == "GitHub did not answer")
        .collect();
    assert_eq!(silence.len(), 1, "{}", logs.text());
    assert_eq!(silence[0]["level"], "WARN");
    assert_eq!(silence[0]["cause"], "the invocation deadline was reached");
}

/// A removal the deadline cuts short is a time-out like any other: with a
/// queue, the time its job's send needs is kept back from GitHub's call,
/// so the job is queued before the deadline even when the send is slow.
#[tokio::test(start_paused = true)]
async fn a_removal_the_deadline_cuts_short_is_scheduled_with_one_job_queued() {
    let fakes = Fakes::connected();
    fakes.webhooks.hang(Duration::from_secs(600));
    fakes
        .cleanup
        .slow(QUEUE_SEND_RESERVE - Duration::from_millis(100));

    let outcome = disconnect_with_cleanup(&fakes).await;

    assert_eq!(outcome.webhook, WebhookOutcome::Scheduled);
    assert_eq!(outcome.webhook_settings_url, None);
    assert_inactive(&fakes.store.installation("inst-1"));
    let jobs = fakes.cleanup.jobs();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].0.webhook_id, 42);
}

async fn disconnect_with_cleanup(fakes: &Fakes) -> Disconnected {
    disconnect_with(
        &fakes.use_case_with_cleanup(),
        Some(&token_for(USER)),
        "acme",
        "my-backend",
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_transient_github_failure_is_scheduled_with_the_contracts_job() {
    let fakes = Fakes::connected();
    fakes.webhooks.answer(TRANSIENT);

    let outcome = disconnect_with_cleanup(&fakes).await;

    assert_eq!(outcome.webhook, WebhookOutcome::Scheduled);
    assert_eq!(outcome.webhook_settings_url, None);
    assert_inactive(&fakes.store.installation("inst-1"));
    let jobs = fakes.cleanup.jobs();
    let [(job, delay)] = jobs.as_slice() else {
        panic!("one job: {jobs:?}");
    };
    assert_eq!(
        (
            job.user_id.as_str(),
            job.repo.as_str(),
            job.installation_id.as_str(),
            job.webhook_id
        ),
        (USER, "acme/my-backend", "inst-1", 42)
    );
    assert_eq!(
        Some(job.disconnected_at.clone()),
        fakes.store.installation("inst-1").disconnected_at,
        "the job carries the disconnect's own time"
    );
    assert_eq!(*delay, Duration::from_secs(60));
}

#[tokio::test]
async fn a_rate_limited_removal_is_scheduled_after_githubs_retry_time() {
    let fakes = Fakes::connected();
    fakes.webhooks.answer(WebhookRemoval::Transient {
        retry_after: Some(Duration::from_secs(600)),
    });

    disconnect_with_cleanup(&fakes).await;

    assert_eq!(fakes.cleanup.jobs()[0].1, Duration::from_secs(600));
}

/// A double click during a GitHub outage: the other invocation deactivates
/// the item between this one's lookup and its update. This one answers 404
/// and queues nothing, so the worker never meets a job no disconnect of its
/// item wrote.
#[tokio::test]
async fn the_loser_of_a_double_click_during_a_github_outage_queues_no_job() {
    let fakes = Fakes::connected();
    fakes.webhooks.answer(TRANSIENT);
    fakes.store.deactivate_before_update("inst-1");

    let result = disconnect_with(
        &fakes.use_case_with_cleanup(),
        Some(&token_for(USER)),
        "acme",
        "my-backend",
    )
    .await;

    assert!(
        matches!(result, Err(DisconnectError::InstallationNotFound)),
        "{result:?}"
    );
    assert!(
        fakes.cleanup.jobs().is_empty(),
        "{:?}",
        fakes.cleanup.jobs()
    );
}

/// The worker finds a job's item by the key its `repo` names; when the
/// stored `repo_full_name` no longer names the item's own key, no job is
/// promised and the user gets the page to remove the hook by hand.
#[tokio::test]
async fn a_stored_name_that_does_not_name_its_key_is_failed_not_scheduled() {
    let fakes = Fakes::connected();
    fakes.store.rename("inst-1", "acme/my-backend-renamed");
    fakes.webhooks.answer(TRANSIENT);

    let outcome = disconnect_with_cleanup(&fakes).await;

    assert_eq!(outcome.webhook, WebhookOutcome::Failed);
    assert_eq!(outcome.webhook_settings_url.as_deref(), Some(SETTINGS_URL));
    assert!(
        fakes.cleanup.jobs().is_empty(),
        "{:?}",
        fakes.cleanup.jobs()
    );
    assert_inactive(&fakes.store.installation("inst-1"));
}

/// The cleanup queue as a disconnect finds it.
enum Queue {
    NotConfigured,
    Takes,
    Refuses,
}

/// Whenever the hook stays on GitHub with no job to remove it later, the
/// answer is `failed` with the page to remove it by hand, and the
/// installation is inactive all the same.
#[tokio::test]
async fn a_hook_left_with_no_job_is_failed_with_the_settings_page() {
    for (case, removal, queue) in [
        ("GitHub refuses", WebhookRemoval::Refused, Queue::Takes),
        ("no queue is configured", TRANSIENT, Queue::NotConfigured),
        ("the queue refuses", TRANSIENT, Queue::Refuses),
    ] {
        let fakes = Fakes::connected();
        fakes.webhooks.answer(removal);
        let use_case = match queue {
            Queue::NotConfigured => fakes.use_case(),
            Queue::Takes => fakes.use_case_with_cleanup(),
            Queue::Refuses => {
                fakes.cleanup.fail_with(Fault::Unavailable);
                fakes.use_case_with_cleanup()
            }
        };

        let outcome = disconnect_with(&use_case, Some(&token_for(USER)), "acme", "my-backend")
            .await
            .unwrap();

        assert_eq!(outcome.webhook, WebhookOutcome::Failed, "{case}");
        let settings_url = outcome.webhook_settings_url.as_deref();
        assert_eq!(settings_url, Some(SETTINGS_URL), "{case}");
        assert!(fakes.cleanup.jobs().is_empty(), "{case}");
        assert_inactive(&fakes.store.installation("inst-1"));
    }
}
