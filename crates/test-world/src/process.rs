//! Child processes whose output the local world reads.

use std::io::{BufRead, BufReader, Read};
use std::process::Child;
use std::sync::mpsc;
use std::time::Duration;

/// `child`'s stdout and stderr as one stream of lines. Each pipe is read on
/// a thread of its own, so it never fills and blocks the child.
pub fn output_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let (lines, received) = mpsc::channel();
    forward_lines(child.stdout.take().expect("stdout is piped"), lines.clone());
    forward_lines(child.stderr.take().expect("stderr is piped"), lines);
    received
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
