//! What the daemon counts (polls, items, grouping rounds, HTTP requests) and the gauges read
//! at each scrape (failing feeds, each feed's last success, the render cache), in the
//! Prometheus/OpenMetrics text format through `prometheus-client`.

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::grouping::Grouped;
use crate::model::{FailureKind, FeedStatus, PollReport, PollResult};

/// Upper bounds of the poll duration histogram, in seconds: from a local 304 to the fetch
/// timeout's range.
const POLL_BUCKETS: [f64; 9] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Upper bounds of the grouping round histogram, in seconds: a round of one poll's items
/// takes milliseconds, a cold start's chunk of 2,000 items tenths of a second.
const ROUND_BUCKETS: [f64; 8] = [0.001, 0.005, 0.025, 0.1, 0.25, 1.0, 2.5, 10.0];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeedLabel {
    feed: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: u16,
}

/// The daemon's metrics since the process started.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    polls: Family<ResultLabel, Counter>,
    poll_duration: Histogram,
    items: Counter,
    duplicates: Counter,
    feeds_failing: Gauge,
    last_success: Family<FeedLabel, Gauge>,
    cache_bytes: Gauge,
    grouped: Counter,
    grouping_failures: Counter,
    series_open: Gauge,
    round_duration: Histogram,
    requests: Family<RequestLabels, Counter>,
    /// Feeds whose last poll could not be stored.
    unstored: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let m = Metrics {
            registry: Registry::default(),
            polls: Family::default(),
            poll_duration: Histogram::new(POLL_BUCKETS),
            items: Counter::default(),
            duplicates: Counter::default(),
            feeds_failing: Gauge::default(),
            last_success: Family::default(),
            cache_bytes: Gauge::default(),
            grouped: Counter::default(),
            grouping_failures: Counter::default(),
            series_open: Gauge::default(),
            round_duration: Histogram::new(ROUND_BUCKETS),
            requests: Family::default(),
            unstored: Default::default(),
        };
        let mut registry = Registry::default();
        // Counters get `_total` appended, histograms `_bucket`, `_sum` and `_count`.
        registry.register("storyline_polls", "Polls since start, by result", m.polls.clone());
        registry.register(
            "storyline_poll_duration_seconds",
            "Time from fetch to commit of one poll",
            m.poll_duration.clone(),
        );
        registry.register("storyline_items_stored", "New items stored since start", m.items.clone());
        registry.register(
            "storyline_duplicates",
            "Copies of known articles received since start",
            m.duplicates.clone(),
        );
        registry.register("storyline_feeds_failing", "Feeds whose last poll failed", m.feeds_failing.clone());
        registry.register(
            "storyline_feed_last_success_timestamp_seconds",
            "Last successful poll (200 or 304)",
            m.last_success.clone(),
        );
        registry.register(
            "storyline_render_cache_bytes",
            "Rendered documents held (see [server] cache)",
            m.cache_bytes.clone(),
        );
        registry.register("storyline_items_grouped", "Items put into story series since start", m.grouped.clone());
        registry.register(
            "storyline_grouping_failures",
            "Grouping rounds that failed (their items are grouped by the next round)",
            m.grouping_failures.clone(),
        );
        registry.register("storyline_series_open", "Series the grouping engine holds in memory", m.series_open.clone());
        registry.register(
            "storyline_grouping_round_seconds",
            "Time to assign and write one chunk of grouped items",
            m.round_duration.clone(),
        );
        registry.register("storyline_http_requests", "HTTP requests answered, by route and status", m.requests.clone());
        Metrics { registry, ..m }
    }
}

impl Metrics {
    /// Counts one finished poll.
    pub fn record(&self, report: &PollReport) {
        let result = match report.result {
            PollResult::Done(_) => "ok",
            PollResult::NotModified => "not_modified",
            PollResult::Failed(_) => "error",
        };
        self.polls.get_or_create(&ResultLabel { result }).inc();
        // A poll the store could not take may not be on the feed's row either.
        let mut unstored = self.unstored.lock().unwrap_or_else(|p| p.into_inner());
        match &report.result {
            PollResult::Failed(f) if f.kind == FailureKind::Store => unstored.insert(report.feed.clone()),
            _ => unstored.remove(&report.feed),
        };
        drop(unstored);
        let counts = report.counts();
        self.items.inc_by(counts.new as u64);
        self.duplicates.inc_by(counts.duplicates as u64);
        self.poll_duration.observe(report.elapsed.as_secs_f64());
    }

    /// Counts one write of grouped items.
    pub fn grouped(&self, round: &Grouped) {
        self.grouped.inc_by(round.items as u64);
        self.series_open.set(round.series_open as i64);
        self.round_duration.observe(round.elapsed.as_secs_f64());
    }

    /// Counts one failed grouping round.
    pub fn grouping_failed(&self) {
        self.grouping_failures.inc();
    }

    /// Counts one answered request to `route` (the route's pattern, such as
    /// `/series/{file}`, so that the label's values stay few).
    pub fn request(&self, route: &str, status: u16) {
        self.requests.get_or_create(&RequestLabels { route: route.to_string(), status }).inc();
    }

    /// The exposition text, with per-feed gauges from the store's feed rows and the size
    /// of the render cache.
    pub fn render(&self, feeds: &[FeedStatus], cache_bytes: u64) -> String {
        let unstored = self.unstored.lock().unwrap_or_else(|p| p.into_inner());
        let failing = feeds.iter().filter(|f| f.error_count > 0 || unstored.contains(&f.name)).count();
        drop(unstored);
        self.feeds_failing.set(failing as i64);
        // Feeds removed from the configuration leave the gauge.
        self.last_success.clear();
        for f in feeds {
            if let Some(t) = f.last_success {
                self.last_success.get_or_create(&FeedLabel { feed: f.name.clone() }).set(t.timestamp());
            }
        }
        self.cache_bytes.set(cache_bytes as i64);
        let mut out = String::with_capacity(4096);
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::Duration;

    use crate::model::{Failure, PollCounts};

    fn report(result: PollResult, elapsed: Duration) -> PollReport {
        PollReport { feed: "a".into(), result, elapsed, min_interval: None, error_count: 0, warnings: Vec::new() }
    }

    #[test]
    fn counts_and_buckets() {
        let m = Metrics::default();
        let counts = PollCounts { new: 3, duplicates: 1, ..PollCounts::default() };
        m.record(&report(PollResult::Done(counts), Duration::from_millis(200)));
        let failure =
            Failure { kind: FailureKind::Timeout, http_status: None, message: "timed out".into(), retry_after: None };
        m.record(&report(PollResult::Failed(failure), Duration::from_secs(40)));
        m.grouped(&Grouped { items: 3, elapsed: Duration::from_millis(20), series_open: 2 });
        m.request("/feed.atom", 200);
        m.request("/feed.atom", 200);
        m.request("/series/{file}", 404);
        let text = m.render(&[], 4096);
        assert!(text.contains("storyline_polls_total{result=\"ok\"} 1\n"), "{text}");
        assert!(text.contains("storyline_polls_total{result=\"error\"} 1\n"));
        assert!(text.contains("storyline_poll_duration_seconds_bucket{le=\"0.1\"} 0\n"));
        assert!(text.contains("storyline_poll_duration_seconds_bucket{le=\"0.25\"} 1\n"));
        assert!(text.contains("storyline_poll_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("storyline_items_stored_total 3\n"));
        assert!(text.contains("storyline_duplicates_total 1\n"));
        assert!(text.contains("storyline_render_cache_bytes 4096\n"));
        assert!(text.contains("storyline_items_grouped_total 3\n"));
        assert!(text.contains("storyline_series_open 2\n"));
        assert!(text.contains("storyline_grouping_round_seconds_bucket{le=\"0.025\"} 1\n"));
        assert!(text.contains("storyline_http_requests_total{route=\"/feed.atom\",status=\"200\"} 2\n"), "{text}");
        assert!(text.contains("storyline_http_requests_total{route=\"/series/{file}\",status=\"404\"} 1\n"));
    }

    #[test]
    fn feed_names_are_escaped_in_labels() {
        let m = Metrics::default();
        let feed = FeedStatus {
            name: "a\"b".into(),
            last_success: Some(chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap()),
            ..FeedStatus::default()
        };
        let text = m.render(&[feed], 0);
        assert!(text.contains("storyline_feed_last_success_timestamp_seconds{feed=\"a\\\"b\"} 1700000000\n"), "{text}");
    }
}
