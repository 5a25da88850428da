//! Every log line the suite emits goes through one sink, with the production
//! filter at its most verbose setting: the sink fails the test that emits a
//! line carrying any registered secret, and keeps the lines in
//! `target/test-logs/suite-<pid>.log`. A test that asserts on log content
//! also captures its own lines with [`capture`].

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, Once, OnceLock};

use nectr_disconnect::logging;
use tracing::subscriber::DefaultGuard;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::{self, MakeWriter};
use tracing_subscriber::prelude::*;

use super::jwt::FIXTURE_KEY;
use super::secrets;

static SUITE_LOG: OnceLock<Mutex<File>> = OnceLock::new();

/// Installs the suite-wide sink; every support constructor calls this.
pub fn scan_all_logs() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        secrets::register_bytes(FIXTURE_KEY);
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-logs");
        std::fs::create_dir_all(&dir).unwrap();
        let file = File::create(dir.join(format!("suite-{}.log", std::process::id()))).unwrap();
        let _ = SUITE_LOG.set(Mutex::new(file));
        let subscriber = fmt::fmt()
            .with_ansi(false)
            .with_writer(Sink::default())
            .finish()
            .with(logging::filter(LevelFilter::TRACE));
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
    });
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
    scan_all_logs();
    let captured = Arc::new(Mutex::new(Vec::new()));
    let subscriber = fmt::fmt()
        .with_ansi(false)
        .with_writer(Sink {
            captured: Some(captured.clone()),
        })
        .finish()
        .with(logging::filter(LevelFilter::TRACE));
    (
        CapturedLogs(captured),
        tracing::subscriber::set_default(subscriber),
    )
}
