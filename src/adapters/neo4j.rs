//! `CodeGraph` over Neo4j's Bolt protocol with neo4rs: one read-only count
//! query. The credentials come from Secrets Manager (CONTRACT §7).

use std::sync::Arc;
use std::time::Duration;

use neo4rs::{ConfigBuilder, Graph, query};
use serde::Deserialize;
use tokio::sync::OnceCell;

use crate::config::Neo4jConfig;
use crate::domain::GraphCounts;
use crate::metrics::{self, Call};
use crate::ports::{BoxError, CodeGraph, GraphError};

/// Counts what a disconnect keeps. OPTIONAL MATCH, so a repository the graph
/// has never seen counts zero everywhere instead of returning no row.
const COUNT_KEPT: &str = "\
OPTIONAL MATCH (:Repository {full_name: $repo})-[:CONTAINS]->(file:File) \
WITH count(DISTINCT file) AS files \
OPTIONAL MATCH (pull_request:PullRequest {repo: $repo}) \
WITH files, count(DISTINCT pull_request) AS pull_requests \
OPTIONAL MATCH (developer:Developer)-[:CONTRIBUTED_TO]->(:Repository {full_name: $repo}) \
RETURN files, pull_requests, count(DISTINCT developer) AS developers";

#[derive(Clone)]
pub struct Neo4jGraph {
    uri: String,
    secret_id: String,
    secrets: aws_sdk_secretsmanager::Client,
    timeout: Duration,
    /// Built on first use, once per cold start and shared by every clone:
    /// it needs the credentials, and an instance that never reads the
    /// graph never fetches them.
    driver: Arc<OnceCell<Graph>>,
}

/// No Debug: the password must never reach a log.
#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

#[derive(Debug, thiserror::Error)]
enum Neo4jError {
    #[error("the graph gave no answer within NEO4J_TIMEOUT_MS")]
    TimedOut,
    #[error("the credentials secret could not be read")]
    Secret(#[source] BoxError),
    /// Only serde's classification and position: its messages can quote the
    /// offending value, which may be the password.
    #[error(
        "the credentials secret is not {{\"username\", \"password\"}} JSON ({0:?} error at line {1}, column {2})"
    )]
    Credentials(serde_json::error::Category, usize, usize),
    #[error(transparent)]
    Driver(#[from] neo4rs::Error),
    #[error("the count query returned {0}")]
    Answer(String),
}

impl Neo4jGraph {
    pub fn new(config: &Neo4jConfig, secrets: aws_sdk_secretsmanager::Client) -> Self {
        Self {
            uri: config.uri.clone(),
            secret_id: config.secret_id.clone(),
            secrets,
            timeout: config.timeout,
            driver: Arc::new(OnceCell::new()),
        }
    }

    async fn count(&self, repo_full_name: &str) -> Result<GraphCounts, Neo4jError> {
        let driver = self.driver.get_or_try_init(|| self.connect()).await?;
        let mut rows = driver
            .execute_read(query(COUNT_KEPT).param("repo", repo_full_name))
            .await?;
        let row = rows.single().await?;
        let count = |column: &str| {
            row.get::<i64>(column)
                .ok()
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| Neo4jError::Answer(format!("no count in {column}")))
        };
        Ok(GraphCounts {
            files: count("files")?,
            pull_requests: count("pull_requests")?,
            developers: count("developers")?,
        })
    }

    /// neo4rs connects lazily: this fetches the credentials and builds the
    /// pool; the first query opens the connection.
    async fn connect(&self) -> Result<Graph, Neo4jError> {
        let request = self.secrets.get_secret_value().secret_id(&self.secret_id);
        let secret = request
            .send()
            .await
            .map_err(|e| Neo4jError::Secret(e.into()))?;
        let credentials: Credentials =
            serde_json::from_str(secret.secret_string().unwrap_or_default())
                .map_err(|e| Neo4jError::Credentials(e.classify(), e.line(), e.column()))?;
        let config = ConfigBuilder::default()
            .uri(&self.uri)
            .user(credentials.username)
            .password(credentials.password)
            .connection_timeout(self.timeout)
            .build()?;
        Ok(Graph::connect(config)?)
    }
}

impl CodeGraph for Neo4jGraph {
    /// neo4rs' own timeout does not cover the Bolt handshake, so the whole
    /// call, credentials included, runs under one timer.
    async fn kept(&self, repo_full_name: &str) -> Result<GraphCounts, GraphError> {
        let read = metrics::timed(Call::GraphRead, self.count(repo_full_name));
        let answer = tokio::time::timeout(self.timeout, read)
            .await
            .unwrap_or(Err(Neo4jError::TimedOut));
        answer.map_err(|e| GraphError(e.into()))
    }
}
