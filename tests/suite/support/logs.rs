//! Every log line the suite emits goes through one sink, with the production
//! line writer and filter at their most verbose setting. The sink fails the
//! test that emits a line carrying any registered secret, a line that is not
//! one JSON object with the Powertools keys, or a metric document that breaks
//! the EMF specification; it keeps the lines in
//! `target/test-logs/suite-<pid>.log`. A test that asserts on log content
//! also captures its own lines with [`capture`].

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use nectr_disconnect::logging::{self, Format, LambdaLines, LogSettings};
use serde_json::Value;
use test_world::jwt::FIXTURE_KEY;
use test_world::secrets;
use tracing::subscriber::DefaultGuard;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

use super::emf;

static SUITE_LOG: OnceLock<Mutex<File>> = OnceLock::new();

/// The suite-wide sink, installed before `main` so that every line any test
/// emits goes through it, whatever helper the test starts from.
#[ctor::ctor(unsafe)]
fn scan_all_logs() {
    secrets::register_bytes(FIXTURE_KEY);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-logs");
    std::fs::create_dir_all(&dir).unwrap();
    let file = File::create(dir.join(format!("suite-{}.log", std::process::id()))).unwrap();
    let _ = SUITE_LOG.set(Mutex::new(file));
    tracing::subscriber::set_global_default(subscriber(Sink::default(), LevelFilter::TRACE))
        .expect("no other global subscriber");
}

/// Production's JSON lines and filter.
fn subscriber(sink: Sink, level: LevelFilter) -> impl tracing::Subscriber + Send + Sync {
    let settings = LogSettings {
        level,
        format: Format::Json,
        service: logging::DEFAULT_SERVICE.to_owned(),
    };
    tracing_subscriber::registry()
        .with(LambdaLines::new(&settings, sink).with_filter(logging::filter(settings.level)))
}

/// Writes a log line to the suite log (and to a capture, if any), after
/// checking it for secrets.
#[derive(Clone, Default)]
struct Sink {
    captured: Option<Arc<Mutex<Vec<u8>>>>,
}

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let line = String::from_utf8_lossy(bytes);
        if let Some(secret) = secrets::leaked_in(&line) {
            panic!("a secret ({}…) reached a log line: {line}", &secret[..6]);
        }
        if let Err(problem) = check_line(&line) {
            panic!("{problem}: {line}");
        }
        if let Some(file) = SUITE_LOG.get() {
            file.lock().unwrap().write_all(bytes)?;
        }
        if let Some(captured) = &self.captured {
            captured.lock().unwrap().extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Also keeps this thread's lines (a `#[tokio::test]` runs its tasks on one
/// thread) for the test to read, until the guard is dropped.
pub fn capture() -> (CapturedLogs, DefaultGuard) {
    capture_at(LevelFilter::TRACE)
}

/// [`capture`] with the filter `AWS_LAMBDA_LOG_LEVEL=level` sets.
pub fn capture_at(level: LevelFilter) -> (CapturedLogs, DefaultGuard) {
    let captured = Arc::new(Mutex::new(Vec::new()));
    let sink = Sink {
        captured: Some(captured.clone()),
    };
    (
        CapturedLogs(captured),
        tracing::subscriber::set_default(subscriber(sink, level)),
    )
}

/// The log-line keys, defined once for the suite and the scripts.
pub struct LogKeys {
    /// On every log line, as AWS Powertools names them.
    pub every_line: Vec<String>,
    /// On every line of an invocation besides those.
    pub every_invocation_line: Vec<String>,
    /// On an invocation's lines when it carries an X-Ray trace header.
    pub traced_invocation_line: Vec<String>,
}

pub static LOG_KEYS: LazyLock<LogKeys> = LazyLock::new(|| {
    let file: Value = serde_json::from_str(include_str!("../../log-line-keys.json"))
        .expect("tests/log-line-keys.json is JSON");
    let keys = |name: &str| -> Vec<String> {
        serde_json::from_value(file[name].clone())
            .unwrap_or_else(|e| panic!("tests/log-line-keys.json `{name}`: {e}"))
    };
    LogKeys {
        every_line: keys("every_line"),
        every_invocation_line: keys("every_invocation_line"),
        traced_invocation_line: keys("traced_invocation_line"),
    }
});

/// One JSON object: a metric document valid by the EMF specification, or a
/// log line with the Powertools keys, each of the right type.
pub fn check_line(line: &str) -> Result<(), String> {
    if !line.ends_with('\n') || line.trim_end_matches('\n').contains('\n') {
        return Err("not exactly one line".into());
    }
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON ({e})"))?;
    let object = value.as_object().ok_or("not a JSON object")?;
    if object.contains_key("_aws") {
        return emf::validate(&value).map_err(|e| format!("invalid EMF document: {e}"));
    }
    for key in &LOG_KEYS.every_line {
        if !object.get(key).is_some_and(Value::is_string) {
            return Err(format!("no string `{key}`"));
        }
    }
    let timestamp = object["timestamp"].as_str().unwrap_or_default();
    if DateTime::from_str(timestamp, DateTimeFormat::DateTime).is_err() {
        return Err(format!("`timestamp` {timestamp} is not RFC 3339"));
    }
    if !["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
        .contains(&object["level"].as_str().unwrap_or_default())
    {
        return Err("`level` is not one of Lambda's".into());
    }
    if object.get("cold_start").is_some_and(|v| !v.is_boolean()) {
        return Err("`cold_start` is not a boolean".into());
    }
    for key in ["function_request_id", "xray_trace_id"] {
        if object
            .get(key)
            .is_some_and(|v| v.as_str().is_none_or(str::is_empty))
        {
            return Err(format!("`{key}` is not a non-empty string"));
        }
    }
    Ok(())
}

/// The captured lines that are log lines (not metric documents), parsed.
pub fn log_lines(text: &str) -> Vec<serde_json::Map<String, Value>> {
    parsed(text)
        .filter(|line| !line.contains_key("_aws"))
        .collect()
}

/// The captured metric documents, parsed.
pub fn metric_documents(text: &str) -> Vec<Value> {
    parsed(text)
        .filter(|line| line.contains_key("_aws"))
        .map(Value::Object)
        .collect()
}

fn parsed(text: &str) -> impl Iterator<Item = serde_json::Map<String, Value>> + '_ {
    text.lines().map(|line| match serde_json::from_str(line) {
        Ok(Value::Object(object)) => object,
        _ => panic!("not a JSON object: {line}"),
    })
}
