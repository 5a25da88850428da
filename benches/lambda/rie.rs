//! The function under AWS's Runtime Interface Emulator (the RIE that the SAM
//! CLI package in `.venv` ships and runs in every `sam local` container),
//! here outside a container: the RIE serves Lambda's Runtime API to the
//! bootstrap, starts it on the first invocation as Lambda does on demand,
//! and is invoked over HTTP as `sam local start-lambda` is.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use crate::bench::root;

/// The RIE binary for this machine's architecture.
pub fn emulator() -> PathBuf {
    let arch = if cfg!(target_arch = "aarch64") {
        "arm64"
    } else {
        "x86_64"
    };
    let lib = root().join(".venv/lib");
    std::fs::read_dir(&lib)
        .unwrap_or_else(|_| panic!("{} is missing: run `make bootstrap`", lib.display()))
        .flatten()
        .map(|python| {
            python
                .path()
                .join("site-packages/samcli/local/rapid")
                .join(format!("aws-lambda-rie-{arch}"))
        })
        .find(|rie| rie.exists())
        .expect("the SAM CLI package in .venv ships the RIE: run `make bootstrap`")
}

pub struct Completion {
    pub body: Vec<u8>,
    pub error: bool,
}

/// One execution environment: the RIE and, from its first invocation on,
/// the bootstrap it started.
pub struct Function {
    rie: Child,
    invocations: String,
    client: reqwest::Client,
}

impl Function {
    /// `command` runs the RIE; it must not be spawned yet. Returns once the
    /// RIE takes invocations.
    pub async fn start(mut command: Command, port: u16, client: reqwest::Client) -> Self {
        let rie = command.spawn().expect("the RIE starts");
        let function = Self {
            rie,
            invocations: format!(
                "http://127.0.0.1:{port}/2015-03-31/functions/function/invocations"
            ),
            client,
        };
        for _ in 0..500 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return function;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the RIE did not listen on {port} within 5 s");
    }

    /// Sends `event`, waits for the function's answer. The RIE answers a
    /// function error with 200 and the error's `errorType`, as Lambda's
    /// Invoke API does.
    pub async fn invoke(&self, event: &str) -> Completion {
        let answer = self
            .client
            .post(&self.invocations)
            .body(event.to_owned())
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .expect("the RIE answers within 30 s");
        let ok = answer.status().is_success();
        let body = answer.bytes().await.expect("the RIE's answer").to_vec();
        let error = !ok
            || serde_json::from_slice::<serde_json::Value>(&body)
                .is_ok_and(|answer| answer.get("errorType").is_some());
        Completion { body, error }
    }

    /// Processes the RIE started: the bootstrap, once it has been invoked.
    fn children(&self) -> Vec<u32> {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", self.rie.id())) else {
            return Vec::new();
        };
        tasks
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
            .flat_map(|children| {
                children
                    .split_whitespace()
                    .filter_map(|pid| pid.parse().ok())
                    .collect::<Vec<u32>>()
            })
            .collect()
    }

    pub fn bootstrap_pid(&self) -> u32 {
        *self
            .children()
            .first()
            .expect("the RIE started the bootstrap")
    }

    /// Stops the bootstrap, then the RIE, whose Runtime API port (9001) the
    /// next function needs.
    pub fn stop(mut self) {
        for child in self.children() {
            let _ = Command::new("kill")
                .args(["-KILL", &child.to_string()])
                .status();
        }
        let _ = self.rie.kill();
        let _ = self.rie.wait();
    }
}

/// The init duration the RIE reports for the first invocation of the
/// environment whose log is `log` (`INIT REPORT(durationMs: 12.3)`): from
/// the bootstrap's start to its first request for work, as Lambda's
/// `Init Duration`.
pub fn init_duration(log: &Path) -> Duration {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let millis: f64 = text
        .lines()
        .find_map(|line| {
            let (_, rest) = line.split_once("INIT REPORT(durationMs: ")?;
            rest.split(')').next()?.trim().parse().ok()
        })
        .unwrap_or_else(|| panic!("no INIT REPORT in {}: {text}", log.display()));
    Duration::from_secs_f64(millis / 1000.0)
}

/// What the RIE billed each invocation of the environment whose log is
/// `log` (`REPORT … Billed Duration: 13 ms`), init apart, in order.
pub fn billed_durations(log: &Path) -> Vec<Duration> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let (_, rest) = line.split_once("Billed Duration: ")?;
            rest.split(' ').next()?.trim().parse().ok()
        })
        .map(Duration::from_millis)
        .collect()
}

/// The first invocation's billed duration; `None` when the RIE printed no
/// `REPORT` line.
pub fn billed_duration(log: &Path) -> Option<Duration> {
    billed_durations(log).first().copied()
}
