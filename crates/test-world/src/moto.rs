//! moto in server mode: local DynamoDB, KMS and Secrets Manager speaking the
//! real AWS wire protocols. Each test starts its own on a free loopback port
//! and stops it when the handle is dropped, pass or fail.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::ATTEMPTS;

pub struct Moto {
    child: Child,
    pub endpoint: String,
}

const STARTUP_LIMIT: Duration = Duration::from_secs(60);

fn moto_server() -> PathBuf {
    let path = std::env::var_os("MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join(".venv/bin/moto_server"));
    assert!(
        path.exists(),
        "{} is missing: run `make test` or scripts/tools/bootstrap.sh to install moto",
        path.display()
    );
    path
}

impl Moto {
    /// A free port can be taken by another test's server before moto, a
    /// Python process that binds it a second later, gets to it: moto then
    /// exits, and is started again on another port. Its readiness is an
    /// HTTP answer, not a line, so it keeps its own loop over
    /// `process::ATTEMPTS`.
    pub async fn start() -> Self {
        for _ in 0..ATTEMPTS {
            let port = crate::free_port();
            let child = Command::new(moto_server())
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("moto_server starts");
            let mut moto = Self {
                child,
                endpoint: format!("http://127.0.0.1:{port}"),
            };
            if moto.ready().await {
                return moto;
            }
        }
        panic!("moto exited {ATTEMPTS} times before answering: its ports were taken");
    }

    /// Whether moto answers, `false` when it exited first (its port was
    /// taken); panics when it neither answers nor exits in time.
    async fn ready(&mut self) -> bool {
        let client = reqwest::Client::new();
        let started = Instant::now();
        while started.elapsed() < STARTUP_LIMIT {
            if self.child.try_wait().is_ok_and(|status| status.is_some()) {
                return false;
            }
            let probe = client
                .get(format!("{}/moto-api/data.json", self.endpoint))
                .send()
                .await;
            if probe.is_ok_and(|r| r.status().is_success()) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "moto did not answer on {} within {STARTUP_LIMIT:?}",
            self.endpoint
        );
    }
}

/// Empties the moto at `endpoint` (`POST /moto-api/reset`): every table,
/// key, secret and queue is gone.
pub async fn reset(endpoint: &str) -> Result<(), String> {
    reqwest::Client::new()
        .post(format!("{endpoint}/moto-api/reset"))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map(drop)
        .map_err(|e| format!("moto at {endpoint} did not reset: {e}"))
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
