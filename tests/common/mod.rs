//! Test support: a loopback HTTP server serving fixture feeds, and helpers to run the
//! real `storyline` binary against a temporary configuration.
#![allow(dead_code)]

pub mod daemon;
pub mod running;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server answers on one path.
#[derive(Clone, Debug)]
pub struct Route {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When set, sent as ETag and honoured in If-None-Match.
    pub etag: Option<String>,
    /// When set, sent as Last-Modified and honoured in If-Modified-Since (exact match).
    pub last_modified: Option<String>,
    /// How long to wait before answering.
    pub delay: Option<std::time::Duration>,
    /// Headers (lower-case name, value) a request must carry, else it is answered 401.
    pub requires: Vec<(String, String)>,
}

impl Route {
    pub fn feed(body: impl Into<Vec<u8>>, content_type: &str) -> Route {
        Route {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
            etag: None,
            last_modified: None,
            delay: None,
            requires: Vec::new(),
        }
    }

    pub fn status(status: u16) -> Route {
        Route {
            status,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: b"nope".to_vec(),
            etag: None,
            last_modified: None,
            delay: None,
            requires: Vec::new(),
        }
    }

    pub fn with_validators(mut self, etag: &str, last_modified: &str) -> Route {
        self.etag = Some(etag.into());
        self.last_modified = Some(last_modified.into());
        self
    }

    pub fn delayed(mut self, delay: std::time::Duration) -> Route {
        self.delay = Some(delay);
        self
    }

    /// Answers 401 unless the request carries header `name` (any case) with `value`.
    pub fn requiring(mut self, name: &str, value: &str) -> Route {
        self.requires.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Route {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// One request as the server saw it; header names lower-cased.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub headers: HashMap<String, String>,
}

/// A fixture server on 127.0.0.1:0.
#[derive(Clone)]
pub struct Server {
    pub addr: std::net::SocketAddr,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub async fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = Server { addr: listener.local_addr().unwrap(), routes: Arc::default(), seen: Arc::default() };
        let s = server.clone();
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else { return };
                let s = s.clone();
                tokio::spawn(async move { s.serve(sock).await });
            }
        });
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn route(&self, path: &str, route: Route) {
        self.routes.lock().unwrap().insert(path.into(), route);
    }

    pub fn requests(&self, path: &str) -> Vec<Seen> {
        self.seen.lock().unwrap().iter().filter(|s| s.path == path).cloned().collect()
    }

    async fn serve(&self, mut sock: tokio::net::TcpStream) {
        let Some(head) = read_head(&mut sock).await else { return };
        let mut lines = head.split("\r\n");
        let path = lines.next().and_then(|l| l.split(' ').nth(1)).unwrap_or("/").to_string();
        let headers: HashMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        self.seen.lock().unwrap().push(Seen { path: path.clone(), headers: headers.clone() });
        let mut route = self.routes.lock().unwrap().get(&path).cloned().unwrap_or_else(|| Route::status(404));
        if route.requires.iter().any(|(name, value)| headers.get(name) != Some(value)) {
            route = Route::status(401);
        }
        if let Some(delay) = route.delay {
            tokio::time::sleep(delay).await;
        }
        let not_modified = route.etag.is_some() && headers.get("if-none-match") == route.etag.as_ref()
            || route.last_modified.is_some() && headers.get("if-modified-since") == route.last_modified.as_ref();
        let status = if not_modified { 304 } else { route.status };
        let body: &[u8] = if not_modified { b"" } else { &route.body };
        let mut out = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
        for (k, v) in &route.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(etag) = &route.etag {
            out.push_str(&format!("ETag: {etag}\r\n"));
        }
        if let Some(lm) = &route.last_modified {
            out.push_str(&format!("Last-Modified: {lm}\r\n"));
        }
        out.push_str("\r\n");
        let _ = sock.write_all(out.as_bytes()).await;
        let _ = sock.write_all(body).await;
        let _ = sock.shutdown().await;
    }
}

/// Reads a request up to the blank line after its headers; `None` when the client goes
/// away first.
pub async fn read_head(sock: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// A fixture file's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// A temporary folder holding a config file (and the database next to it).
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Setup {
    /// Writes `[fetch]` settings suited to tests plus the given `[[feed]]` (name, url) pairs.
    pub fn new(extra: &str, feeds: &[(&str, String)]) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let mut text = format!("[storage]\ndatabase = \"test.db\"\n\n{extra}\n");
        for (name, url) in feeds {
            text.push_str(&format!("\n[[feed]]\nname = \"{name}\"\nurl = \"{url}\"\n"));
        }
        let config = dir.path().join("config.toml");
        std::fs::write(&config, text).unwrap();
        Setup { dir, config }
    }

    /// Runs the real binary with this config; returns (exit code, stdout, stderr).
    pub async fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_storyline"))
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env_remove("STORYLINE_CONFIG")
            .env_remove("STATE_DIRECTORY")
            .output()
            .await
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `export items` parsed into JSON values.
    pub async fn items(&self) -> Vec<serde_json::Value> {
        let (code, out, err) = self.run(&["export", "items"]).await;
        assert_eq!(code, 0, "export failed: {err}");
        out.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }
}
