//! The HTTP listener: accepts connections under a cap (and a share of it per client
//! address), gives each client a bounded time
//! to send a request head (which also ends idle keep-alive connections), and stops
//! without waiting for idle or dripping clients.
//!
//! Connections only: what a request gets is the router's business (`publish`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::warn;

/// How long a client may take to send a whole request head, counted from the moment the
/// connection is waiting for one: after it opens, and after each response on a kept-alive
/// connection (so it is also the idle keep-alive timeout). Browsers and feed readers send
/// a head in one packet; 10 s leaves room for a slow mobile link.
pub const REQUEST_HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// How long requests already being answered may run on after a stop: rendering the
/// largest document takes well under a second.
pub const STOP_GRACE: Duration = Duration::from_secs(2);

/// How long a refused client gets to send its request head and take its 503 before the
/// socket is closed.
const REFUSAL_TIME: Duration = Duration::from_secs(1);

/// Most bytes of a refused client's request read before answering: a request head fits.
const REFUSAL_READ: usize = 8192;

/// After `accept` fails (out of file descriptors, most often), wait this long before the
/// next try instead of spinning on the same error.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The answer to a connection beyond the cap: short, and closing.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 19\r\n\
Retry-After: 5\r\nConnection: close\r\n\r\ntoo many connections";

/// One client address may hold at most this share of the connection cap (a quarter: 128
/// of the default 512), so that one host's sockets, idle or reconnecting as fast as they
/// are closed, cannot keep every other reader out. 128 is far beyond what a reverse proxy
/// in front of storyline keeps open to it.
pub const CLIENT_SHARE: usize = 4;

/// What bounds the server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// Connections one client address may hold at once; more are answered as beyond the
    /// cap.
    pub per_client: usize,
    /// See [`REQUEST_HEAD_TIMEOUT`].
    pub head_timeout: Duration,
    /// See [`STOP_GRACE`].
    pub stop_grace: Duration,
}

impl Limits {
    /// The production limits with a connection cap (and a [`CLIENT_SHARE`] of it per
    /// client address).
    pub fn new(max_connections: usize) -> Limits {
        Limits {
            max_connections,
            per_client: (max_connections / CLIENT_SHARE).max(1),
            head_timeout: REQUEST_HEAD_TIMEOUT,
            stop_grace: STOP_GRACE,
        }
    }
}

/// Serves `router` on `listener` until `stop` is cancelled; then answers the requests in
/// flight for at most `stop_grace` and drops every connection.
pub async fn serve(listener: TcpListener, router: Router, limits: Limits, stop: CancellationToken) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let clients = Arc::new(Clients::default());
    let connections = TaskTracker::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.head_timeout);
    loop {
        let (stream, peer) = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => (stream, peer.ip()),
                Err(e) => {
                    warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let Some(client) = clients.admit(peer, limits.per_client) else {
            connections.spawn(refuse(stream));
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            connections.spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(router.clone()));
        let stop = stop.clone();
        connections.spawn(async move {
            let _slot = (slot, client);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                () = stop.cancelled() => {}
            }
            // Closes the connection at once when no request is being answered.
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(limits.stop_grace, conn).await;
        });
    }
    drop(listener);
    connections.close();
    // Each connection gives up by its own deadline; this is a backstop.
    let _ = tokio::time::timeout(limits.stop_grace + REFUSAL_TIME, connections.wait()).await;
}

/// Connections held per client address.
#[derive(Default)]
struct Clients {
    held: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection of a client address; gives its place back on drop.
struct ClientSlot {
    clients: Arc<Clients>,
    peer: IpAddr,
}

impl Clients {
    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A place for one more connection of `peer`, unless it holds `limit` already.
    fn admit(self: &Arc<Self>, peer: IpAddr, limit: usize) -> Option<ClientSlot> {
        let mut held = self.held();
        let n = held.entry(peer).or_default();
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(ClientSlot { clients: self.clone(), peer })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut held = self.clients.held();
        if let Some(n) = held.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.peer);
            }
        }
    }
}

/// Tells a client beyond the cap to come back later. Its request head is read first: a
/// client answered before it sent its request takes the answer for a broken connection,
/// and closing on unread bytes resets the connection, losing the answer.
async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(REFUSAL_TIME, async {
        let mut head = Vec::with_capacity(1024);
        let mut buf = [0u8; 1024];
        while head.len() < REFUSAL_READ && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = stream.write_all(BUSY).await;
        let _ = stream.shutdown().await;
    })
    .await;
}
