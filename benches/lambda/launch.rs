//! How the bench starts an execution environment: one `Launch`, every
//! setting named, run by AWS's Runtime Interface Emulator (`rie.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::bench::{Bench, aws_env, root};
use crate::rie::{Function, emulator};

/// The release build `make bench` makes.
pub fn binary() -> PathBuf {
    let path = root().join("target/lambda-bench/nectr-disconnect/bootstrap");
    assert!(
        path.exists(),
        "{} is missing: run `make bench`",
        path.display()
    );
    path
}

/// One function process: which build, where its calls go, how it starts.
pub struct Launch<'a> {
    pub binary: &'a Path,
    /// Where every AWS call goes.
    pub aws_endpoint: &'a str,
    pub github: &'a str,
    /// Its log file, under `target/bench`.
    pub log: &'a str,
    /// `WARM_UP_ON_INIT`.
    pub warm_up: bool,
    /// The code graph's Bolt URI; `None` leaves `NEO4J_URI` unset.
    pub graph: Option<&'a str>,
}

impl Bench {
    /// A fresh execution environment: the RIE on a free port, writing its
    /// lines and the bootstrap's to `Launch::log`. The bootstrap starts on
    /// the first invocation.
    pub async fn launch(&self, launch: &Launch<'_>) -> Function {
        let log = std::fs::File::create(root().join("target/bench").join(launch.log)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = Command::new(emulator());
        command
            .arg("--runtime-interface-emulator-address")
            .arg(format!("127.0.0.1:{port}"))
            .arg(launch.binary)
            .env_clear()
            .envs(aws_env(launch.aws_endpoint))
            .envs([
                ("AWS_LAMBDA_FUNCTION_NAME", "nectr-disconnect"),
                ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
                ("AWS_LAMBDA_FUNCTION_TIMEOUT", "10"),
                ("TABLE_NAME", self.names.table.as_str()),
                ("JWT_SECRET_ID", &self.names.jwt_secret_id),
                ("KMS_KEY_ID", &self.names.kms_key_alias),
                ("GITHUB_API_URL", launch.github),
                // As deployed; the disconnect sends to it only when GitHub
                // fails, which no measured case does.
                ("CLEANUP_QUEUE_URL", self.cleanup_queue_url.as_str()),
                (
                    "WARM_UP_ON_INIT",
                    if launch.warm_up { "true" } else { "false" },
                ),
            ])
            .env("SSL_CERT_FILE", &self.ca_file)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        if let Some(uri) = launch.graph {
            command.envs([
                ("NEO4J_URI", uri),
                ("NEO4J_SECRET_ID", &self.names.neo4j_secret_id),
            ]);
        }
        Function::start(command, port, self.http.clone()).await
    }
}
