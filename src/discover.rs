//! Finding a site's feeds from one of its pages, as feed readers do: fetch the page; if it
//! is a feed, that is the answer; if it is an HTML page, try the feeds it announces, then
//! its links that look like feeds, then the site's usual feed paths, each tier only when
//! the one before found nothing. Every candidate is confirmed by fetching and reading it
//! with the normal fetch limits and politeness.
//!
//! Wiring only: HTTP is `fetch`'s, reading pages and feeds is `parse`'s.

use serde::Serialize;
use url::Url;

use crate::fetch::Fetcher;
use crate::model::{FetchOutcome, Validators};
use crate::parse::{self, ParseError};

/// A confirmed feed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Found {
    /// Where it is served (after redirects).
    pub url: Url,
    /// Its own title.
    pub title: Option<String>,
    /// RSS 2.0, Atom, JSON Feed, ...
    pub format: String,
    /// Entries it holds now.
    pub entries: usize,
}

/// What a URL turned out to be.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Discovery {
    /// The URL is a feed.
    Feed {
        /// It.
        feed: Found,
    },
    /// The URL is a web page; the feeds found from it (none, one or several).
    Page {
        /// Confirmed feeds, in the order found.
        feeds: Vec<Found>,
        /// Candidates that were tried and are not feeds, with why.
        rejected: Vec<(Url, String)>,
    },
}

/// Why nothing could be discovered at all.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// The page itself could not be fetched.
    #[error("cannot fetch {url}: {message}")]
    Fetch {
        /// The URL.
        url: Url,
        /// The failure, in words.
        message: String,
    },
    /// The body is neither a feed nor an HTML page (or a broken feed).
    #[error("{url} is not a feed or a web page: {error}")]
    Unreadable {
        /// The URL.
        url: Url,
        /// Why it could not be read.
        error: ParseError,
    },
}

/// Discovers what `url` offers, fetching with `fetcher`.
pub async fn discover(url: &Url, fetcher: &Fetcher) -> Result<Discovery, DiscoverError> {
    let body = match fetcher.fetch(url, &Validators::default()).await.outcome {
        FetchOutcome::Done(body) => body,
        FetchOutcome::NotModified => {
            let message = "304 Not Modified to a request without validators".to_string();
            return Err(DiscoverError::Fetch { url: url.clone(), message });
        }
        FetchOutcome::Failed(f) => return Err(DiscoverError::Fetch { url: url.clone(), message: f.message }),
    };
    match parse::parse(&body.bytes, body.content_type.as_deref(), &body.final_url) {
        Ok(feed) => Ok(Discovery::Feed {
            feed: Found { url: body.final_url, title: feed.title, format: feed.format, entries: feed.entries.len() },
        }),
        Err(ParseError::Html) => {
            let html = String::from_utf8_lossy(&body.bytes);
            let found = parse::discover::candidates(&html, &body.final_url);
            let tiers = [found.announced.into_iter().map(|(u, _)| u).collect::<Vec<_>>(), found.linked, found.usual];
            let (mut feeds, mut rejected) = (Vec::new(), Vec::new());
            for tier in tiers {
                for candidate in tier {
                    match confirm(&candidate, fetcher).await {
                        Ok(feed) if !feeds.iter().any(|f: &Found| f.url == feed.url) => feeds.push(feed),
                        Ok(_) => {}
                        Err(why) => rejected.push((candidate, why)),
                    }
                }
                if !feeds.is_empty() {
                    break;
                }
            }
            Ok(Discovery::Page { feeds, rejected })
        }
        Err(error) => Err(DiscoverError::Unreadable { url: url.clone(), error }),
    }
}

/// Fetches and reads a candidate; why it is not a feed otherwise.
async fn confirm(url: &Url, fetcher: &Fetcher) -> Result<Found, String> {
    let body = match fetcher.fetch(url, &Validators::default()).await.outcome {
        FetchOutcome::Done(body) => body,
        FetchOutcome::NotModified => return Err("304 Not Modified without validators".into()),
        FetchOutcome::Failed(f) => return Err(f.message),
    };
    let feed = parse::parse(&body.bytes, body.content_type.as_deref(), &body.final_url).map_err(|e| e.to_string())?;
    Ok(Found { url: body.final_url, title: feed.title, format: feed.format, entries: feed.entries.len() })
}
