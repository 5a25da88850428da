//! A Lambda Runtime API on loopback, enough for lambda_runtime: it hands the
//! function one event per `/next` and takes its `/response`, and notes when
//! the function first asked for work.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};

pub struct Completion {
    pub body: Vec<u8>,
    pub error: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<VecDeque<(String, String)>>,
    queued: Notify,
    waiting: Mutex<HashMap<String, oneshot::Sender<Completion>>>,
    first_poll: Mutex<Option<Instant>>,
    next_id: Mutex<u64>,
}

pub struct RuntimeApi {
    pub address: String,
    shared: Arc<Shared>,
}

impl RuntimeApi {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let shared = Arc::new(Shared::default());
        let accepting = shared.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, accepting.clone()));
            }
        });
        Self { address, shared }
    }

    /// Forgets the previous function's first poll, before starting another.
    pub fn reset_first_poll(&self) {
        *self.shared.first_poll.lock().unwrap() = None;
    }

    pub fn first_poll(&self) -> Option<Instant> {
        *self.shared.first_poll.lock().unwrap()
    }

    /// Queues `event`, waits for the function's answer.
    pub async fn invoke(&self, event: &str) -> Completion {
        let id = {
            let mut next = self.shared.next_id.lock().unwrap();
            *next += 1;
            format!("bench-{next}")
        };
        let (done, answer) = oneshot::channel();
        self.shared.waiting.lock().unwrap().insert(id.clone(), done);
        self.shared
            .queue
            .lock()
            .unwrap()
            .push_back((id, event.to_owned()));
        self.shared.queued.notify_one();
        tokio::time::timeout(Duration::from_secs(30), answer)
            .await
            .expect("the function answers within 30 s")
            .expect("the invocation completes")
    }
}

struct HttpRequest {
    method: String,
    path: String,
    body: Vec<u8>,
}

async fn serve(socket: TcpStream, shared: Arc<Shared>) {
    // Each answer goes out in one write, without Nagle's delay: otherwise
    // the body waits for the client's delayed ACK of the head (up to 40 ms).
    let _ = socket.set_nodelay(true);
    let (read, mut write) = socket.into_split();
    let mut reader = BufReader::new(read);
    while let Some(request) = read_request(&mut reader).await {
        let answer = if request.method == "GET" && request.path.ends_with("/invocation/next") {
            shared
                .first_poll
                .lock()
                .unwrap()
                .get_or_insert_with(Instant::now);
            // A function killed while it waits leaves this connection behind:
            // it must not take the next event with it.
            let mut probe = [0u8; 1];
            tokio::select! {
                (id, event) = next_event(&shared) => next_answer(id, event),
                _ = reader.read(&mut probe) => return,
            }
        } else {
            route(&request, &shared)
        };
        let (status, headers, body) = answer;
        let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        if write.write_all(head.as_bytes()).await.is_err() || write.write_all(&body).await.is_err()
        {
            return;
        }
    }
}

type Answer = (&'static str, Vec<(&'static str, String)>, Vec<u8>);

fn next_answer(id: String, event: String) -> Answer {
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(10);
    let headers = vec![
        ("Content-Type", "application/json".to_owned()),
        ("Lambda-Runtime-Aws-Request-Id", id),
        (
            "Lambda-Runtime-Deadline-Ms",
            deadline.as_millis().to_string(),
        ),
        (
            "Lambda-Runtime-Invoked-Function-Arn",
            "arn:aws:lambda:us-east-1:123456789012:function:nectr-disconnect".to_owned(),
        ),
        (
            "Lambda-Runtime-Trace-Id",
            "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned(),
        ),
    ];
    ("200 OK", headers, event.into_bytes())
}

fn route(request: &HttpRequest, shared: &Shared) -> Answer {
    const PREFIX: &str = "/2018-06-01/runtime/";
    let path = request.path.strip_prefix(PREFIX).unwrap_or("");
    match (
        request.method.as_str(),
        path.split('/').collect::<Vec<_>>().as_slice(),
    ) {
        ("POST", ["invocation", id, outcome @ ("response" | "error")]) => {
            if let Some(done) = shared.waiting.lock().unwrap().remove(*id) {
                let _ = done.send(Completion {
                    body: request.body.clone(),
                    error: *outcome == "error",
                });
            }
            ("202 Accepted", vec![], br#"{"status":"OK"}"#.to_vec())
        }
        ("POST", ["init", "error"]) => ("202 Accepted", vec![], br#"{"status":"OK"}"#.to_vec()),
        _ => ("404 Not Found", vec![], Vec::new()),
    }
}

async fn next_event(shared: &Shared) -> (String, String) {
    loop {
        let queued = shared.queued.notified();
        if let Some(event) = shared.queue.lock().unwrap().pop_front() {
            return event;
        }
        queued.await;
    }
}

async fn read_request(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> Option<HttpRequest> {
    let mut line = String::new();
    if reader.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let (mut length, mut chunked) = (0usize, false);
    loop {
        line.clear();
        reader.read_line(&mut line).await.ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line).await.ok()?;
            let size = usize::from_str_radix(line.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).await.ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        reader.read_exact(&mut body).await.ok()?;
    }
    Some(HttpRequest { method, path, body })
}
