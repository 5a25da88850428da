//! A fault-injecting HTTP proxy on loopback, between an AWS SDK client and
//! moto: it forwards every call, except those a rule tells it to break the
//! way a real network or service breaks. It also records what went through.
//! Like a real endpoint it speaks TLS to its clients (plain text only when
//! asked), keeps a client's connection open between calls, and can charge
//! for opening one (`handshake`).
//!
//! It forwards DynamoDB writes one at a time: moto evaluates a condition and
//! writes the item in two steps without a lock, so two concurrent
//! conditional updates can both succeed there, which DynamoDB never allows.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::tls::ServerIdentity;

#[derive(Clone, Debug)]
pub enum Fault {
    /// The service's own 5xx error.
    ServerError,
    /// The service's throttling error.
    Throttled,
    /// Reads the call and never answers.
    Hang,
    /// Reads the call and hangs up without forwarding it.
    Refused,
    /// Answers 200 with a body that is not the protocol's JSON.
    Malformed,
    /// Forwards the call (so it takes effect), then sends half the answer's
    /// body and hangs up.
    Truncated,
    /// Waits this long, then forwards the call: network latency.
    Delay(Duration),
    /// Signals `arrived`, holds the call until `release` is signalled, then
    /// forwards it.
    Hold {
        arrived: Arc<Notify>,
        release: Arc<Notify>,
    },
    /// An error the service's API reference documents, answered as the
    /// service answers it.
    Aws(AwsError),
}

/// An AWS error answer: the HTTP status, the error code and the message.
/// The body is the service's JSON protocol's: `{"__type", "message"}`, with
/// DynamoDB's namespaces in front of the code.
#[derive(Clone, Copy, Debug)]
pub struct AwsError {
    pub status: u16,
    pub code: &'static str,
    pub message: &'static str,
}

/// One call that reached the proxy: the operation (from `X-Amz-Target`, else
/// the HTTP method), when it arrived and when the proxy answered it, and
/// when it was forwarded, the status upstream answered and how long that took.
#[derive(Clone, Debug)]
pub struct Call {
    pub operation: String,
    /// The request's body, as the client sent it.
    pub body: String,
    pub upstream_status: Option<u16>,
    pub upstream_time: Option<Duration>,
    pub arrived: Instant,
    pub answered: Instant,
}

struct Rule {
    operation: Option<&'static str>,
    fault: Fault,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    calls: Vec<Call>,
    handshake: Duration,
    connections: usize,
}

const WRITES: [&str; 3] = ["PutItem", "UpdateItem", "DeleteItem"];

pub struct FaultProxy {
    pub endpoint: String,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// A proxy in front of `upstream` (`http://host:port`) that serves
    /// `identity` over TLS: an `https://` endpoint, as AWS's are.
    pub async fn start(upstream: &str, identity: &ServerIdentity) -> Self {
        Self::listen(upstream, Some(identity.acceptor())).await
    }

    /// The same in plain text (`http://`): the explicit local option.
    pub async fn plain(upstream: &str) -> Self {
        Self::listen(upstream, None).await
    }

    async fn listen(upstream: &str, tls: Option<TlsAcceptor>) -> Self {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("an http:// upstream")
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let scheme = if tls.is_some() { "https" } else { "http" };
        let endpoint = format!("{scheme}://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let writes = Arc::new(tokio::sync::Mutex::new(()));
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                shared.lock().unwrap().connections += 1;
                let _ = client.set_nodelay(true);
                let (upstream, state, writes) = (upstream.clone(), shared.clone(), writes.clone());
                match tls.clone() {
                    None => {
                        tokio::spawn(serve(client, upstream, state, writes));
                    }
                    Some(tls) => {
                        tokio::spawn(async move {
                            if let Ok(client) = tls.accept(client).await {
                                serve(client, upstream, state, writes).await;
                            }
                        });
                    }
                }
            }
        });
        Self {
            endpoint,
            state,
            task,
        }
    }

    /// Breaks every call to `operation` (every call when `None`) with `fault`.
    pub fn inject(&self, operation: Option<&'static str>, fault: Fault) {
        self.state
            .lock()
            .unwrap()
            .rules
            .push(Rule { operation, fault });
    }

    /// What opening a connection costs on a real network (TCP and TLS
    /// handshakes): the first call on each new connection waits this long
    /// before anything else happens to it.
    pub fn handshake(&self, cost: Duration) {
        self.state.lock().unwrap().handshake = cost;
    }

    /// Heals the network: every later call is forwarded untouched.
    pub fn clear(&self) {
        self.state.lock().unwrap().rules.clear();
    }

    /// How many connections clients have opened to the proxy.
    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().unwrap().calls.clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Request {
    head: String,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    /// `DynamoDB_20120810.UpdateItem` → (`DynamoDB_20120810`, `UpdateItem`);
    /// a call that is not to AWS is named by its method.
    fn target(&self) -> (String, String) {
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

async fn serve<C: AsyncRead + AsyncWrite + Unpin>(
    mut client: C,
    upstream: String,
    state: Arc<Mutex<State>>,
    writes: Arc<tokio::sync::Mutex<()>>,
) {
    let mut first = true;
    while let Some(request) = read_request(&mut client).await {
        let arrived = Instant::now();
        if std::mem::take(&mut first) {
            let handshake = state.lock().unwrap().handshake;
            tokio::time::sleep(handshake).await;
        }
        let keep_open = answer(&mut client, request, arrived, &upstream, &state, &writes).await;
        if !keep_open {
            break;
        }
    }
    let _ = client.shutdown().await;
}

/// Answers one call; true when the connection can take another.
async fn answer<C: AsyncRead + AsyncWrite + Unpin>(
    client: &mut C,
    request: Request,
    arrived: Instant,
    upstream: &str,
    state: &Mutex<State>,
    writes: &tokio::sync::Mutex<()>,
) -> bool {
    let (service, operation) = request.target();
    let head_request = request.head.starts_with("HEAD ");
    let fault = {
        let state = state.lock().unwrap();
        state
            .rules
            .iter()
            .find(|rule| rule.operation.is_none_or(|op| op == operation))
            .map(|rule| rule.fault.clone())
    };
    let _one_write_at_a_time = if WRITES.contains(&operation.as_str()) {
        Some(writes.lock().await)
    } else {
        None
    };
    let record = |upstream_status, upstream_time| {
        state.lock().unwrap().calls.push(Call {
            operation: operation.clone(),
            body: String::from_utf8_lossy(&request.body).into_owned(),
            upstream_status,
            upstream_time,
            arrived,
            answered: Instant::now(),
        })
    };
    let forward_recorded = || async {
        let started = Instant::now();
        let answer = forward(&request, upstream).await;
        record(status_of(&answer), Some(started.elapsed()));
        answer
    };
    match fault {
        None => {
            let answer = forward_recorded().await;
            return pass_on(client, answer, head_request).await;
        }
        Some(Fault::Delay(latency)) => {
            tokio::time::sleep(latency).await;
            let answer = forward_recorded().await;
            return pass_on(client, answer, head_request).await;
        }
        Some(Fault::Hold {
            arrived: held,
            release,
        }) => {
            held.notify_one();
            release.notified().await;
            let answer = forward_recorded().await;
            return pass_on(client, answer, head_request).await;
        }
        Some(Fault::ServerError) => {
            record(None, None);
            let _ = client
                .write_all(&aws_error(&service, server_error(&service)))
                .await;
        }
        Some(Fault::Throttled) => {
            record(None, None);
            let _ = client
                .write_all(&aws_error(&service, throttled(&service)))
                .await;
        }
        Some(Fault::Aws(error)) => {
            record(None, None);
            let _ = client.write_all(&aws_error(&service, error)).await;
        }
        Some(Fault::Hang) => {
            record(None, None);
            // Until the caller gives up and closes the connection.
            let mut byte = [0u8; 1];
            while matches!(client.read(&mut byte).await, Ok(n) if n > 0) {}
        }
        Some(Fault::Refused) => record(None, None),
        Some(Fault::Malformed) => {
            record(None, None);
            let body = b"{\"Item\": {\"pk\": <html>";
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = client.write_all(answer.as_bytes()).await;
            let _ = client.write_all(body).await;
        }
        Some(Fault::Truncated) => {
            let answer = forward_recorded().await;
            let head_end = find(&answer, b"\r\n\r\n").map_or(answer.len(), |i| i + 4);
            let body_len = answer.len() - head_end;
            let _ = client.write_all(&answer[..head_end + body_len / 2]).await;
        }
    }
    false
}

/// Sends upstream's answer on, keeping the client's connection open when
/// the answer's end is marked without closing it, as a real endpoint's is.
async fn pass_on<C: AsyncWrite + Unpin>(
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
fn reusable(answer: &[u8], head_request: bool) -> Option<Vec<u8>> {
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

async fn read_request<C: AsyncRead + Unpin>(client: &mut C) -> Option<Request> {
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

async fn forward(request: &Request, upstream: &str) -> Vec<u8> {
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

fn status_of(answer: &[u8]) -> Option<u16> {
    std::str::from_utf8(answer.get(9..12)?).ok()?.parse().ok()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The service's own error for failing inside.
fn server_error(service: &str) -> AwsError {
    let code = match service {
        "DynamoDB_20120810" => "InternalServerError",
        "TrentService" => "KMSInternalException",
        "secretsmanager" => "InternalServiceError",
        _ => "InternalFailure",
    };
    AwsError {
        status: 500,
        code,
        message: "injected by the fault proxy",
    }
}

/// The service's own error for a caller over its request rate.
fn throttled(service: &str) -> AwsError {
    let code = match service {
        "DynamoDB_20120810" => "ProvisionedThroughputExceededException",
        _ => "ThrottlingException",
    };
    AwsError {
        status: 400,
        code,
        message: "injected by the fault proxy",
    }
}

/// `error` in the service's protocol: DynamoDB speaks JSON 1.0 and puts a
/// namespace in front of the code (IAM's and validation's errors come from
/// AWS's shared front end, `com.amazon.coral`), KMS and Secrets Manager
/// speak JSON 1.1 with the bare code.
fn aws_error(service: &str, error: AwsError) -> Vec<u8> {
    let (content_type, error_type) = match service {
        "DynamoDB_20120810" => {
            let namespace = match error.code {
                "AccessDeniedException" | "UnrecognizedClientException" => {
                    "com.amazon.coral.service"
                }
                "ValidationException" => "com.amazon.coral.validate",
                _ => "com.amazonaws.dynamodb.v20120810",
            };
            (
                "application/x-amz-json-1.0",
                format!("{namespace}#{}", error.code),
            )
        }
        _ => ("application/x-amz-json-1.1", error.code.to_owned()),
    };
    let body = serde_json::json!({"__type": error_type, "message": error.message}).to_string();
    let reason = match error.status {
        400 => "Bad Request",
        403 => "Forbidden",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    };
    format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        error.status,
        body.len()
    )
    .into_bytes()
}
