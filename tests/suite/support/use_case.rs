//! The use case wired over in-memory fakes.

use std::time::Duration;

use nectr_disconnect::auth::{Authenticator, JwtRules};
use nectr_disconnect::disconnect::DisconnectRepository;

use super::fakes::{FakeGraph, FakeKeys, FakeStore, FakeTokens, FakeWebhooks};
use super::jwt::FIXTURE_KEY;

pub type FakeUseCase =
    DisconnectRepository<FakeStore, FakeTokens, FakeKeys, FakeWebhooks, FakeGraph>;

pub struct Fakes {
    pub store: FakeStore,
    pub tokens: FakeTokens,
    pub keys: FakeKeys,
    pub webhooks: FakeWebhooks,
    pub graph: FakeGraph,
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
            graph: FakeGraph::default(),
        }
    }

    /// Without a code graph, as when `NEO4J_URI` is not set.
    pub fn use_case(&self) -> FakeUseCase {
        self.wired(None)
    }

    pub fn use_case_with_graph(&self) -> FakeUseCase {
        self.wired(Some(self.graph.clone()))
    }

    fn wired(&self, graph: Option<FakeGraph>) -> FakeUseCase {
        DisconnectRepository::new(
            Authenticator::new(
                self.keys.clone(),
                JwtRules::default(),
                Duration::from_secs(300),
            ),
            self.store.clone(),
            self.tokens.clone(),
            self.webhooks.clone(),
            graph,
        )
    }
}
