//! The HTTP side: merged feeds with caching headers, the HTML page of series, the JSON
//! API, health and metrics.
//!
//! Reads the store through the read pool the process's [`crate::store::Database`] gives
//! it and renders through `render`; must not fetch from sources or write to the database.

pub mod assemble;
mod cache;
mod metrics;
pub mod server;

use std::sync::{Arc, RwLock};

use axum::extract::{Path, Query, State};
use axum::http::header::{
    ACCEPT, ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG,
    IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, REFERRER_POLICY, RETRY_AFTER, VARY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::store::{Cost, Database, ReadError, Readers};
use assemble::FeedScope;
pub use cache::{Cache, Rendered};
pub use metrics::Metrics;

use crate::config::ServerSettings;
use crate::render::{self, FeedMeta, Format};
use crate::store::{Store, StoreError};

/// Most entries a client may ask for.
pub const MAX_LIMIT: usize = 1000;

/// Rows a light query asks for at most: the default pages (feeds, series feeds, the API)
/// stay light, and only a `?limit` beyond them is heavy (see `readers`).
const LIGHT_ROWS: usize = 100;

/// Rows the feed list counts as (`/feeds`, `/api/feeds`, `/metrics`): it reads every
/// configured feed's row, thousands with a large configuration (10,000 feeds made
/// `/feeds` 4.2 MB), so it is a heavy query.
const FEED_LIST_ROWS: usize = MAX_LIMIT;

/// Entries of a series feed without `?limit`.
const SERIES_ITEMS: usize = 100;

/// Series on the page and the digest without `?limit`.
const OVERVIEW_SERIES: usize = 50;

/// Everything the HTTP handlers share.
pub struct Published {
    /// Rendered feeds, valid until the store changes.
    pub cache: Cache,
    /// Poll counters.
    pub metrics: Metrics,
    readers: Readers,
    settings: RwLock<ServerSettings>,
    /// What the integrity check at start found wrong with the database, if anything.
    damaged: RwLock<Option<String>>,
}

/// Read connections of the server: up to three heavy queries at once, and one kept for
/// light ones. Measured with `bench/serve_check.py` (2 cores, 1,000 items, wrk with 64
/// connections on `/api/items?limit=1000`): `/api/series?limit=5` answered in 2.2 ms
/// median (p90 5.7 ms) against 110 ms (p90 228 ms) with one connection behind a mutex, at
/// the same load rate (538 against 505 requests/s) and 10 threads against 71.
pub const READERS: usize = 4;

impl Published {
    /// State over a pool of [`READERS`] read connections to `database` and the
    /// `[server]` settings.
    pub fn open(database: &Database, settings: ServerSettings) -> Result<Published, StoreError> {
        Ok(Published {
            cache: Cache::new(settings.cache, database.generation()),
            metrics: Metrics::default(),
            readers: database.read_pool(READERS)?,
            settings: RwLock::new(settings),
            damaged: RwLock::new(None),
        })
    }

    /// Applies reloaded `[server]` settings (title, base URL, items) and drops cached output.
    pub fn set_settings(&self, settings: ServerSettings) {
        self.cache.set_capacity(settings.cache);
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
        self.cache.invalidate();
    }

    /// Records that the database failed its integrity check: `/healthz` answers 503 with
    /// `problem` from now on (the pages answer what they still can).
    pub fn set_damaged(&self, problem: String) {
        *self.damaged.write().unwrap_or_else(|p| p.into_inner()) = Some(problem);
    }

    /// Checks the database's integrity on a read connection (SQLite's `quick_check`:
    /// every page and index entry, in time linear in the file), and records what it finds
    /// with [`Published::set_damaged`]. The daemon runs it once after it started.
    pub async fn check_integrity(&self) -> Result<(), String> {
        let checked = self.read(FEED_LIST_ROWS, |store| store.quick_check()).await;
        let problem = match checked {
            Ok(None) => return Ok(()),
            Ok(Some(problem)) => problem,
            Err(ApiError::Unavailable(e) | ApiError::Internal(e) | ApiError::BadRequest(e)) => e,
        };
        let problem = format!("the database failed its integrity check: {problem}");
        self.set_damaged(problem.clone());
        Err(problem)
    }

    fn settings(&self) -> ServerSettings {
        self.settings.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Runs a read query of `rows` rows on a free read connection.
    async fn read<T: Send + 'static>(
        &self,
        rows: usize,
        query: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let cost = if rows > LIGHT_ROWS { Cost::Heavy } else { Cost::Light };
        self.readers.read(cost, query).await.map_err(ApiError::from)
    }
}

/// A failure to answer (a missing thing is a 404 response, not an error), sent with its
/// status and a one-line reason.
#[derive(Debug)]
pub enum ApiError {
    /// The daemon is stopping: its read connections are closed (503, to be retried).
    Unavailable(String),
    /// The store failed or a render crashed (500).
    Internal(String),
    /// What was asked cannot be answered as asked: a search query the index cannot read
    /// (400, with the reason).
    BadRequest(String),
}

impl From<ReadError> for ApiError {
    fn from(e: ReadError) -> ApiError {
        match e {
            ReadError::Store(StoreError::Search(_)) => ApiError::BadRequest(e.to_string()),
            ReadError::Closed => ApiError::Unavailable(e.to_string()),
            ReadError::Store(_) | ReadError::Crashed(_) => ApiError::Internal(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Unavailable(reason) => {
                // One line, whatever the error's text held.
                let line = reason.split_whitespace().collect::<Vec<_>>().join(" ");
                (StatusCode::SERVICE_UNAVAILABLE, [(RETRY_AFTER, "5")], format!("{line}\n")).into_response()
            }
            // What went wrong inside (a panic's text, an SQL error) is for the log, not
            // for whoever asked.
            ApiError::Internal(reason) => {
                tracing::error!("answering a request failed: {}", crate::text::collapse_whitespace(&reason));
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error: see the daemon's log\n").into_response()
            }
            ApiError::BadRequest(reason) => {
                (StatusCode::BAD_REQUEST, format!("{}\n", crate::text::collapse_whitespace(&reason))).into_response()
            }
        }
    }
}

/// The routes.
pub fn router(state: Arc<Published>) -> Router {
    Router::new()
        .route("/feed.atom", get(|s, q, h| feed(s, q, h, Format::Atom)))
        .route("/feed.rss", get(|s, q, h| feed(s, q, h, Format::Rss)))
        .route("/feed.json", get(|s, q, h| feed(s, q, h, Format::Json)))
        .route("/api/feeds", get(api_feeds))
        .route("/api/series", get(api_series))
        .route("/api/series/{id}", get(api_one_series))
        .route("/series/{file}", get(series_feed))
        .route("/tags/{file}", get(|s, p, q, h| merged_length_feed(s, p, q, h, FeedScope::Tag)))
        .route("/sources/{file}", get(|s, p, q, h| merged_length_feed(s, p, q, h, FeedScope::Source)))
        .route("/feeds", get(feeds_page))
        .route("/style.css", get(stylesheet))
        .route("/digest.atom", get(digest))
        .route("/", get(page))
        .route("/api/items", get(api_items))
        .route("/api/items/{id}/why", get(api_why))
        .route("/items/{id}", get(item_page))
        .route("/search", get(search_page))
        .route("/search.atom", get(|s, q, h| search_feed(s, q, h, Format::Atom)))
        .route("/search.rss", get(|s, q, h| search_feed(s, q, h, Format::Rss)))
        .route("/search.json", get(|s, q, h| search_feed(s, q, h, Format::Json)))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(axum::middleware::map_response(no_sniffing))
        .layer(axum::middleware::from_fn_with_state(state.clone(), count_request))
        .with_state(state)
}

/// Counts each answered request by its route's pattern and status.
async fn count_request(
    State(state): State<Arc<Published>>,
    route: Option<axum::extract::MatchedPath>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = route.as_ref().map_or("unmatched", |r| r.as_str()).to_string();
    let response = next.run(request).await;
    state.metrics.request(&route, response.status().as_u16());
    response
}

/// Every answer is read as the type it declares: a feed or JSON document carrying
/// hostile text is never sniffed into HTML.
async fn no_sniffing(mut response: Response) -> Response {
    response.headers_mut().insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// Serves `router(state)` on `listener` until `token` is cancelled, under the connection
/// cap of the `[server]` settings and the limits of [`server`].
pub async fn serve(listener: TcpListener, state: Arc<Published>, token: CancellationToken) {
    let limits = server::Limits::new(state.settings().max_connections);
    server::serve(listener, router(state), limits, token).await;
}

#[derive(Deserialize)]
struct Limit {
    limit: Option<usize>,
}

async fn feed(
    State(state): State<Arc<Published>>,
    Query(q): Query<Limit>,
    headers: HeaderMap,
    format: Format,
) -> Result<Response, ApiError> {
    let default = state.settings().items;
    let limit = q.limit.unwrap_or(default).clamp(1, MAX_LIMIT);
    let scope = FeedScope::Merged;
    let key = (limit == default).then(|| format!("{}.{}", scope.path(), format.extension()));
    let missing = scope.missing();
    let doc = cached(&state, key, limit, move |store, settings, changed| {
        assemble::feed(store, settings, &scope, format, limit, changed)
    })
    .await?
    .ok_or_else(|| ApiError::Internal(missing.into()))?;
    Ok(conditional(&headers, &doc, format.content_type()))
}

/// Answers a request for a cached document: 304 when the client's copy is current, gzip
/// when the client accepts it.
pub fn conditional(headers: &HeaderMap, doc: &Rendered, content_type: &'static str) -> Response {
    let last_modified = http_date(doc.last_modified);
    let fresh = match headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        Some(tags) => tags.split(',').any(|t| t.trim() == doc.etag || t.trim() == "*"),
        None => headers
            .get(IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
            .is_some_and(|since| doc.last_modified.timestamp() <= since.timestamp()),
    };
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else if accepts_gzip(headers) {
        let mut r = doc.gzip.clone().into_response();
        r.headers_mut().insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        doc.body.clone().into_response()
    };
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    h.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(v) = HeaderValue::from_str(&doc.etag) {
        h.insert(ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&last_modified) {
        h.insert(LAST_MODIFIED, v);
    }
    response
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(ACCEPT_ENCODING).and_then(|v| v.to_str().ok()) else { return false };
    value.split(',').any(|coding| {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let refused = parts
            .any(|p| matches!(p.trim().strip_prefix("q="), Some(q) if q.trim().parse::<f32>().is_ok_and(|q| q == 0.0)));
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
    })
}

/// An IMF-fixdate, as HTTP wants.
fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Renders (or takes from the cache) the document `key`; `render` builds it from the store.
/// Only documents at their default length have a key: any `?limit=N` is rendered on
/// demand, so a client walking through limits cannot fill the cache with its variants
/// and push out what every reader asks for.
async fn cached(
    state: &Arc<Published>,
    key: Option<String>,
    rows: usize,
    render: impl FnOnce(&Store, &ServerSettings, DateTime<Utc>) -> Result<Option<String>, StoreError> + Send + 'static,
) -> Result<Option<Arc<Rendered>>, ApiError> {
    let (generation, changed) = state.cache.generation();
    if let Some(doc) = key.as_deref().and_then(|key| state.cache.get(key, generation)) {
        return Ok(Some(doc));
    }
    let settings = state.settings();
    let Some(text) = state.read(rows, move |store| render(store, &settings, changed)).await? else { return Ok(None) };
    let doc = Arc::new(
        tokio::task::spawn_blocking(move || Rendered::new(text, changed))
            .await
            .map_err(|e| ApiError::Internal(format!("rendering crashed: {e}")))?,
    );
    if let Some(key) = key {
        state.cache.put(key, generation, doc.clone());
    }
    Ok(Some(doc))
}

/// `/series/{id}.atom|.rss|.json`: one series as a feed.
async fn series_feed(
    State(state): State<Arc<Published>>,
    Path(file): Path<String>,
    Query(q): Query<Limit>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !file.contains('.') {
        return series_page(state, file, headers).await;
    }
    scoped_feed(&state, FeedScope::Series, &file, q.limit, SERIES_ITEMS, &headers).await
}

/// `/series/{id}.EXT`, `/tags/{tag}.EXT` and `/sources/{name}.EXT`: the feed of one
/// series, tag or source, cached at its default length (`default`), 404 when there is no
/// such series, tag or source.
async fn scoped_feed(
    state: &Arc<Published>,
    scope: fn(String) -> FeedScope,
    file: &str,
    limit: Option<usize>,
    default: usize,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let Some((name, ext, format)) = feed_file(file) else { return Ok(StatusCode::NOT_FOUND.into_response()) };
    let limit = limit.unwrap_or(default).clamp(1, MAX_LIMIT);
    let scope = scope(name.to_string());
    let key = (limit == default).then(|| format!("{}.{ext}", scope.path()));
    let missing = scope.missing();
    let doc = cached(state, key, limit, move |store, settings, changed| {
        assemble::feed(store, settings, &scope, format, limit, changed)
    })
    .await?;
    Ok(match doc {
        Some(doc) => conditional(headers, &doc, format.content_type()),
        None => (StatusCode::NOT_FOUND, missing).into_response(),
    })
}

/// Headlines of a series page's lead, chosen among its newest
/// [`SERIES_LEAD_CANDIDATES`] as the front page chooses (`series::shown`).
const SERIES_LEAD: usize = 5;

/// See [`SERIES_LEAD`]: the same number of candidates as the front page's.
const SERIES_LEAD_CANDIDATES: usize = 30;

/// `/series/{id}`: the series' HTML page, its lead and every item (up to `MAX_LIMIT`)
/// with its publisher and time.
async fn series_page(state: Arc<Published>, id: String, headers: HeaderMap) -> Result<Response, ApiError> {
    let key = Some(format!("page/series/{id}"));
    let doc = cached(&state, key, MAX_LIMIT, move |store, settings, changed| {
        let Some(series) = store.series(&id)? else { return Ok(None) };
        let items = store.series_items(&id, MAX_LIMIT)?;
        let meta = page_meta(settings, format!("series/{id}"), changed);
        let (title, keywords, count) = (&series.title, &series.keywords, series.items);
        // Its lead: the strongest of its newest, as the front page shows it.
        let recent = items.iter().take(SERIES_LEAD_CANDIDATES).cloned().collect();
        let lead = crate::series::shown::strongest(recent, title, keywords, |i| &i.title, SERIES_LEAD);
        let view = render::html::SeriesView { id: &id, title, keywords, count, items: &items, lead: &lead };
        Ok(Some(render::html::series_page(&meta, &view)))
    })
    .await?;
    Ok(match doc {
        Some(doc) => pages(conditional(&headers, &doc, "text/html; charset=utf-8")),
        None => (StatusCode::NOT_FOUND, "no such series").into_response(),
    })
}

/// What a page (or a feed titled as the site) says about itself: the site's title and
/// base URL, its path, its time.
fn page_meta(settings: &ServerSettings, path: impl Into<String>, updated: DateTime<Utc>) -> FeedMeta {
    FeedMeta { title: settings.title.clone(), base_url: settings.base_url.clone(), path: path.into(), updated }
}

/// `/items/{id}`: why the item is in its series, in words (what `/api/items/{id}/why`
/// holds), linked from each headline of a series page.
async fn item_page(
    State(state): State<Arc<Published>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Ok(id) = id.parse::<i64>() else { return Ok((StatusCode::NOT_FOUND, "no such item").into_response()) };
    let doc = cached(&state, Some(format!("page/items/{id}")), 1, move |store, settings, changed| {
        let Some(explanation) = store.explain(id)? else { return Ok(None) };
        let meta = page_meta(settings, format!("items/{id}"), changed);
        Ok(Some(render::html::why_page(&meta, &explanation)))
    })
    .await?;
    Ok(match doc {
        Some(doc) => pages(conditional(&headers, &doc, "text/html; charset=utf-8")),
        None => (StatusCode::NOT_FOUND, "no such item").into_response(),
    })
}

/// `?q=QUERY&limit=N` of the search routes.
#[derive(serde::Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    limit: Option<usize>,
}

/// Results a search shows unless asked (`?limit=N`, at most [`MAX_LIMIT`]).
const SEARCH_RESULTS: usize = 100;

/// `/search?q=`: the matching articles, newest first, grouped by story, with the query's
/// feeds announced; a query the index cannot read gets a page that says why (400).
/// Not cached: each query is its own document.
async fn search_page(
    State(state): State<Arc<Published>>,
    Query(q): Query<SearchQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(SEARCH_RESULTS).clamp(1, MAX_LIMIT);
    let query = q.q.trim().to_string();
    let asked = query.clone();
    let found = state
        .read(limit, move |store| {
            if asked.is_empty() {
                return Ok(Ok(Vec::new()));
            }
            match store.search(&asked, limit) {
                Err(e @ StoreError::Search(_)) => Ok(Err(e.to_string())),
                other => other.map(Ok),
            }
        })
        .await?;
    let settings = state.settings();
    let meta = page_meta(&settings, "", Utc::now());
    let bad = found.is_err();
    let text = render::html::search_page(&meta, &query, found.as_deref().map_err(String::as_str), Utc::now());
    let doc = Rendered::new(text, Utc::now());
    let mut response = pages(conditional(&headers, &doc, "text/html; charset=utf-8"));
    if bad {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

/// `/search.atom|.rss|.json?q=`: a saved search, as a feed a reader subscribes to (the
/// newest matches, `?limit=N`); 400 with the reason for a query the index cannot read
/// or an empty one.
async fn search_feed(
    State(state): State<Arc<Published>>,
    Query(q): Query<SearchQuery>,
    headers: HeaderMap,
    format: Format,
) -> Result<Response, ApiError> {
    let query = q.q.trim().to_string();
    if query.is_empty() {
        return Err(ApiError::BadRequest("a search feed needs a query: ?q=WORDS".into()));
    }
    let limit = q.limit.unwrap_or(SEARCH_RESULTS).clamp(1, MAX_LIMIT);
    let doc = cached(&state, None, limit, move |store, settings, changed| {
        let items = store.search(&query, limit)?;
        let updated = items.iter().map(|i| i.first_seen.max(i.published)).max().unwrap_or(changed);
        let path = format!("search?q={}", crate::text::path_segment(&query));
        let meta = FeedMeta {
            title: format!("\u{201c}{query}\u{201d}: {}", settings.title),
            base_url: settings.base_url.clone(),
            path,
            updated,
        };
        Ok(Some(render::render(format, &meta, &items)))
    })
    .await?
    .ok_or_else(|| ApiError::Internal("search unavailable".into()))?;
    Ok(conditional(&headers, &doc, format.content_type()))
}

/// `/feeds`: every configured feed's health. Not cached: a poll that stores nothing
/// (a 304, a failure) changes it without changing the store's generation.
async fn feeds_page(State(state): State<Arc<Published>>, headers: HeaderMap) -> Result<Response, ApiError> {
    let doc = cached(&state, None, FEED_LIST_ROWS, move |store, settings, changed| {
        let meta = page_meta(settings, "feeds", changed);
        Ok(Some(render::html::feeds_page(&meta, &store.feed_statuses()?, Utc::now())))
    })
    .await?
    .ok_or_else(|| ApiError::Internal("feeds page unavailable".into()))?;
    Ok(pages(conditional(&headers, &doc, "text/html; charset=utf-8")))
}

/// `/style.css`: the pages' one stylesheet.
async fn stylesheet() -> Response {
    let headers = [(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "max-age=3600")];
    (headers, render::html::STYLESHEET).into_response()
}

/// The headers of the HTML pages (`render::html`): their policy, no framing, no referrer.
fn pages(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(render::html::CONTENT_SECURITY_POLICY));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// `/tags/{tag}.EXT` (the merged feed restricted to the feeds carrying a tag) and
/// `/sources/{name}.EXT` (one configured feed's items as storyline stored them:
/// normalized, deduplicated, sanitized, with series and media, its copies of articles
/// first received from another feed included), at the merged feed's default length.
async fn merged_length_feed(
    State(state): State<Arc<Published>>,
    Path(file): Path<String>,
    Query(q): Query<Limit>,
    headers: HeaderMap,
    scope: fn(String) -> FeedScope,
) -> Result<Response, ApiError> {
    let default = state.settings().items;
    scoped_feed(&state, scope, &file, q.limit, default, &headers).await
}

/// `NAME.atom|.rss|.json` as (name, extension, format).
fn feed_file(file: &str) -> Option<(&str, &str, Format)> {
    let (name, ext) = file.rsplit_once('.')?;
    let format = match ext {
        "atom" => Format::Atom,
        "rss" => Format::Rss,
        "json" => Format::Json,
        _ => return None,
    };
    Some((name, ext, format))
}

/// `/digest.atom`: one entry per active series.
async fn digest(state: State<Arc<Published>>, q: Query<Limit>, headers: HeaderMap) -> Result<Response, ApiError> {
    let doc = overview(state, q).await?;
    Ok(conditional(&headers, &doc, Format::Atom.content_type()))
}

/// Stories and other news per page of `/`.
const FRONT_PER_PAGE: usize = 30;

/// Pages of `/` one may ask for (each is cached as any document).
const FRONT_PAGES: usize = 100;

#[derive(serde::Deserialize)]
struct PageNumber {
    page: Option<usize>,
}

/// `/?page=N`: the front page (see `render::html::front_page`).
async fn page(
    State(state): State<Arc<Published>>,
    Query(q): Query<PageNumber>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let asked = q.page.unwrap_or(1).max(1);
    // Beyond the pages one may ask for, the page says so (with the first page's counts),
    // uncached: the store is never asked to skip further.
    let beyond = asked > FRONT_PAGES;
    let key = (!beyond).then(|| format!("front/{asked}"));
    let doc = cached(&state, key, FRONT_PER_PAGE, move |store, settings, changed| {
        let now = Utc::now();
        let mut front = store.front_page(if beyond { 1 } else { asked }, FRONT_PER_PAGE, now)?;
        if beyond {
            (front.stories, front.other) = (Vec::new(), Vec::new());
        }
        let meta = page_meta(settings, "", changed);
        Ok(Some(render::html::front_page(&meta, &front, asked, FRONT_PER_PAGE, now)))
    })
    .await?
    .ok_or_else(|| ApiError::Internal("page unavailable".into()))?;
    // The marker is an attribute of ours: text from sources is escaped, its quotes too.
    let empty = asked > 1 && memchr::memmem::find(&doc.body, br#"id="no-page""#).is_some();
    let mut response = pages(conditional(&headers, &doc, "text/html; charset=utf-8"));
    if empty {
        *response.status_mut() = StatusCode::NOT_FOUND;
    }
    Ok(response)
}

/// The digest: the newest series with five headlines each.
async fn overview(State(state): State<Arc<Published>>, Query(q): Query<Limit>) -> Result<Arc<Rendered>, ApiError> {
    let limit = q.limit.unwrap_or(OVERVIEW_SERIES).clamp(1, MAX_LIMIT);
    cached(&state, (limit == OVERVIEW_SERIES).then(|| "digest".to_string()), limit, move |store, settings, changed| {
        let series = store.digest(limit, 5)?;
        let updated = series.iter().map(|s| s.last).max().unwrap_or(changed);
        let title = format!("{}: stories", settings.title);
        let meta = FeedMeta { title, base_url: settings.base_url.clone(), path: "digest".into(), updated };
        Ok(Some(render::digest(&meta, &series)))
    })
    .await?
    .ok_or_else(|| ApiError::Internal("digest unavailable".into()))
}

async fn api_series(State(state): State<Arc<Published>>, Query(q): Query<Limit>) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_LIMIT);
    Ok(Json(state.read(limit, move |store| store.series_list(limit, false)).await?).into_response())
}

async fn api_one_series(State(state): State<Arc<Published>>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let found = state
        .read(MAX_LIMIT, move |store| {
            let Some(series) = store.series(&id)? else { return Ok(None) };
            Ok(Some((series, store.series_records(&id, MAX_LIMIT)?)))
        })
        .await?;
    let Some((series, entries)) = found else { return Ok((StatusCode::NOT_FOUND, "no such series").into_response()) };
    let json = |e: serde_json::Error| ApiError::Internal(e.to_string());
    let mut value = serde_json::to_value(series).map_err(json)?;
    value["entries"] = serde_json::to_value(entries).map_err(json)?;
    Ok(Json(value).into_response())
}

async fn api_feeds(State(state): State<Arc<Published>>) -> Result<Response, ApiError> {
    Ok(Json(state.read(FEED_LIST_ROWS, |store| store.feed_statuses()).await?).into_response())
}

async fn api_items(State(state): State<Arc<Published>>, Query(q): Query<Limit>) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_LIMIT);
    Ok(Json(state.read(limit, move |store| store.newest_records(limit)).await?).into_response())
}

/// `/api/items/{id}/why`: the `explain --json` object.
async fn api_why(State(state): State<Arc<Published>>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let Ok(id) = id.parse::<i64>() else { return Ok((StatusCode::NOT_FOUND, "no such item").into_response()) };
    Ok(match state.read(0, move |store| store.explain(id)).await? {
        Some(explanation) => Json(explanation).into_response(),
        None => (StatusCode::NOT_FOUND, "no such item").into_response(),
    })
}

/// `/healthz`: "ok" when a read connection answers a query that touches the feeds and
/// items, else the reason with 503 (a watchdog or load balancer acts on the status).
async fn healthz(State(state): State<Arc<Published>>) -> Response {
    if let Some(problem) = state.damaged.read().unwrap_or_else(|p| p.into_inner()).clone() {
        return (StatusCode::SERVICE_UNAVAILABLE, format!("{problem}\n")).into_response();
    }
    match state.read(0, |store| store.check_readable()).await {
        Ok(()) => "ok".into_response(),
        Err(ApiError::Unavailable(reason) | ApiError::Internal(reason) | ApiError::BadRequest(reason)) => {
            let line = crate::text::collapse_whitespace(&reason);
            tracing::warn!("health check failed: {line}");
            (StatusCode::SERVICE_UNAVAILABLE, format!("{line}\n")).into_response()
        }
    }
}

async fn metrics(State(state): State<Arc<Published>>, headers: HeaderMap) -> Result<Response, ApiError> {
    let feeds = state.read(FEED_LIST_ROWS, |store| store.feed_statuses()).await?;
    let text = state.metrics.render(&feeds, state.cache.bytes());
    // OpenMetrics to a scraper that asks for it; else the Prometheus text format (the
    // same lines parse as both).
    let asked = headers.get(ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let kind = if asked.contains("application/openmetrics-text") {
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    } else {
        "text/plain; version=0.0.4; charset=utf-8"
    };
    Ok(([(CONTENT_TYPE, kind)], text).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn conditional_requests_and_gzip() {
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 27, 12, 0, 0).unwrap();
        let doc = Rendered::new("<feed/>".repeat(100), at);
        let r = conditional(&headers(&[]), &doc, "application/atom+xml");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[LAST_MODIFIED], "Fri, 27 Nov 2026 12:00:00 GMT");
        assert_eq!(r.headers()[ETAG], doc.etag.as_str());
        let r = conditional(&headers(&[("if-none-match", &format!("\"x\", {}", doc.etag))]), &doc, "a/b");
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        let r = conditional(&headers(&[("if-none-match", "\"other\"")]), &doc, "a/b");
        assert_eq!(r.status(), StatusCode::OK);
        let r = conditional(&headers(&[("if-modified-since", "Fri, 27 Nov 2026 12:00:00 GMT")]), &doc, "a/b");
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        let r = conditional(&headers(&[("if-modified-since", "Fri, 27 Nov 2026 11:59:59 GMT")]), &doc, "a/b");
        assert_eq!(r.status(), StatusCode::OK);
        let r = conditional(&headers(&[("accept-encoding", "br, gzip;q=0.8")]), &doc, "a/b");
        assert_eq!(r.headers()[CONTENT_ENCODING], "gzip");
        let r = conditional(&headers(&[("accept-encoding", "gzip;q=0")]), &doc, "a/b");
        assert!(r.headers().get(CONTENT_ENCODING).is_none());
    }

    #[test]
    fn failures_answer_with_their_status_and_one_line() {
        let closed = ApiError::from(ReadError::Closed).into_response();
        assert_eq!(closed.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body_text(closed), "no read connection is left\n");
        let crashed = ApiError::from(ReadError::Crashed("boom\nat line 2".into())).into_response();
        assert_eq!(crashed.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_text(crashed);
        assert!(!body.contains("boom"), "a panic's text is not sent: {body}");
    }

    fn body_text(r: Response) -> String {
        let bytes = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(axum::body::to_bytes(r.into_body(), 1 << 16))
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }
}
