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

/// Reads `lines` until one contains `marker`. When `limit` passes without a
/// line, or the output ends, the lines read so far are the error.
pub fn wait_for_line(
    lines: &mpsc::Receiver<String>,
    marker: &str,
    limit: Duration,
) -> Result<(), String> {
    let mut log = Vec::new();
    loop {
        match lines.recv_timeout(limit) {
            Ok(line) if line.contains(marker) => return Ok(()),
            Ok(line) => log.push(line),
            Err(_) => return Err(log.join("\n")),
        }
    }
}
