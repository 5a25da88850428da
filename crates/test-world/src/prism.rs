//! Prism (npm `@stoplight/prism-cli`) as a validating mock of GitHub, from
//! GitHub's own OpenAPI description (npm `@octokit/openapi`), both installed
//! into node_modules by scripts/tools/bootstrap.sh. With `--errors`, a request the
//! description does not allow gets an error instead of a mocked answer, and
//! Prism logs each violation. Each test starts its own on a free loopback
//! port and stops it when the handle is dropped, pass or fail.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::process::{
    NotStarted, spawn_with_output, start_off_runtime, start_on_free_ports, wait_for_line,
};
use crate::{free_port, workspace_root};

const STARTUP_LIMIT: Duration = Duration::from_secs(180);
const LISTENING: &str = "Prism is listening";
/// The paths of GitHub's REST API the function and the worker call: the
/// webhook's removal and the repository check after a 404 (CONTRACT §5).
const CALLED_PATHS: [&str; 2] = [
    "/repos/{owner}/{repo}/hooks/{hook_id}",
    "/repos/{owner}/{repo}",
];

pub struct Prism {
    child: Child,
    description: PathBuf,
    pub url: String,
    received: Mutex<mpsc::Receiver<String>>,
}

/// GitHub's description cut down to `CALLED_PATHS`, each operation exactly
/// as GitHub describes it, with every component it refers to, directly or
/// not. Prism loads the whole 13 MB description in 12 s on an idle core
/// (45 s with the suite beside it), this in under 2 s.
fn called_operations() -> Value {
    let path = installed("node_modules/@octokit/openapi/generated/api.github.com.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let whole: Value = serde_json::from_str(&text).expect("GitHub's description is JSON");
    let paths: Map<String, Value> = CALLED_PATHS
        .iter()
        .map(|path| {
            let item = whole["paths"][path].clone();
            assert!(item.is_object(), "GitHub's description has no {path}");
            ((*path).to_owned(), item)
        })
        .collect();
    let mut components = Map::new();
    let mut seen = BTreeSet::new();
    let mut pending = vec![Value::Object(paths.clone())];
    while let Some(value) = pending.pop() {
        for reference in references(&value) {
            let Some(pointer) = reference.strip_prefix('#') else {
                continue;
            };
            if !seen.insert(pointer.to_owned()) {
                continue;
            }
            let target = whole
                .pointer(pointer)
                .unwrap_or_else(|| panic!("GitHub's description has no {reference}"))
                .clone();
            let mut segments = pointer.split('/').skip(2);
            let (Some(kind), Some(name), None) =
                (segments.next(), segments.next(), segments.next())
            else {
                panic!("{reference} is not a component");
            };
            let name = name.replace("~1", "/").replace("~0", "~");
            components
                .entry(kind)
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("a kind of component is a map")
                .insert(name, target.clone());
            pending.push(target);
        }
    }
    let mut description = Map::new();
    for key in ["openapi", "info", "servers"] {
        description.insert(key.to_owned(), whole[key].clone());
    }
    description.insert("paths".to_owned(), Value::Object(paths));
    description.insert("components".to_owned(), Value::Object(components));
    Value::Object(description)
}

/// Every `$ref` in `value`.
fn references(value: &Value) -> Vec<String> {
    match value {
        Value::Object(map) => map
            .iter()
            .flat_map(|(key, value)| match (key.as_str(), value) {
                ("$ref", Value::String(reference)) => vec![reference.clone()],
                _ => references(value),
            })
            .collect(),
        Value::Array(values) => values.iter().flat_map(references).collect(),
        _ => Vec::new(),
    }
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
        start_off_runtime("Prism", || {
            start_on_free_ports("Prism", || Self::try_start(None))
        })
        .await
    }

    /// A validating proxy in front of `upstream`: a valid request is
    /// forwarded and answered by it, an invalid one refused with 422 and
    /// never forwarded. For answers the description's examples do not give.
    pub async fn github_in_front_of(upstream: &str) -> Self {
        let upstream = upstream.to_owned();
        start_off_runtime("Prism", move || {
            start_on_free_ports("Prism", || Self::try_start(Some(&upstream)))
        })
        .await
    }

    fn try_start(upstream: Option<&str>) -> Result<Self, NotStarted> {
        let port = free_port();
        let description = std::env::temp_dir().join(format!("nectr-prism-github-{port}.json"));
        std::fs::write(&description, called_operations().to_string())
            .unwrap_or_else(|e| panic!("{}: {e}", description.display()));
        let mut command = Command::new(installed("node_modules/.bin/prism"));
        command
            .arg(if upstream.is_some() { "proxy" } else { "mock" })
            .args(["--errors", "-h", "127.0.0.1", "-p", &port.to_string()])
            .arg(&description)
            .args(upstream);
        let (child, received) = spawn_with_output(&mut command, "Prism");
        // Built first, so that a failed start still stops Prism and removes
        // the description.
        let prism = Self {
            child,
            description,
            url: format!("http://127.0.0.1:{port}"),
            received: Mutex::new(received),
        };
        wait_for_line(&prism.received.lock().unwrap(), LISTENING, STARTUP_LIMIT)?;
        Ok(prism)
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
        let _ = std::fs::remove_file(&self.description);
    }
}
