//! Counters the daemon updates as polls finish, rendered in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::model::FeedStatus;

/// Upper bounds of the poll duration histogram, in seconds.
const BUCKETS: [f64; 9] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Poll counters since the process started.
#[derive(Debug, Default)]
pub struct Metrics {
    polls_ok: AtomicU64,
    polls_not_modified: AtomicU64,
    polls_failed: AtomicU64,
    items: AtomicU64,
    duplicates: AtomicU64,
    duration_buckets: [AtomicU64; BUCKETS.len()],
    duration_count: AtomicU64,
    duration_micros: AtomicU64,
}

/// How a poll ended, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollKind {
    /// A new document was stored.
    Ok,
    /// 304.
    NotModified,
    /// Any failure.
    Failed,
}

impl Metrics {
    /// Counts one finished poll.
    pub fn record(&self, kind: PollKind, new: usize, duplicates: usize, elapsed: Duration) {
        let counter = match kind {
            PollKind::Ok => &self.polls_ok,
            PollKind::NotModified => &self.polls_not_modified,
            PollKind::Failed => &self.polls_failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.items.fetch_add(new as u64, Ordering::Relaxed);
        self.duplicates.fetch_add(duplicates as u64, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        for (bucket, bound) in self.duration_buckets.iter().zip(BUCKETS) {
            if secs <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.duration_count.fetch_add(1, Ordering::Relaxed);
        self.duration_micros.fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    /// The Prometheus exposition text, with per-feed gauges from the store's feed rows and
    /// the size of the render cache.
    pub fn render(&self, feeds: &[FeedStatus], cache_bytes: u64) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::with_capacity(4096);
        out.push_str(
            "# HELP storyline_polls_total Polls since start, by result.\n# TYPE storyline_polls_total counter\n",
        );
        for (result, c) in
            [("ok", &self.polls_ok), ("not_modified", &self.polls_not_modified), ("error", &self.polls_failed)]
        {
            let _ = writeln!(out, "storyline_polls_total{{result=\"{result}\"}} {}", get(c));
        }
        out.push_str("# HELP storyline_poll_duration_seconds Time from fetch to commit of one poll.\n");
        out.push_str("# TYPE storyline_poll_duration_seconds histogram\n");
        for (bucket, bound) in self.duration_buckets.iter().zip(BUCKETS) {
            let _ = writeln!(out, "storyline_poll_duration_seconds_bucket{{le=\"{bound}\"}} {}", get(bucket));
        }
        let count = get(&self.duration_count);
        let _ = writeln!(out, "storyline_poll_duration_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "storyline_poll_duration_seconds_sum {}", get(&self.duration_micros) as f64 / 1e6);
        let _ = writeln!(out, "storyline_poll_duration_seconds_count {count}");
        out.push_str("# HELP storyline_items_stored_total New items stored since start.\n# TYPE storyline_items_stored_total counter\n");
        let _ = writeln!(out, "storyline_items_stored_total {}", get(&self.items));
        out.push_str("# HELP storyline_duplicates_total Copies of known articles received since start.\n");
        out.push_str("# TYPE storyline_duplicates_total counter\n");
        let _ = writeln!(out, "storyline_duplicates_total {}", get(&self.duplicates));
        let failing = feeds.iter().filter(|f| f.error_count > 0).count();
        out.push_str(
            "# HELP storyline_feeds_failing Feeds whose last poll failed.\n# TYPE storyline_feeds_failing gauge\n",
        );
        let _ = writeln!(out, "storyline_feeds_failing {failing}");
        out.push_str("# HELP storyline_feed_last_success_timestamp_seconds Last successful poll (200 or 304).\n");
        out.push_str("# TYPE storyline_feed_last_success_timestamp_seconds gauge\n");
        for f in feeds {
            let Some(t) = f.last_success.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()) else {
                continue;
            };
            let _ = writeln!(
                out,
                "storyline_feed_last_success_timestamp_seconds{{feed=\"{}\"}} {}",
                label(&f.name),
                t.timestamp()
            );
        }
        out.push_str("# HELP storyline_render_cache_bytes Rendered documents held (see [server] cache).\n");
        out.push_str("# TYPE storyline_render_cache_bytes gauge\n");
        let _ = writeln!(out, "storyline_render_cache_bytes {cache_bytes}");
        out
    }
}

/// Escapes a Prometheus label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets() {
        let m = Metrics::default();
        m.record(PollKind::Ok, 3, 1, Duration::from_millis(200));
        m.record(PollKind::Failed, 0, 0, Duration::from_secs(40));
        let text = m.render(&[], 4096);
        assert!(text.contains("storyline_polls_total{result=\"ok\"} 1\n"));
        assert!(text.contains("storyline_polls_total{result=\"error\"} 1\n"));
        assert!(text.contains("storyline_poll_duration_seconds_bucket{le=\"0.1\"} 0\n"));
        assert!(text.contains("storyline_poll_duration_seconds_bucket{le=\"0.25\"} 1\n"));
        assert!(text.contains("storyline_poll_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("storyline_items_stored_total 3\n"));
        assert!(text.contains("storyline_duplicates_total 1\n"));
        assert!(text.contains("storyline_render_cache_bytes 4096\n"));
    }
}
