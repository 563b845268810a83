//! Runs `storyline run` as a child process, for the tests where the process boundary is
//! the point (signals, sd_notify, the writer lock); the others start the daemon in-process
//! (`running`). The child's address comes from its "listening on" log line; tests wait
//! for what they need, never for fixed times.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// Longest wait for any expected event.
const PATIENCE: Duration = Duration::from_secs(30);

pub struct Daemon {
    pub child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    pub log: Vec<String>,
    pub base: String,
}

impl Daemon {
    /// Starts the daemon and waits until it listens.
    pub async fn start(config: &Path) -> Daemon {
        Daemon::start_with(config, &[]).await
    }

    /// Starts the daemon with extra environment variables.
    pub async fn start_with(config: &Path, env: &[(&str, &str)]) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_storyline"))
            .arg("--config")
            .arg(config)
            .arg("run")
            .env("STORYLINE_LOG", "info")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("JOURNAL_STREAM")
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut d = Daemon { child, lines, log: Vec::new(), base: String::new() };
        let line = d.wait_for("listening on http://").await;
        d.base = line[line.find("http://").unwrap()..].trim().trim_end_matches('/').to_string();
        d
    }

    /// Waits for the next log line containing every one of `parts`; returns it.
    pub async fn wait_for_all(&mut self, parts: &[&str]) -> String {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => {
                    self.log.push(line.clone());
                    if parts.iter().all(|p| line.contains(p)) {
                        return line;
                    }
                }
                Ok(None) => panic!("the daemon exited before logging {parts:?}; log:\n{}", self.log.join("\n")),
                Err(_) => panic!("no log line with {parts:?} within {PATIENCE:?}; log:\n{}", self.log.join("\n")),
            }
        }
    }

    pub async fn wait_for(&mut self, part: &str) -> String {
        self.wait_for_all(&[part]).await
    }

    pub fn signal(&self, name: &str) {
        let pid = self.child.id().expect("the daemon is running").to_string();
        let ok = std::process::Command::new("kill").args(["-s", name, &pid]).status().unwrap().success();
        assert!(ok, "kill -s {name} failed");
    }

    /// Sends SIGTERM and returns the exit code.
    pub async fn stop(mut self) -> (Option<i32>, Vec<String>) {
        self.signal("TERM");
        let status = tokio::time::timeout(PATIENCE, self.child.wait()).await.expect("the daemon did not exit").unwrap();
        while let Ok(Some(line)) = tokio::time::timeout(Duration::from_secs(5), self.lines.recv()).await {
            self.log.push(line);
        }
        (status.code(), self.log)
    }
}
