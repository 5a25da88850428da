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
use tokio::net::TcpListener;

mod aws_errors;
mod http1;

use aws_errors::{aws_error, server_error, throttled};
use http1::{Request, find, forward, pass_on, read_request, status_of};
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
    /// Only calls whose body holds this text.
    body_holds: Option<&'static str>,
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
        self.push(Rule {
            operation,
            body_holds: None,
            fault,
        });
    }

    /// Breaks the calls to `operation` whose body holds `text` (one version
    /// stage of a secret, say) with `fault`.
    pub fn inject_when(&self, operation: &'static str, text: &'static str, fault: Fault) {
        self.push(Rule {
            operation: Some(operation),
            body_holds: Some(text),
            fault,
        });
    }

    fn push(&self, rule: Rule) {
        self.state.lock().unwrap().rules.push(rule);
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
            .find(|rule| {
                rule.operation.is_none_or(|op| op == operation)
                    && rule
                        .body_holds
                        .is_none_or(|text| find(&request.body, text.as_bytes()).is_some())
            })
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
    match route(fault, &service) {
        Route::Forward { wait, cut_short } => {
            wait.elapse().await;
            let started = Instant::now();
            let answer = forward(&request, upstream).await;
            record(status_of(&answer), Some(started.elapsed()));
            if !cut_short {
                return pass_on(client, answer, head_request).await;
            }
            let head_end = find(&answer, b"\r\n\r\n").map_or(answer.len(), |i| i + 4);
            let body_len = answer.len() - head_end;
            let _ = client.write_all(&answer[..head_end + body_len / 2]).await;
        }
        Route::Answer(local) => {
            record(None, None);
            local.write_to(client).await;
        }
    }
    false
}

/// Where a call goes: on to upstream, or answered here without it.
enum Route {
    /// Forwarded after `wait`; the answer passed on whole, or cut short
    /// halfway through its body.
    Forward {
        wait: Wait,
        cut_short: bool,
    },
    Answer(Local),
}

enum Wait {
    None,
    For(Duration),
    /// Signal `arrived`, then wait for `release`.
    Released {
        arrived: Arc<Notify>,
        release: Arc<Notify>,
    },
}

impl Wait {
    async fn elapse(self) {
        match self {
            Wait::None => {}
            Wait::For(latency) => tokio::time::sleep(latency).await,
            Wait::Released { arrived, release } => {
                arrived.notify_one();
                release.notified().await;
            }
        }
    }
}

/// An answer the proxy makes up, upstream never asked.
enum Local {
    /// The service's error, in its protocol.
    Error(Vec<u8>),
    /// None, until the caller gives up and closes the connection.
    Hang,
    /// None: the connection is closed.
    HangUp,
    /// 200 with a body that is not the protocol's JSON.
    Garbage,
}

impl Local {
    async fn write_to<C: AsyncRead + AsyncWrite + Unpin>(self, client: &mut C) {
        match self {
            Local::Error(answer) => {
                let _ = client.write_all(&answer).await;
            }
            Local::Hang => {
                let mut byte = [0u8; 1];
                while matches!(client.read(&mut byte).await, Ok(n) if n > 0) {}
            }
            Local::HangUp => {}
            Local::Garbage => {
                let body = b"{\"Item\": {\"pk\": <html>";
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = client.write_all(answer.as_bytes()).await;
                let _ = client.write_all(body).await;
            }
        }
    }
}

fn route(fault: Option<Fault>, service: &str) -> Route {
    let forward = |wait| Route::Forward {
        wait,
        cut_short: false,
    };
    let error = |error| Route::Answer(Local::Error(aws_error(service, error)));
    match fault {
        None => forward(Wait::None),
        Some(Fault::Delay(latency)) => forward(Wait::For(latency)),
        Some(Fault::Hold { arrived, release }) => forward(Wait::Released { arrived, release }),
        Some(Fault::Truncated) => Route::Forward {
            wait: Wait::None,
            cut_short: true,
        },
        Some(Fault::ServerError) => error(server_error(service)),
        Some(Fault::Throttled) => error(throttled(service)),
        Some(Fault::Aws(documented)) => error(documented),
        Some(Fault::Hang) => Route::Answer(Local::Hang),
        Some(Fault::Refused) => Route::Answer(Local::HangUp),
        Some(Fault::Malformed) => Route::Answer(Local::Garbage),
    }
}
