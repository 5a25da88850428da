use serde::Serialize;

/// What the Neo4j code graph keeps for a repository: the disconnect never
/// touches it, so a reconnect finds all of it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct GraphCounts {
    pub files: u64,
    pub pull_requests: u64,
    pub developers: u64,
}
