//! The daemon started in this process, on a listener bound to 127.0.0.1:0, driven through
//! its control (stop token, reload requests) and followed through its typed events: tests
//! wait for what the daemon did, never for log text or fixed times, and check state
//! through HTTP and the store.

use std::path::Path;
use std::time::Duration;

use storyline::config::Config;
use storyline::daemon::{next_event, serve, Control, Event};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

/// Longest wait for any expected event.
const PATIENCE: Duration = Duration::from_secs(30);

pub struct Running {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    events: broadcast::Receiver<Event>,
    /// Events received while waiting for others, oldest first: each is waited for once.
    seen: Vec<Event>,
    reloads: mpsc::Sender<()>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Starts the daemon on the configuration at `path` and waits until it is ready.
    pub async fn start(path: &Path) -> Running {
        let config = Config::load(path).unwrap_or_else(|e| panic!("{e}"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (control, reloads, events) = Control::new();
        let stop = control.stop.clone();
        let task = tokio::spawn(serve(listener, path.to_path_buf(), config, control));
        let mut running = Running { base, events, seen: Vec::new(), reloads, stop, task };
        running.wait(|e| *e == Event::Ready).await;
        running
    }

    /// Waits for the next event that `wanted` accepts (one already received while waiting
    /// for another counts).
    pub async fn wait(&mut self, wanted: impl Fn(&Event) -> bool) -> Event {
        if let Some(i) = self.seen.iter().position(&wanted) {
            return self.seen.remove(i);
        }
        let seen = &mut self.seen;
        let keep = |e: &Event| {
            if wanted(e) {
                return true;
            }
            seen.push(e.clone());
            false
        };
        match tokio::time::timeout(PATIENCE, next_event(&mut self.events, keep)).await {
            Ok(Some(event)) => event,
            Ok(None) => panic!("the daemon stopped; events: {:?}", self.seen),
            Err(_) => panic!("no such event within {PATIENCE:?}; events: {:?}", self.seen),
        }
    }

    /// Waits until feed `name` was polled; returns its status and new items.
    pub async fn polled(&mut self, name: &str) -> (&'static str, usize) {
        match self.wait(|e| matches!(e, Event::Polled { feed, .. } if feed == name)).await {
            Event::Polled { status, new, .. } => (status, new),
            _ => unreachable!("only polls are waited for"),
        }
    }

    /// Waits until feed `name`'s next poll time is stored.
    pub async fn scheduled(&mut self, name: &str) {
        self.wait(|e| matches!(e, Event::Scheduled { feed, .. } if feed == name)).await;
    }

    /// Waits until a grouping round put items into series; returns how many.
    pub async fn grouped(&mut self) -> usize {
        match self.wait(|e| matches!(e, Event::Grouped { .. })).await {
            Event::Grouped { items } => items,
            _ => unreachable!("only rounds are waited for"),
        }
    }

    /// Asks for the configuration to be read again; returns whether it was applied.
    pub async fn reload(&mut self) -> bool {
        self.reloads.send(()).await.unwrap();
        match self.wait(|e| matches!(e, Event::Reloaded { .. })).await {
            Event::Reloaded { applied } => applied,
            _ => unreachable!("only reloads are waited for"),
        }
    }

    /// Stops the daemon and returns how it ended.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop.cancel();
        tokio::time::timeout(PATIENCE, self.task).await.expect("the daemon did not stop").unwrap()
    }
}
