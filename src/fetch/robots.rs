//! robots.txt (RFC 9309) for the article pages fetched for full text: read once per
//! origin through the same fetcher (limits, politeness), kept for a day, and asked before
//! each page. Feeds themselves are not held to it: a feed is published to be polled.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use url::Url;

use super::{Fetcher, Source};
use crate::model::{FailureKind, FetchOutcome};

/// The product token storyline's groups in robots.txt are matched by.
pub const AGENT: &str = "storyline";

/// How long a site's robots.txt is trusted before it is read again (RFC 9309 asks for no
/// more than 24 hours).
const KEEP: Duration = Duration::from_secs(24 * 3600);

/// How long an unreachable robots.txt keeps the site's pages unfetched before it is
/// asked again: the RFC reads a server error as "disallow everything", for now.
const KEEP_UNREACHABLE: Duration = Duration::from_secs(3600);

enum Rules {
    /// No robots.txt (a 4xx): everything is allowed.
    All,
    /// The server failed or could not be reached: nothing is, for now.
    Unreachable(String),
    Parsed(texting_robots::Robot),
}

/// What a site's robots.txt says of one page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It may be fetched.
    Allowed,
    /// It may not.
    Disallowed,
    /// The robots.txt could not be read (a server error, no connection): no page of the
    /// site is fetched for now. Why.
    Unreachable(String),
}

/// The robots.txt of each origin asked so far. Cheap to share; one per poll pipeline.
#[derive(Default)]
pub struct Robots {
    known: Mutex<HashMap<String, (Instant, std::sync::Arc<Rules>)>>,
}

impl Robots {
    /// Whether the page at `url` may be fetched.
    pub async fn verdict(&self, fetcher: &Fetcher, url: &Url, source: Option<&Source>) -> Verdict {
        let origin = url.origin().ascii_serialization();
        let cached = {
            let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            known.get(&origin).filter(|(until, _)| Instant::now() < *until).map(|(_, rules)| rules.clone())
        };
        let rules = match cached {
            Some(rules) => rules,
            None => {
                let (rules, keep) = read(fetcher, url, source).await;
                let rules = std::sync::Arc::new(rules);
                let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
                known.insert(origin, (Instant::now() + keep, rules.clone()));
                rules
            }
        };
        match rules.as_ref() {
            Rules::All => Verdict::Allowed,
            Rules::Unreachable(why) => Verdict::Unreachable(why.clone()),
            Rules::Parsed(robot) if robot.allowed(url.as_str()) => Verdict::Allowed,
            Rules::Parsed(_) => Verdict::Disallowed,
        }
    }
}

async fn read(fetcher: &Fetcher, url: &Url, source: Option<&Source>) -> (Rules, Duration) {
    let Ok(robots) = url.join("/robots.txt") else { return (Rules::All, KEEP) };
    match fetcher.fetch_page(&robots, source).await.outcome {
        FetchOutcome::Done(body) => match texting_robots::Robot::new(AGENT, &body.bytes) {
            Ok(robot) => (Rules::Parsed(robot), KEEP),
            // Unparsable rules give no rule: as good as none.
            Err(_) => (Rules::All, KEEP),
        },
        FetchOutcome::NotModified => (Rules::All, KEEP),
        FetchOutcome::Failed(f) => match f.http_status {
            Some(status) if (400..500).contains(&status) => (Rules::All, KEEP),
            _ if f.kind == FailureKind::TooLarge => (Rules::All, KEEP),
            _ => (Rules::Unreachable(f.message), KEEP_UNREACHABLE),
        },
    }
}
