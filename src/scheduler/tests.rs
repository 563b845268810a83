//! Scheduling policy and the scheduler loop, on tokio's paused clock: no real waiting.

use std::sync::Mutex;

use chrono::TimeZone;

use super::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
}

fn every(mins: u64) -> Schedule {
    Schedule::Every(Duration::from_secs(mins * 60))
}

/// A successful poll, with the publisher's hint to poll no more often.
fn ok(min_interval: Option<Duration>) -> PollReport {
    report(crate::model::PollResult::NotModified, min_interval, 0)
}

/// The `n`th failure in a row, with a Retry-After, or a 410 Gone.
fn failed(n: u32, retry_after: Option<Duration>, gone: bool) -> PollReport {
    let kind = if gone { FailureKind::Gone } else { FailureKind::Network };
    let failure = crate::model::Failure { kind, http_status: None, message: "failed".into(), retry_after };
    report(crate::model::PollResult::Failed(failure), None, n)
}

fn report(result: crate::model::PollResult, min_interval: Option<Duration>, error_count: u32) -> PollReport {
    PollReport { feed: "f".into(), result, elapsed: Duration::ZERO, min_interval, error_count, warnings: Vec::new() }
}

fn plan(name: &str, host: &str, schedule: Schedule, next: Option<DateTime<Utc>>) -> Plan {
    Plan { name: name.into(), schedule, host: host.into(), next, parked: false }
}

#[test]
fn jitter_is_deterministic_bounded_and_spreads_feeds() {
    let s: Schedule = "*/15 * * * *".parse().unwrap();
    let j = jitter("a", &s, t0());
    assert_eq!(j, jitter("a", &s, t0()));
    assert!(j < Duration::from_secs(225));
    let distinct: BTreeSet<Duration> = (0..20).map(|i| jitter(&format!("feed-{i}"), &s, t0())).collect();
    assert!(distinct.len() > 10, "{distinct:?}");
    let per_second: Schedule = "* * * * * *".parse().unwrap();
    assert_eq!(jitter("a", &per_second, t0()), Duration::ZERO);
}

#[test]
fn backoff_doubles_up_to_a_day() {
    let mins: Vec<u64> = (1..=6).map(|n| backoff(n).as_secs() / 60).collect();
    assert_eq!(mins, [1, 2, 4, 8, 16, 32]);
    assert_eq!(backoff(30), MAX_BACKOFF);
    assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
}

#[test]
fn hints_only_slow_a_feed_down() {
    let s = every(10);
    let regular = next_poll("a", &s, t0(), &ok(None)).unwrap();
    let faster = next_poll("a", &s, t0(), &ok(Some(Duration::from_secs(60)))).unwrap();
    assert_eq!(faster, regular, "a hint shorter than the schedule changes nothing");
    let slower = next_poll("a", &s, t0(), &ok(Some(Duration::from_secs(3600)))).unwrap();
    assert_eq!(slower, t0() + chrono::Duration::hours(1));
    let capped = next_poll("a", &s, t0(), &ok(Some(Duration::from_secs(90 * 86_400))));
    assert_eq!(capped.unwrap(), t0() + chrono::Duration::days(1));
}

#[test]
fn intervals_are_measured_from_the_previous_poll() {
    let s = every(60);
    // A poll at 18:37 is followed by one at 19:37, whatever the feed's name.
    let polled = t0() + chrono::Duration::minutes(37);
    for name in ["x", "y", "a-long-feed-name"] {
        assert_eq!(scheduled_after(name, &s, polled), polled + chrono::Duration::hours(1));
    }
}

#[test]
fn failures_back_off_and_gone_stops() {
    let s = every(1);
    let fail = |n, retry: Option<u64>, gone| failed(n, retry.map(Duration::from_secs), gone);
    let next = next_poll("a", &s, t0(), &fail(5, None, false)).unwrap();
    assert!(next >= t0() + chrono::Duration::minutes(16));
    let next = next_poll("a", &s, t0(), &fail(1, Some(7200), false)).unwrap();
    assert_eq!(next, t0() + chrono::Duration::hours(2));
    assert_eq!(next_poll("a", &s, t0(), &fail(1, None, true)), None);
}

#[test]
fn retry_after_pushes_back_every_feed_of_the_host() {
    let mut s = Scheduler::new(
        vec![plan("a", "h1", every(5), None), plan("b", "h1", every(5), None), plan("c", "h2", every(5), None)],
        t0(),
    );
    let mut due = s.take_due(t0());
    due.sort();
    assert_eq!(due, ["a", "b", "c"]);
    let throttled = failed(1, Some(Duration::from_secs(3600)), false);
    s.finished("a", t0(), &throttled);
    s.finished("b", t0(), &ok(None));
    s.finished("c", t0(), &ok(None));
    let later = t0() + chrono::Duration::minutes(15);
    assert_eq!(s.take_due(later), ["c"], "b shares a's host and must wait");
    assert_eq!(s.due_at("b"), Some(t0() + chrono::Duration::hours(1)));
}

#[test]
fn replacing_the_feed_list_adds_removes_and_reschedules() {
    let hourly: Schedule = "0 * * * *".parse().unwrap();
    let stored = t0() + chrono::Duration::minutes(50);
    let mut s =
        Scheduler::new(vec![plan("a", "h", hourly.clone(), Some(stored)), plan("b", "h", every(5), None)], t0());
    assert_eq!(s.due_count(t0()), 1, "only the never-polled feed is due at start");
    s.replace(vec![plan("a", "h", every(5), Some(stored)), plan("new", "h", every(5), None)], t0());
    assert_eq!(s.due_at("b"), None, "removed");
    assert_eq!(s.due_at("new"), Some(t0()), "added and due now");
    assert_eq!(s.due_at("a"), Some(t0() + chrono::Duration::minutes(5)), "a faster schedule takes effect");
}

/// Records every poll at virtual wall time and answers from a script.
struct FakePoller {
    clock: Clock,
    polls: Mutex<Vec<(String, DateTime<Utc>)>>,
    persisted: Mutex<HashMap<String, Option<DateTime<Utc>>>>,
    script: fn(&str, usize) -> PollReport,
}

impl Poller for Arc<FakePoller> {
    fn poll(&self, feed: String) -> impl Future<Output = Option<PollReport>> + Send + 'static {
        let me = self.clone();
        async move {
            let n = {
                let mut polls = me.polls.lock().unwrap();
                polls.push((feed.clone(), me.clock.now()));
                polls.iter().filter(|(f, _)| *f == feed).count()
            };
            tokio::time::sleep(Duration::from_secs(2)).await;
            Some((me.script)(&feed, n))
        }
    }

    fn scheduled(&self, feed: String, next: Option<DateTime<Utc>>) -> impl Future<Output = ()> + Send + 'static {
        self.persisted.lock().unwrap().insert(feed, next);
        async {}
    }
}

async fn run_for(plans: Vec<Plan>, hours: u64, script: fn(&str, usize) -> PollReport) -> Arc<FakePoller> {
    let clock = Clock::virtual_at(t0());
    let poller = Arc::new(FakePoller { clock, polls: Mutex::default(), persisted: Mutex::default(), script });
    let token = CancellationToken::new();
    let (_tx, rx) = mpsc::channel(1);
    let tracker = TaskTracker::new();
    let scheduler = Scheduler::new(plans, clock.now());
    let task = tokio::spawn(scheduler.run(
        Arc::new(poller.clone()),
        clock,
        rx,
        token.clone(),
        tracker,
        Duration::from_secs(30),
    ));
    tokio::time::sleep(Duration::from_secs(hours * 3600)).await;
    token.cancel();
    task.await.unwrap();
    poller
}

fn times(p: &FakePoller, feed: &str) -> Vec<i64> {
    p.polls.lock().unwrap().iter().filter(|(f, _)| f == feed).map(|(_, t)| (*t - t0()).num_seconds()).collect()
}

#[tokio::test(start_paused = true)]
async fn the_loop_follows_cron_schedules() {
    let cron: Schedule = "*/15 * * * *".parse().unwrap();
    let p = run_for(vec![plan("cron", "h", cron.clone(), None)], 2, |_, _| ok(None)).await;
    let t = times(&p, "cron");
    let j = jitter("cron", &cron, t0()).as_secs() as i64;
    let expected: Vec<i64> = (0..8).map(|k| if k == 0 { 0 } else { k * 900 + j }).collect();
    assert_eq!(t, expected, "polled at start, then on every quarter hour plus jitter");
    let persisted = p.persisted.lock().unwrap()["cron"].unwrap();
    assert_eq!((persisted - t0()).num_seconds(), 8 * 900 + j, "the next poll time is persisted");
}

#[tokio::test(start_paused = true)]
async fn the_loop_backs_off_and_stops_on_gone() {
    let p =
        run_for(vec![plan("flaky", "h", every(1), None), plan("gone", "g", every(1), None)], 1, |feed, n| match feed {
            "gone" => failed(n as u32, None, n >= 2),
            _ => failed(n as u32, None, false),
        })
        .await;
    let t = times(&p, "flaky");
    let gaps: Vec<i64> = t.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.len() >= 4 && gaps.len() <= 7, "{t:?}");
    for (i, gap) in gaps.iter().enumerate() {
        // After failure n the wait is backoff(n), plus the 2 s poll and the interval grid.
        let wait = backoff(i as u32 + 1).as_secs() as i64;
        assert!((wait..wait + 75).contains(gap), "gap {i} is {gap}s, backoff {wait}s: {gaps:?}");
    }
    assert_eq!(times(&p, "gone").len(), 2, "410 stops polling");
    assert_eq!(p.persisted.lock().unwrap()["gone"], None);
}
