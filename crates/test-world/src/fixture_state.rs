//! The state the fixtures in `events/` are answered in, defined once in
//! `tests/fixture-state.json` for the fakes, the demo's moto and ArcadeDB,
//! and the bench.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

#[derive(Deserialize)]
pub struct FixtureState {
    pub user: String,
    pub github_login: String,
    pub oauth_token: String,
    pub installed_at: String,
    /// Active ones, and earlier connections a disconnect made inactive.
    pub installations: Vec<FixtureInstallation>,
    /// What the code graph holds, by repository.
    pub graph: BTreeMap<String, RepositoryGraph>,
}

#[derive(Deserialize)]
pub struct FixtureInstallation {
    pub repo: String,
    pub installation_id: String,
    pub webhook_id: Option<u64>,
    /// When a disconnect made it inactive; `None`: active.
    #[serde(default)]
    pub disconnected_at: Option<String>,
}

#[derive(Deserialize)]
pub struct RepositoryGraph {
    pub files: Vec<String>,
    pub pull_requests: Vec<u64>,
    pub developers: Vec<String>,
}

pub fn fixture_state() -> FixtureState {
    serde_json::from_str(include_str!("../../../tests/fixture-state.json"))
        .expect("tests/fixture-state.json describes the fixtures' state")
}

impl FixtureState {
    /// One `CREATE` writing the graph as the rest of Nectr does: Repository
    /// nodes that CONTAIN File nodes, PullRequest nodes naming their
    /// repository, Developer nodes that CONTRIBUTED_TO repositories.
    pub fn graph_cypher(&self) -> String {
        let developers: BTreeSet<&str> = self
            .graph
            .values()
            .flat_map(|repo| repo.developers.iter().map(String::as_str))
            .collect();
        let developer: BTreeMap<&str, usize> = developers
            .into_iter()
            .enumerate()
            .map(|(n, d)| (d, n))
            .collect();
        let mut patterns: Vec<String> = developer
            .iter()
            .map(|(login, n)| format!("(d{n}:Developer {{login: '{login}'}})"))
            .collect();
        for (r, (full_name, repo)) in self.graph.iter().enumerate() {
            patterns.push(format!("(r{r}:Repository {{full_name: '{full_name}'}})"));
            for path in &repo.files {
                patterns.push(format!("(r{r})-[:CONTAINS]->(:File {{path: '{path}'}})"));
            }
            for number in &repo.pull_requests {
                patterns.push(format!(
                    "(:PullRequest {{repo: '{full_name}', number: {number}}})"
                ));
            }
            for login in &repo.developers {
                patterns.push(format!(
                    "(d{})-[:CONTRIBUTED_TO]->(r{r})",
                    developer[login.as_str()]
                ));
            }
        }
        format!("CREATE {}", patterns.join(",\n       "))
    }
}
