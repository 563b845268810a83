//! HTTP to feed sources: conditional GET, redirects by hand, limits on time, size and
//! concurrency. Every failure comes back as a [`Failure`] value, never an `Err` or a panic.
//!
//! Must not touch the database or parse feed content.

pub mod destination;
mod limits;
pub mod robots;

use std::time::Duration;

use reqwest::header::{
    HeaderMap, ACCEPT, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION, RETRY_AFTER, USER_AGENT,
};
use reqwest::{redirect, Client, Response, StatusCode};
use url::Url;

pub use limits::Limits;

use crate::config::FetchSettings;
use crate::model::{public_url, Access, Body, Failure, FailureKind, FetchOutcome, FetchReport, Validators};

/// How one configured source is asked: its access (User-Agent, headers, credentials) and
/// the origin of its configured URL, the only one its headers and credentials go to.
#[derive(Debug, Clone)]
pub struct Source {
    /// The configured URL's origin.
    pub origin: Url,
    /// What it needs.
    pub access: Access,
}

/// Whether `url` is `origin`'s host and port, or the same host moved up from http to
/// https (never down).
fn same_origin(origin: &Url, url: &Url) -> bool {
    let host = |u: &Url| u.host_str().map(str::to_ascii_lowercase);
    if host(origin) != host(url) {
        return false;
    }
    match (origin.scheme(), url.scheme()) {
        (a, b) if a == b => origin.port_or_known_default() == url.port_or_known_default(),
        ("http", "https") => origin.port().is_none() && url.port().is_none(),
        _ => false,
    }
}

/// Most redirects followed for one fetch.
pub const MAX_REDIRECTS: usize = 5;

const ACCEPT_FEEDS: &str = "application/atom+xml, application/rss+xml, application/feed+json, \
                            application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5";

const ACCEPT_PAGES: &str = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5";

/// Why a fetcher could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The TLS stack or the client configuration was rejected.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Fetches feeds politely. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Fetcher {
    client: Client,
    limits: Limits,
    timeout: Duration,
    max_body: u64,
}

impl Fetcher {
    /// Builds a fetcher from `[fetch]` settings.
    pub fn new(settings: &FetchSettings) -> Result<Self, FetchError> {
        let client = Client::builder()
            .user_agent(settings.user_agent.clone())
            .redirect(redirect::Policy::none())
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .timeout(settings.timeout)
            .gzip(true)
            .brotli(true)
            .deflate(true)
            .build()?;
        Ok(Fetcher {
            client,
            limits: Limits::new(settings.max_concurrent, settings.per_host),
            timeout: settings.timeout,
            max_body: settings.max_body,
        })
    }

    /// Fetches `url`, sending the stored validators. The whole exchange, redirects
    /// included, is bounded by the configured timeout.
    ///
    /// The timeout runs from the moment the first request may go out, and stops while a
    /// redirect's next hop waits for a slot on its host: time spent queued behind other
    /// fetches to the same host is not the server's fault.
    pub async fn fetch(&self, url: &Url, validators: &Validators) -> FetchReport {
        self.fetch_as(url, validators, None).await
    }

    /// [`fetch`](Fetcher::fetch), asking as `source` says: its User-Agent on every hop,
    /// its headers and credentials only to its configured origin (so a redirect to
    /// another host, or down to plain http, does not carry them).
    pub async fn fetch_as(&self, url: &Url, validators: &Validators, source: Option<&Source>) -> FetchReport {
        self.get(url, validators, source, ACCEPT_FEEDS).await
    }

    /// A web page (an article, for full text), asked as `source` says, under the same
    /// limits as a feed.
    pub async fn fetch_page(&self, url: &Url, source: Option<&Source>) -> FetchReport {
        self.get(url, &Validators::default(), source, ACCEPT_PAGES).await
    }

    async fn get(&self, url: &Url, validators: &Validators, source: Option<&Source>, accept: &str) -> FetchReport {
        let mut deadline = None;
        match self.follow(url, validators, source, accept, &mut deadline).await {
            Some(report) => report,
            None => report(
                failed(FailureKind::Timeout, None, format!("no complete response within {}s", self.timeout.as_secs())),
                None,
            ),
        }
    }

    /// Follows redirects to a final response; `None` when the deadline passed.
    async fn follow(
        &self,
        start: &Url,
        validators: &Validators,
        source: Option<&Source>,
        accept: &str,
        deadline: &mut Option<tokio::time::Instant>,
    ) -> Option<FetchReport> {
        let mut url = start.clone();
        let mut all_permanent = true;
        let mut visited = vec![start.clone()];
        loop {
            let queued = tokio::time::Instant::now();
            let permit = self.limits.acquire(url.host_str().unwrap_or_default()).await;
            // A later hop's wait for a slot on its host is not the server's time either.
            if let Some(until) = deadline.as_mut() {
                *until += queued.elapsed();
            }
            let until = *deadline.get_or_insert_with(|| tokio::time::Instant::now() + self.timeout);
            let response =
                match tokio::time::timeout_at(until, self.request(&url, validators, source, accept)).await.ok()? {
                    Ok(r) => r,
                    Err(e) => return Some(report(FetchOutcome::Failed(failure_of(&e, self.timeout, &url)), None)),
                };
            let status = response.status();
            if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
                let moved_to = (all_permanent && url != *start).then(|| url.clone());
                let max_age = max_age(response.headers());
                let outcome = tokio::time::timeout_at(until, self.finish(response, url)).await.ok()?;
                drop(permit);
                return Some(FetchReport { outcome, moved_to, max_age });
            }
            drop(permit);
            all_permanent &= matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT);
            let next = match redirect_target(&url, response.headers()) {
                Ok(next) => next,
                Err(message) => {
                    return Some(report(failed(FailureKind::Redirects, Some(status.as_u16()), message), None))
                }
            };
            if visited.contains(&next) {
                let message = format!("redirect loop at {}", public_url(next.as_str()));
                return Some(report(failed(FailureKind::Redirects, Some(status.as_u16()), message), None));
            }
            if visited.len() > MAX_REDIRECTS {
                let message = format!("more than {MAX_REDIRECTS} redirects (last to {})", public_url(next.as_str()));
                return Some(report(failed(FailureKind::Redirects, Some(status.as_u16()), message), None));
            }
            let lookups = async { tokio::join!(destination::addresses(&url), destination::addresses(&next)) };
            let (from, to) = tokio::time::timeout_at(until, lookups).await.ok()?;
            if let Some(message) = destination::refusal(&from, &to) {
                return Some(report(failed(FailureKind::Redirects, Some(status.as_u16()), message), None));
            }
            visited.push(next.clone());
            url = next;
        }
    }

    async fn request(
        &self,
        url: &Url,
        validators: &Validators,
        source: Option<&Source>,
        accept: &str,
    ) -> Result<Response, reqwest::Error> {
        let mut req = self.client.get(url.clone()).header(ACCEPT, accept);
        if let Some(source) = source {
            let access = &source.access;
            if let Some(agent) = &access.user_agent {
                req = req.header(USER_AGENT, agent);
            }
            if access.has_credentials() && same_origin(&source.origin, url) {
                for (name, value) in &access.headers {
                    req = req.header(name, value.expose());
                }
                if let Some(basic) = &access.basic {
                    req = req.basic_auth(&basic.username, Some(basic.password.expose()));
                }
            }
        }
        if let Some(etag) = &validators.etag {
            req = req.header(IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &validators.last_modified {
            req = req.header(IF_MODIFIED_SINCE, lm);
        }
        req.send().await
    }

    /// Turns a final (non-redirect) response into an outcome, reading the body within limits.
    async fn finish(&self, mut response: Response, final_url: Url) -> FetchOutcome {
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return FetchOutcome::NotModified;
        }
        if !status.is_success() {
            return FetchOutcome::Failed(status_failure(status, response.headers()));
        }
        let headers = response.headers();
        let header =
            |name| headers.get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok()).map(str::to_string);
        let validators = Validators { etag: header(ETAG), last_modified: header(LAST_MODIFIED) };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    // Counted after decompression, so this also bounds gzip bombs.
                    if bytes.len() as u64 + chunk.len() as u64 > self.max_body {
                        let message = format!("response body is larger than max_body ({})", human_size(self.max_body));
                        return failed(FailureKind::TooLarge, Some(status.as_u16()), message);
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return FetchOutcome::Failed(failure_of(&e, self.timeout, &final_url)),
            }
        }
        FetchOutcome::Done(Body { final_url, status: status.as_u16(), content_type, validators, bytes })
    }
}

/// A report of a fetch that ended before a final response.
fn report(outcome: FetchOutcome, moved_to: Option<Url>) -> FetchReport {
    FetchReport { outcome, moved_to, max_age: None }
}

/// `Cache-Control: max-age=N`, a hint to poll no more often than that.
fn max_age(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::CACHE_CONTROL)?.to_str().ok()?;
    value.split(',').find_map(|directive| {
        let (k, v) = directive.trim().split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("max-age") {
            return None;
        }
        v.trim().trim_matches('"').parse().ok().map(Duration::from_secs)
    })
}

fn failed(kind: FailureKind, http_status: Option<u16>, message: String) -> FetchOutcome {
    FetchOutcome::Failed(Failure { kind, http_status, message, retry_after: None })
}

fn redirect_target(from: &Url, headers: &HeaderMap) -> Result<Url, String> {
    let location = headers
        .get(LOCATION)
        .ok_or("redirect without a Location header")?
        .to_str()
        .map_err(|_| "redirect Location is not valid text".to_string())?;
    let next =
        from.join(location).map_err(|e| format!("redirect to an invalid URL `{}`: {e}", public_url(location)))?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(format!("redirect to a non-HTTP URL `{}`", public_url(next.as_str())));
    }
    Ok(next)
}

fn status_failure(status: StatusCode, headers: &HeaderMap) -> Failure {
    let code = status.as_u16();
    let kind = match code {
        410 => FailureKind::Gone,
        429 | 503 => FailureKind::Throttled,
        _ => FailureKind::Http,
    };
    let retry_after = headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
    let mut message = format!("HTTP {code} {}", status.canonical_reason().unwrap_or("error"));
    if let Some(wait) = retry_after {
        message.push_str(&format!(" (retry after {}s)", wait.as_secs()));
    }
    Failure { kind, http_status: Some(code), message, retry_after }
}

/// The longest wait a Retry-After may ask for: a day, as the longest backoff after
/// failures. A server asking for more (`Fri, 31 Dec 9999`, 2^63 seconds) is polled again
/// after a day and may ask again.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(86_400);

/// Retry-After as delta-seconds or an HTTP date, at most [`MAX_RETRY_AFTER`].
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    let wait = if value.bytes().all(|b| b.is_ascii_digit()) && !value.is_empty() {
        // Digits beyond u64 are a wait longer than any cap.
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
        let wait = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
        wait.to_std().unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// Classifies a transport error (of a request to `url`) into one line a person understands.
fn failure_of(error: &reqwest::Error, timeout: Duration, url: &Url) -> Failure {
    let (kind, message) = if error.is_timeout() {
        (FailureKind::Timeout, format!("no complete response within {}s", timeout.as_secs()))
    } else if error.is_connect() {
        // The host: a redirect may have led elsewhere, and DNS errors do not name it.
        let host = url.host_str().unwrap_or("the server");
        (FailureKind::Network, format!("cannot connect to {host}: {}", root_cause(error)))
    } else if error.is_body() || error.is_decode() {
        (FailureKind::Network, format!("connection failed while reading the body: {}", root_cause(error)))
    } else {
        (FailureKind::Network, format!("request failed: {}", root_cause(error)))
    };
    Failure { kind, http_status: error.status().map(|s| s.as_u16()), message, retry_after: None }
}

/// The innermost error message, which is usually the informative one.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_stay_with_their_origin() {
        let origin = Url::parse("http://feeds.example/private").unwrap();
        let same = |u: &str| same_origin(&origin, &Url::parse(u).unwrap());
        assert!(same("http://FEEDS.example/other?x=1"));
        assert!(same("https://feeds.example/private"), "moved up to https");
        assert!(!same("http://feeds.example:8080/private"));
        assert!(!same("http://cdn.feeds.example/private"));
        let secure = Url::parse("https://feeds.example/private").unwrap();
        assert!(!same_origin(&secure, &Url::parse("http://feeds.example/private").unwrap()), "never down to http");
    }

    #[test]
    fn cache_control_max_age() {
        let mut h = HeaderMap::new();
        h.insert(reqwest::header::CACHE_CONTROL, "public, max-age=600".parse().unwrap());
        assert_eq!(max_age(&h), Some(Duration::from_secs(600)));
        h.insert(reqwest::header::CACHE_CONTROL, "no-cache".parse().unwrap());
        assert_eq!(max_age(&h), None);
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("9223372036854775807"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("99999999999999999999999"), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(10 << 20), "10 MiB");
        assert_eq!(human_size(1536), "1536 bytes");
    }
}
