//! Child processes whose output the tests read.

use std::io::{BufRead, BufReader, Read};
use std::sync::mpsc;

/// Reads a server's output on a thread of its own, so the pipe never fills
/// and blocks the server.
pub fn forward_lines(stream: impl Read + Send + 'static, lines: mpsc::Sender<String>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let _receiver_may_be_gone = lines.send(line);
        }
    });
}
