//! The use case wired over in-memory fakes.

use std::time::Duration;

use nectr_disconnect::auth::{Authenticator, JwtRules};
use nectr_disconnect::disconnect::DisconnectRepository;

use super::fakes::{FakeKeys, FakeStore, FakeTokens, FakeWebhooks};
use super::jwt::FIXTURE_KEY;

pub type FakeUseCase = DisconnectRepository<FakeStore, FakeTokens, FakeKeys, FakeWebhooks>;

pub struct Fakes {
    pub store: FakeStore,
    pub tokens: FakeTokens,
    pub keys: FakeKeys,
    pub webhooks: FakeWebhooks,
}

impl Fakes {
    /// Empty fakes; the signing key is the fixtures' test key.
    pub fn new() -> Self {
        super::logs::scan_all_logs();
        Self {
            store: FakeStore::default(),
            tokens: FakeTokens::default(),
            keys: FakeKeys::new(FIXTURE_KEY),
            webhooks: FakeWebhooks::default(),
        }
    }

    pub fn use_case(&self) -> FakeUseCase {
        DisconnectRepository::new(
            Authenticator::new(
                self.keys.clone(),
                JwtRules::default(),
                Duration::from_secs(300),
            ),
            self.store.clone(),
            self.tokens.clone(),
            self.webhooks.clone(),
        )
    }
}
