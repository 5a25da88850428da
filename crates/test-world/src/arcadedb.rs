//! ArcadeDB as the Bolt server Neo4j cannot be here: it speaks Bolt 4.4 and
//! Cypher, and ships with its own Java runtime in the `arcadedb-embedded`
//! wheel that scripts/tools/bootstrap.sh installs. Each test starts its own on free
//! loopback ports, in a fresh directory, and stops it when the handle is
//! dropped, pass or fail.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

use neo4rs::{ConfigBuilder, Graph, query};

use crate::process::{
    NotStarted, spawn_with_output, start_off_runtime, start_on_free_ports, wait_for_line,
};
use crate::{free_port, secrets, workspace_root};

const STARTUP_LIMIT: Duration = Duration::from_secs(120);
/// Printed once the default database exists; the Bolt port opens earlier.
const STARTED: &str = "ArcadeDB Server started";
pub const USERNAME: &str = "root";
/// The demo's and the scripts' server's password: local-only, like the
/// fixtures' signing key (jwt.rs). The suite's servers each make their own.
pub const LOCAL_PASSWORD: &str = "nectr-local-graph-password";

pub struct ArcadeDb {
    child: Child,
    root: PathBuf,
    pub uri: String,
    pub password: String,
}

fn home() -> PathBuf {
    if let Some(home) = std::env::var_os("ARCADEDB_HOME") {
        return PathBuf::from(home);
    }
    let lib = workspace_root().join(".venv/lib");
    std::fs::read_dir(&lib)
        .into_iter()
        .flatten()
        .flatten()
        .map(|python| python.path().join("site-packages/arcadedb_embedded"))
        .find(|home| home.join("jre/bin/java").exists())
        .unwrap_or_else(|| {
            panic!(
                "no arcadedb_embedded under {}: run `make test` or scripts/tools/bootstrap.sh",
                lib.display()
            )
        })
}

impl ArcadeDb {
    pub async fn start() -> Self {
        start_off_runtime("ArcadeDB", || {
            start_on_free_ports("ArcadeDB", Self::try_start)
        })
        .await
    }

    fn try_start() -> Result<Self, NotStarted> {
        let home = home();
        let bolt_port = free_port();
        let password = format!("arcadedb-password-{}-{bolt_port}", std::process::id());
        secrets::register(&password);
        let root = std::env::temp_dir().join(format!("nectr-arcadedb-{bolt_port}"));
        let _fresh = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("a server root");
        let mut command = Command::new(home.join("jre/bin/java"));
        command
            .arg("-Xmx256m")
            .arg("-cp")
            .arg(home.join("jars/*"))
            .arg("-Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin")
            .arg("-Darcadedb.bolt.host=127.0.0.1")
            .arg(format!("-Darcadedb.bolt.port={bolt_port}"))
            .arg("-Darcadedb.server.httpIncomingHost=127.0.0.1")
            .arg(format!(
                "-Darcadedb.server.httpIncomingPort={}",
                free_port()
            ))
            .arg(format!("-Darcadedb.server.rootPassword={password}"))
            .arg("-Darcadedb.server.defaultDatabases=neo4j[root]")
            .arg("-Darcadedb.bolt.defaultDatabase=neo4j")
            .arg(format!("-Darcadedb.server.rootPath={}", root.display()))
            .arg("com.arcadedb.server.ArcadeDBServer")
            // Its log files go to ./log: keep them out of the checkout.
            .current_dir(&root);
        let (child, lines) = spawn_with_output(&mut command, "ArcadeDB's java");
        // Built first, so that a failed start still stops the server.
        let server = Self {
            child,
            root,
            uri: format!("bolt://127.0.0.1:{bolt_port}"),
            password,
        };
        wait_for_line(&lines, STARTED, STARTUP_LIMIT)?;
        Ok(server)
    }

    /// A driver logged in as the administrator, for seeding and dumping.
    pub fn admin(&self) -> Graph {
        admin(&self.uri, &self.password)
    }

    pub async fn write(&self, cypher: &str) {
        write(&self.uri, &self.password, cypher).await;
    }

    /// Every node and relationship with its labels or type, endpoints and
    /// properties, one sorted line each: two dumps are equal only if the
    /// graph is.
    pub async fn dump(&self) -> Vec<String> {
        let graph = self.admin();
        let mut lines = Vec::new();
        for cypher in [
            "MATCH (n) RETURN elementId(n) AS id, labels(n) AS kind, properties(n) AS props",
            "MATCH (a)-[r]->(b) \
             RETURN elementId(r) + ' ' + elementId(a) + '->' + elementId(b) AS id, \
             type(r) AS kind, properties(r) AS props",
        ] {
            let mut rows = graph.execute(query(cypher)).await.expect("the dump runs");
            while let Some(row) = rows.next().await.expect("a dump row") {
                let field = |name: &str| {
                    row.get::<serde_json::Value>(name)
                        .unwrap_or_else(|e| panic!("dump column {name}: {e}"))
                };
                lines.push(format!(
                    "{} {} {}",
                    field("id"),
                    field("kind"),
                    field("props")
                ));
            }
        }
        lines.sort();
        lines
    }
}

/// A driver logged in as the administrator of the server at `uri`.
pub fn admin(uri: &str, password: &str) -> Graph {
    let config = ConfigBuilder::default()
        .uri(uri)
        .user(USERNAME)
        .password(password)
        .build()
        .expect("a valid driver configuration");
    Graph::connect(config).expect("the driver builds")
}

/// Runs `cypher` as the administrator of the server at `uri`.
pub async fn write(uri: &str, password: &str, cypher: &str) {
    admin(uri, password)
        .run(query(cypher))
        .await
        .unwrap_or_else(|e| panic!("ArcadeDB runs {cypher}: {e}"));
}

impl Drop for ArcadeDb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
