//! Child processes whose output the local world reads.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Runs a server's blocking start (spawning it, waiting for its start line)
/// on a thread the async runtime keeps for blocking work.
pub async fn start_off_runtime<T: Send + 'static>(
    server: &str,
    start: impl FnOnce() -> T + Send + 'static,
) -> T {
    tokio::task::spawn_blocking(start)
        .await
        .unwrap_or_else(|e| panic!("{server} did not start: {e}"))
}

/// Starts `command` with no input, and its stdout and stderr as one stream
/// of lines. Each pipe is read on a thread of its own, so it never fills and
/// blocks the child.
pub fn spawn_with_output(command: &mut Command, server: &str) -> (Child, mpsc::Receiver<String>) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{server} could not be started: {e}"));
    let (lines, received) = mpsc::channel();
    forward_lines(child.stdout.take().expect("stdout is piped"), lines.clone());
    forward_lines(child.stderr.take().expect("stderr is piped"), lines);
    (child, received)
}

fn forward_lines(stream: impl Read + Send + 'static, lines: mpsc::Sender<String>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let _receiver_may_be_gone = lines.send(line);
        }
    });
}

/// What a server prints when a port it was handed was taken before it
/// bound it, by another test's server (a free port is free only until
/// someone binds it): Node's, Java's and ArcadeDB's own words.
const PORT_TAKEN: [&str; 3] = ["EADDRINUSE", "Address already in use", "Unable to listen"];
/// How many times a server whose port was taken is started again.
pub(crate) const ATTEMPTS: usize = 5;

/// Why a server did not start.
pub enum NotStarted {
    /// A port it was handed was taken: start it again on others.
    PortTaken,
    /// It stopped, or printed nothing more within the limit: the lines it
    /// printed.
    Failed(String),
}

/// Reads `lines` until one contains `marker`, or says the server's port
/// was taken. When `limit` passes without a line, or the output ends, the
/// lines read so far are the error.
pub fn wait_for_line(
    lines: &mpsc::Receiver<String>,
    marker: &str,
    limit: Duration,
) -> Result<(), NotStarted> {
    let mut log = Vec::new();
    loop {
        match lines.recv_timeout(limit) {
            Ok(line) if line.contains(marker) => return Ok(()),
            Ok(line) if PORT_TAKEN.iter().any(|taken| line.contains(taken)) => {
                return Err(NotStarted::PortTaken);
            }
            Ok(line) => log.push(line),
            Err(_) => return Err(NotStarted::Failed(log.join("\n"))),
        }
    }
}

/// Runs `start`, which hands a server free ports, again while the server
/// finds one of them taken. A failed attempt has dropped its server, which
/// stops it.
pub fn start_on_free_ports<T>(server: &str, mut start: impl FnMut() -> Result<T, NotStarted>) -> T {
    for _ in 0..ATTEMPTS {
        match start() {
            Ok(started) => return started,
            Err(NotStarted::PortTaken) => continue,
            Err(NotStarted::Failed(log)) => panic!("{server} did not start:\n{log}"),
        }
    }
    panic!("{server} found its ports taken {ATTEMPTS} times")
}
