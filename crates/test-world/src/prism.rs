//! Prism (npm `@stoplight/prism-cli`) as a validating mock of GitHub, from
//! GitHub's own OpenAPI description (npm `@octokit/openapi`), both installed
//! into node_modules by scripts/tools/bootstrap.sh. With `--errors`, a request the
//! description does not allow gets an error instead of a mocked answer, and
//! Prism logs each violation. Each test starts its own on a free loopback
//! port and stops it when the handle is dropped, pass or fail.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use crate::process::{spawn_with_output, start_off_runtime, wait_for_line};
use crate::{free_port, workspace_root};

/// Loading the 13 MB description takes ~12 s alone; the whole suite shares
/// two cores.
const STARTUP_LIMIT: Duration = Duration::from_secs(180);
const LISTENING: &str = "Prism is listening";

pub struct Prism {
    child: Child,
    pub url: String,
    received: Mutex<mpsc::Receiver<String>>,
}

fn installed(path: &str) -> PathBuf {
    let path = workspace_root().join(path);
    assert!(
        path.exists(),
        "{} is missing: run `make test` or scripts/tools/bootstrap.sh",
        path.display()
    );
    path
}

impl Prism {
    /// GitHub mocked from its description: every valid request gets the
    /// description's example answer.
    pub async fn github() -> Self {
        start_off_runtime("Prism", || Self::start_blocking(None)).await
    }

    /// A validating proxy in front of `upstream`: a valid request is
    /// forwarded and answered by it, an invalid one refused with 422 and
    /// never forwarded. For answers the description's examples do not give.
    pub async fn github_in_front_of(upstream: &str) -> Self {
        let upstream = upstream.to_owned();
        start_off_runtime("Prism", move || Self::start_blocking(Some(&upstream))).await
    }

    fn start_blocking(upstream: Option<&str>) -> Self {
        let port = free_port();
        let mut command = Command::new(installed("node_modules/.bin/prism"));
        command
            .arg(if upstream.is_some() { "proxy" } else { "mock" })
            .args(["--errors", "-h", "127.0.0.1", "-p", &port.to_string()])
            .arg(installed(
                "node_modules/@octokit/openapi/generated/api.github.com.json",
            ))
            .args(upstream);
        let (mut child, received) = spawn_with_output(&mut command, "Prism");
        if let Err(log) = wait_for_line(&received, LISTENING, STARTUP_LIMIT) {
            let _ = child.kill();
            panic!("Prism did not start within {STARTUP_LIMIT:?}:\n{log}");
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            received: Mutex::new(received),
        }
    }

    /// What Prism has logged since it started listening.
    pub fn log(&self) -> Vec<String> {
        self.received.lock().unwrap().try_iter().collect()
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
