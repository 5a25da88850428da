//! The HTTP/1.1 the proxy speaks: reading a client's request, forwarding
//! it to upstream on a connection of its own, and passing the answer on,
//! keeping the client's connection open where the answer's end is marked.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

pub(super) struct Request {
    pub(super) head: String,
    pub(super) body: Vec<u8>,
}

impl Request {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    /// `DynamoDB_20120810.UpdateItem` → (`DynamoDB_20120810`, `UpdateItem`);
    /// a call that is not to AWS is named by its method.
    pub(super) fn target(&self) -> (String, String) {
        let Some(target) = self.header("x-amz-target") else {
            let method = self.head.split(' ').next().unwrap_or("");
            return (String::new(), method.to_owned());
        };
        let (service, operation) = target.rsplit_once('.').unwrap_or(("", target));
        (service.to_owned(), operation.to_owned())
    }

    /// The request as moto should get it: one call per connection, so the
    /// answer ends where the connection does.
    fn to_upstream(&self) -> Vec<u8> {
        let mut head: Vec<&str> = self
            .head
            .lines()
            .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
            .collect();
        head.push("Connection: close");
        let mut bytes = format!("{}\r\n\r\n", head.join("\r\n")).into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// Sends upstream's answer on, keeping the client's connection open when
/// the answer's end is marked without closing it, as a real endpoint's is.
pub(super) async fn pass_on<C: AsyncWrite + Unpin>(
    client: &mut C,
    answer: Vec<u8>,
    head_request: bool,
) -> bool {
    match reusable(&answer, head_request) {
        Some(answer) => client.write_all(&answer).await.is_ok(),
        None => {
            let _ = client.write_all(&answer).await;
            false
        }
    }
}

/// The answer without upstream's `Connection: close` (the proxy asked for
/// it), when a length, chunking, the status or a HEAD request marks where
/// it ends.
pub(super) fn reusable(answer: &[u8], head_request: bool) -> Option<Vec<u8>> {
    let head_end = find(answer, b"\r\n\r\n")?;
    let head = std::str::from_utf8(&answer[..head_end]).ok()?;
    let status = status_of(answer)?;
    let lines: Vec<&str> = head.split("\r\n").collect();
    let has = |name: &str| {
        lines[1..]
            .iter()
            .any(|line| line.to_ascii_lowercase().starts_with(name))
    };
    let delimited = head_request
        || has("content-length:")
        || has("transfer-encoding:")
        || matches!(status, 100..=199 | 204 | 304);
    if !head.starts_with("HTTP/1.1 ") || !delimited {
        return None;
    }
    let kept: Vec<&str> = lines
        .into_iter()
        .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    let mut reusable = kept.join("\r\n").into_bytes();
    reusable.extend_from_slice(&answer[head_end..]);
    Some(reusable)
}

pub(super) async fn read_request<C: AsyncRead + Unpin>(client: &mut C) -> Option<Request> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buffer, b"\r\n\r\n") {
            break i;
        }
        let n = client.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut request = Request {
        head,
        body: buffer[head_end + 4..].to_vec(),
    };
    let length: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while request.body.len() < length {
        let n = client.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        request.body.extend_from_slice(&chunk[..n]);
    }
    Some(request)
}

pub(super) async fn forward(request: &Request, upstream: &str) -> Vec<u8> {
    let mut answer = Vec::new();
    let Ok(mut moto) = TcpStream::connect(upstream).await else {
        return answer;
    };
    let _ = moto.set_nodelay(true);
    if moto.write_all(&request.to_upstream()).await.is_err() {
        return answer;
    }
    // Read exactly one answer rather than to the end of the stream: closing a
    // connection costs moto's server more time than answering on it.
    let mut chunk = [0u8; 16384];
    loop {
        if let Some(head_end) = find(&answer, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&answer[..head_end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if let Some(length) = length
                && answer.len() >= head_end + 4 + length
            {
                answer.truncate(head_end + 4 + length);
                return answer;
            }
        }
        match tokio::time::timeout(Duration::from_secs(30), moto.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&chunk[..n]),
            _ => return answer,
        }
    }
}

pub(super) fn status_of(answer: &[u8]) -> Option<u16> {
    std::str::from_utf8(answer.get(9..12)?).ok()?.parse().ok()
}

pub(super) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
