//! A TCP proxy in front of a Bolt server. Every chunk the client sends
//! reaches the server `latency` after it arrived (pipelined messages stay
//! pipelined), and a new connection waits 2·`latency` first, as the HTTP
//! proxies charge TCP and TLS handshakes: one Bolt round trip costs L more.
//! It records the protocol version the server picked on each connection.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub struct BoltProxy {
    pub uri: String,
    negotiated: Arc<Mutex<Vec<[u8; 4]>>>,
    accepting: JoinHandle<()>,
}

impl BoltProxy {
    /// `upstream` is a `bolt://host:port` URI.
    pub async fn start(upstream: &str, latency: Duration) -> Self {
        let upstream = upstream.trim_start_matches("bolt://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let uri = format!("bolt://{}", listener.local_addr().unwrap());
        let negotiated = Arc::new(Mutex::new(Vec::new()));
        let versions = negotiated.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(client, upstream.clone(), latency, versions.clone()));
            }
        });
        Self {
            uri,
            negotiated,
            accepting,
        }
    }

    /// The version each connection's handshake settled on, as the server
    /// answered it: `[0, 0, minor, major]`.
    pub fn negotiated(&self) -> Vec<[u8; 4]> {
        self.negotiated.lock().unwrap().clone()
    }
}

async fn relay(
    client: TcpStream,
    upstream: String,
    latency: Duration,
    negotiated: Arc<Mutex<Vec<[u8; 4]>>>,
) {
    tokio::time::sleep(2 * latency).await;
    let Ok(server) = TcpStream::connect(&upstream).await else {
        return;
    };
    // Without it, a reply the server sends in pieces waits on the client's
    // delayed ACK: ~40 ms the function would be blamed for.
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (from_client, to_client) = client.into_split();
    let (from_server, to_server) = server.into_split();
    tokio::join!(
        delayed(from_client, to_server, latency),
        answers(from_server, to_client, negotiated),
    );
}

/// Client to server, each chunk `latency` after it arrived.
async fn delayed(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, latency: Duration) {
    let (chunks, mut due) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let read = async move {
        let mut buffer = vec![0; 64 * 1024];
        while let Ok(n @ 1..) = from.read(&mut buffer).await {
            if chunks.send((Instant::now(), buffer[..n].to_vec())).is_err() {
                break;
            }
        }
    };
    let write = async move {
        while let Some((arrived, chunk)) = due.recv().await {
            tokio::time::sleep_until(arrived + latency).await;
            if to.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(read, write);
}

/// Server to client at once; the first four bytes are the chosen version.
async fn answers(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    negotiated: Arc<Mutex<Vec<[u8; 4]>>>,
) {
    let mut version = [0; 4];
    if from.read_exact(&mut version).await.is_err() || to.write_all(&version).await.is_err() {
        return;
    }
    negotiated.lock().unwrap().push(version);
    let _ = tokio::io::copy(&mut from, &mut to).await;
}

impl Drop for BoltProxy {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}
