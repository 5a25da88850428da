//! Who most tests act as, and what they start from: one user with one
//! installation of acme/my-backend whose webhook is 42.

use nectr_disconnect::domain::CleanupJob;

pub const USER: &str = "user-1";
/// The disconnect of that installation.
pub const PATH: &str = "/api/v1/repos/acme/my-backend/install";
/// USER's OAuth token as the user item stores it, for the fakes' KMS.
pub const CIPHERTEXT: &[u8] = b"ciphertext-of-user-1";
/// USER's OAuth token as KMS gives it back.
pub const OAUTH_TOKEN: &str = "gho_user1token";
/// When every installation seeded inactive was disconnected.
pub const DISCONNECTED_AT: &str = "2026-02-03T04:05:06Z";

/// The job a disconnect of USER's acme/my-backend (`inst-1`, webhook 42)
/// queues when GitHub fails transiently; an installation seeded inactive
/// vouches for it with `DISCONNECTED_AT`.
pub fn cleanup_job(disconnected_at: &str) -> CleanupJob {
    CleanupJob {
        user_id: USER.into(),
        repo: "acme/my-backend".into(),
        installation_id: "inst-1".into(),
        webhook_id: 42,
        disconnected_at: disconnected_at.into(),
    }
}
