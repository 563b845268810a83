//! Politeness: how many requests may be in flight overall and per host.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A global permit pool plus one pool per host, created on first use.
#[derive(Debug)]
pub struct Limits {
    global: Arc<Semaphore>,
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Held while one request is in flight; releases both permits on drop.
#[derive(Debug)]
pub struct Permit {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

impl Limits {
    /// `global` requests in flight overall, `per_host` per host.
    pub fn new(global: usize, per_host: usize) -> Self {
        Limits { global: Arc::new(Semaphore::new(global)), per_host, hosts: Mutex::new(HashMap::new()) }
    }

    /// Waits for a slot on `host`, then a global slot. Taking the host slot first keeps a
    /// slow host's queue from occupying global slots other hosts could use.
    pub async fn acquire(&self, host: &str) -> Permit {
        let host_sem = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            hosts.entry(host.to_ascii_lowercase()).or_insert_with(|| Arc::new(Semaphore::new(self.per_host))).clone()
        };
        // The semaphores are never closed, so acquiring cannot fail.
        let host = host_sem.acquire_owned().await.expect("host semaphore is never closed");
        let global = self.global.clone().acquire_owned().await.expect("global semaphore is never closed");
        Permit { _host: host, _global: global }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn per_host_limit_is_separate_from_other_hosts() {
        let limits = Limits::new(3, 1);
        let a = limits.acquire("a.example").await;
        // Another host still gets a slot while a.example is busy.
        let _b = limits.acquire("b.example").await;
        let pending = tokio::time::timeout(std::time::Duration::from_millis(20), limits.acquire("A.example")).await;
        assert!(pending.is_err(), "a second request to the same host must wait");
        drop(a);
        let _a2 = limits.acquire("a.example").await;
    }
}
