//! systemd's readiness protocol (`sd_notify`): datagrams to `$NOTIFY_SOCKET`. Does nothing
//! when not started by systemd. Owns no other state.

use std::os::unix::net::UnixDatagram;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Sends one notification (`READY=1`, `RELOADING=1`, `STOPPING=1`, `WATCHDOG=1`, …).
/// Returns whether a notification socket was there to receive it.
pub fn notify(state: &str) -> bool {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else { return false };
    let Ok(socket) = UnixDatagram::unbound() else { return false };
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
    let sent = match bytes.first() {
        // A leading '@' names a socket in the abstract namespace (Linux only; systemd is
        // Linux only, so elsewhere there is nothing to notify).
        Some(b'@') => send_abstract(&socket, &bytes[1..], state),
        _ => socket.send_to(state.as_bytes(), &path),
    };
    if let Err(e) = &sent {
        tracing::warn!("cannot notify systemd ({state}): {e}");
    }
    sent.is_ok()
}

#[cfg(target_os = "linux")]
fn send_abstract(socket: &UnixDatagram, name: &[u8], state: &str) -> std::io::Result<usize> {
    use std::os::linux::net::SocketAddrExt;
    std::os::unix::net::SocketAddr::from_abstract_name(name)
        .and_then(|addr| socket.send_to_addr(state.as_bytes(), &addr))
}

#[cfg(not(target_os = "linux"))]
fn send_abstract(_: &UnixDatagram, _: &[u8], _: &str) -> std::io::Result<usize> {
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "abstract sockets exist only on Linux"))
}

/// Pings systemd's watchdog at half the interval it asked for (`WATCHDOG_USEC`).
#[derive(Debug)]
pub struct Watchdog {
    every: Duration,
    last: Mutex<Instant>,
}

impl Watchdog {
    /// The watchdog systemd asked for, if any (and if it is meant for this process).
    pub fn from_env() -> Option<Watchdog> {
        let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
        if let Some(pid) = std::env::var("WATCHDOG_PID").ok().and_then(|p| p.parse::<u32>().ok()) {
            if pid != std::process::id() {
                return None;
            }
        }
        Some(Watchdog { every: Duration::from_micros(usec) / 2, last: Mutex::new(Instant::now()) })
    }

    /// How often the caller should call [`Watchdog::ping`] at least.
    pub fn every(&self) -> Duration {
        self.every
    }

    /// Sends `WATCHDOG=1` if half the interval has passed since the last ping.
    pub fn ping(&self) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() >= self.every {
            notify("WATCHDOG=1");
            *last = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_reach_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let receiver = UnixDatagram::bind(&path).unwrap();
        // The variable is process-wide; this is the only test that sets it.
        std::env::set_var("NOTIFY_SOCKET", &path);
        assert!(notify("READY=1"));
        std::env::remove_var("NOTIFY_SOCKET");
        let mut buf = [0u8; 64];
        let n = receiver.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
        assert!(!notify("READY=1"), "no socket, no notification");
    }
}
