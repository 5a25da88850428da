//! A stand-in for api.github.com for the local runs (the demo, `cargo
//! lambda invoke`, `sam local`, the browser), started by the scripts as
//! `test-world github-stub`: the suite's wiremock, programmed once with
//! GitHub's answers and kept running, so the local runs and the suite
//! share one GitHub stand-in.
//!
//! `DELETE /repos/{owner}/{repo}/hooks/{id}` answers 204 the first time and
//! 404 after that, as GitHub does. `GET /_received` lists every DELETE it
//! got, with the `Authorization` header shortened so that the demo never
//! prints a whole token; `POST /_fail?times=N` makes the next N hook
//! DELETEs fail as GitHub does when it is down (502); `POST /_reset`
//! forgets everything. `HEAD /` answers 200: the function opens its
//! connection with it at init.

use std::collections::HashSet;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use wiremock::http::HeaderMap;
use wiremock::matchers::{any, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::tls::{ServerIdentity, TlsTerminator};

/// What the stub remembers between requests, until `/_reset`.
#[derive(Default)]
struct Memory {
    received: Vec<Value>,
    removed: HashSet<String>,
    failures_left: u32,
}

type Shared = Arc<Mutex<Memory>>;

/// Serves on `listen` until the process is killed: HTTPS with `tls`'s
/// certificate, as GitHub does, or plain HTTP without.
pub async fn serve(listen: SocketAddr, tls: Option<ServerIdentity>) -> io::Result<()> {
    let own = match tls {
        Some(_) => "127.0.0.1:0".parse().expect("a loopback address"),
        None => listen,
    };
    let server = MockServer::builder()
        .listener(TcpListener::bind(own)?)
        .start()
        .await;
    let _tls = match tls {
        Some(identity) => Some(TlsTerminator::listen(listen, &identity, *server.address()).await?),
        None => None,
    };
    program(&server).await;
    std::future::pending().await
}

async fn program(server: &MockServer) {
    let memory = Shared::default();
    let hooks = memory.clone();
    Mock::given(method("DELETE"))
        .and(path_regex(r"^/repos/[^/]+/[^/]+/hooks/[0-9]+$"))
        .respond_with(move |request: &Request| delete_hook(&hooks, request))
        .mount(server)
        .await;
    let reset = memory.clone();
    let reset = move |_: &Request| {
        *lock(&reset) = Memory::default();
        ResponseTemplate::new(204)
    };
    let fail = memory.clone();
    let fail = move |request: &Request| {
        let times = request.url.query_pairs().find(|(name, _)| name == "times");
        match times.and_then(|(_, n)| n.parse().ok()) {
            Some(times) => {
                lock(&fail).failures_left = times;
                ResponseTemplate::new(204)
            }
            None => message(400, "expected /_fail?times=N"),
        }
    };
    let received = memory.clone();
    let received = move |_: &Request| {
        let received = Value::Array(lock(&received).received.clone());
        let text = serde_json::to_string_pretty(&received).expect("JSON values serialize");
        ResponseTemplate::new(200).set_body_raw(text, "application/json")
    };
    answer(server, "POST", "/_reset", reset).await;
    answer(server, "POST", "/_fail", fail).await;
    answer(server, "GET", "/_received", received).await;
    answer(server, "HEAD", "/", ResponseTemplate::new(200)).await;
    // Anything else, a DELETE of no hook included, is GitHub's 404.
    let unknown = move |request: &Request| {
        if request.method == "DELETE" {
            lock(&memory).received.push(record(request, 404));
        }
        message(404, "Not Found")
    };
    Mock::given(any())
        .respond_with(unknown)
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}

async fn answer(server: &MockServer, verb: &str, at: &str, responder: impl Respond + 'static) {
    Mock::given(method(verb))
        .and(path(at))
        .respond_with(responder)
        .mount(server)
        .await;
}

fn delete_hook(memory: &Shared, request: &Request) -> ResponseTemplate {
    let mut memory = lock(memory);
    let path = request.url.path().to_owned();
    let status = if memory.failures_left > 0 {
        memory.failures_left -= 1;
        502
    } else if memory.removed.insert(path) {
        204
    } else {
        404
    };
    memory.received.push(record(request, status));
    match status {
        204 => ResponseTemplate::new(204),
        502 => message(502, "Server Error"),
        _ => message(404, "Not Found"),
    }
}

fn lock(memory: &Shared) -> std::sync::MutexGuard<'_, Memory> {
    memory.lock().expect("no answer panics holding it")
}

/// The line `/_received` lists for `request`.
fn record(request: &Request, status: u16) -> Value {
    json!({
        "method": request.method.as_str(),
        "path": request.url.path(),
        "headers": headers(&request.headers),
        "answered": status,
    })
}

/// The headers, the token cut to its first 8 characters.
fn headers(headers: &HeaderMap) -> Map<String, Value> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes());
            let value = match name.as_str() {
                "authorization" => shorten(&value),
                _ => value.into_owned(),
            };
            (name.as_str().to_owned(), Value::String(value))
        })
        .collect()
}

fn shorten(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, token)) => format!("{scheme} {}…", token.chars().take(8).collect::<String>()),
        None => value.to_owned(),
    }
}

fn message(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({ "message": message }))
}
