//! How the bench starts an execution environment: one `Launch`, every
//! setting named, run by AWS's Runtime Interface Emulator (`rie.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nectr_disconnect::config;

use crate::bench::{Bench, Network, aws_env, root};
use crate::cpu_share::CpuGroup;
use crate::rie::{Function, emulator};

/// Which of the crate's Lambdas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lambda {
    Disconnect,
    Worker,
}

impl Lambda {
    pub fn name(self) -> &'static str {
        match self {
            Self::Disconnect => "nectr-disconnect",
            Self::Worker => "nectr-webhook-cleanup",
        }
    }
}

/// The memory size `template.yaml` gives a function: what the bench
/// measures by default (`BENCH_MEMORY_MB` overrides it).
pub fn template_memory_mb(lambda: Lambda) -> u64 {
    template_property(lambda, "MemorySize")
}

/// `lambda`'s `property` in `template.yaml`, its own or the `Globals`'.
fn template_property(lambda: Lambda, property: &str) -> u64 {
    let resource = match lambda {
        Lambda::Disconnect => "DisconnectFunction",
        Lambda::Worker => "CleanupFunction",
    };
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    let template: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    template["Resources"][resource]["Properties"][property]
        .as_u64()
        .or_else(|| template["Globals"]["Function"][property].as_u64())
        .unwrap_or_else(|| panic!("template.yaml gives {resource} no {property}"))
}

/// The release build `make bench` makes.
pub fn binary() -> PathBuf {
    binary_of(Lambda::Disconnect)
}

pub fn binary_of(lambda: Lambda) -> PathBuf {
    let path = root()
        .join("target/lambda-bench")
        .join(lambda.name())
        .join("bootstrap");
    assert!(
        path.exists(),
        "{} is missing: run `make bench`",
        path.display()
    );
    path
}

/// One function process: which build, where its calls go, how it starts.
pub struct Launch<'a> {
    pub lambda: Lambda,
    pub binary: &'a Path,
    pub network: &'a Network,
    /// Its log file, under `target/bench`.
    pub log: &'a str,
    /// `WARM_UP_ON_INIT` (the disconnect's).
    pub warm_up: bool,
    /// The code graph's Bolt URI; `None` leaves `NEO4J_URI` unset.
    pub graph: Option<&'a str>,
    /// The CPU cgroup the bootstrap runs in; `None`: the bench's own.
    pub cpu: Option<&'a CpuGroup>,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, as Lambda sets it.
    pub memory_mb: u64,
}

impl<'a> Launch<'a> {
    /// The disconnect as deployed: warm-up at init, no code graph, the
    /// template's memory size, the bench's own CPU.
    pub fn disconnect(binary: &'a Path, network: &'a Network, log: &'a str) -> Self {
        Self {
            lambda: Lambda::Disconnect,
            binary,
            network,
            log,
            warm_up: true,
            graph: None,
            cpu: None,
            memory_mb: template_memory_mb(Lambda::Disconnect),
        }
    }

    /// The function's own variables, as the template sets them.
    fn variables<'b>(&self, bench: &'b Bench) -> Vec<(&'static str, &'b str)> {
        let names = &bench.names;
        let shared = [
            (config::TABLE_NAME, names.table.as_str()),
            (config::KMS_KEY_ID, names.kms_key_alias.as_str()),
            (config::CLEANUP_QUEUE_URL, bench.cleanup_queue_url.as_str()),
        ];
        let own = match self.lambda {
            // As deployed; the disconnect sends to the queue only when
            // GitHub fails, which no measured case does.
            Lambda::Disconnect => vec![
                (config::JWT_SECRET_ID, names.jwt_secret_id.as_str()),
                (
                    config::WARM_UP_ON_INIT,
                    if self.warm_up { "true" } else { "false" },
                ),
            ],
            Lambda::Worker => vec![],
        };
        shared.into_iter().chain(own).collect()
    }
}

impl Bench {
    /// A fresh execution environment: the RIE on a free port, writing its
    /// lines and the bootstrap's to `Launch::log`. The bootstrap starts on
    /// the first invocation, inside the launch's CPU cgroup when it names
    /// one.
    pub async fn launch(&self, launch: &Launch<'_>) -> Function {
        let log = std::fs::File::create(root().join("target/bench").join(launch.log)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let bootstrap = match launch.cpu {
            Some(group) => group.launcher_for(launch.binary),
            None => launch.binary.to_owned(),
        };
        let mut command = Command::new(emulator());
        command
            .arg("--runtime-interface-emulator-address")
            .arg(format!("127.0.0.1:{port}"))
            .arg(bootstrap)
            .env_clear()
            .envs(aws_env())
            .envs(launch.network.endpoints())
            .envs([
                ("AWS_LAMBDA_FUNCTION_NAME", launch.lambda.name().to_owned()),
                (
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                    launch.memory_mb.to_string(),
                ),
                // The worker takes a job only with a worst case's time left.
                (
                    "AWS_LAMBDA_FUNCTION_TIMEOUT",
                    template_property(launch.lambda, "Timeout").to_string(),
                ),
                (
                    config::GITHUB_API_URL,
                    launch.network.github.endpoint.clone(),
                ),
            ])
            .envs(launch.variables(self))
            .env("SSL_CERT_FILE", &self.ca_file)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        if let Some(uri) = launch.graph {
            command.envs([
                (config::NEO4J_URI, uri),
                (config::NEO4J_SECRET_ID, &self.names.neo4j_secret_id),
            ]);
        }
        Function::start(command, port, self.http.clone()).await
    }
}
