//! HTML pages a person reads in a browser: the front page (`/`), a series' page
//! (`/series/{id}`), an item's "why" page (`/items/{id}`) and the feeds' health (`/feeds`),
//! in one layout with one stylesheet (`/style.css`), light and dark, readable from 390 px
//! up, no JavaScript. Written with maud, which escapes everything
//! interpolated: titles, links and errors come from the sources.
//!
//! Pure: data in, text out; no I/O.

use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};

use super::FeedMeta;
use crate::model::{FeedStatus, FrontPage, Item};
use crate::store::Explanation;

/// The stylesheet every page links (served at `/style.css`).
pub const STYLESHEET: &str = "\
:root{color-scheme:light dark;--fg:#1d1d1f;--muted:#5f6368;--bg:#fff;--line:#e3e3e3;--accent:#1a56c4;--bad:#b3261e}
@media(prefers-color-scheme:dark){:root{--fg:#e6e6e6;--muted:#a0a4a8;--bg:#141414;--line:#2c2c2c;--accent:#8ab4f8;--bad:#f28b82}}
body{font:16px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg);max-width:76rem;margin:0 auto;padding:1rem}main{max-width:48rem}main.wide{max-width:none}
a{color:var(--accent)}h1{font-size:1.45rem;line-height:1.25;margin:.5rem 0}h2{font-size:1.1rem;margin:1.5rem 0 .4rem}
nav{display:flex;flex-wrap:wrap;gap:.4rem 1rem;font-size:.9rem}.meta{color:var(--muted);font-size:.85rem}
ol,ul{padding-left:1.2rem}li{margin:.35rem 0;overflow-wrap:anywhere}.also{color:var(--muted);font-size:.85rem}
.story{border-top:1px solid var(--line);padding:.4rem 0 .8rem}.story.wide{border-left:4px solid var(--accent);padding-left:.8rem}
.story h2{margin:.5rem 0 .1rem}h3{font-size:1.05rem;line-height:1.3;margin:.5rem 0 .1rem}.lead{overflow:hidden}.lead .meta{margin:.1rem 0}
.lead img{float:right;width:8rem;height:auto;max-height:6rem;object-fit:cover;margin:0 0 .4rem .8rem;border-radius:4px}.snippet{margin:.3rem 0;color:var(--muted)}
ul.more{margin:.3rem 0 0}.story a,.other a{text-decoration:none}.story a:hover,.other a:hover{text-decoration:underline}.other ul{padding-left:1rem}
@media(min-width:64rem){.front{display:grid;grid-template-columns:minmax(0,2fr) minmax(0,1fr);gap:2.5rem}.other h2{margin-top:.5rem}}
form.search{display:flex;gap:.4rem;max-width:30rem}form.search input{flex:1;min-width:0;font:inherit;padding:.3rem .4rem}form.search button{font:inherit}
.axis{display:flex;justify-content:space-between;max-width:24rem;color:var(--muted);font-size:.75rem}
.timeline{display:block;width:100%;max-width:24rem;height:2.5rem;margin:.3rem 0;border-bottom:1px solid var(--line)}.timeline rect{fill:var(--accent)}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.35rem .4rem;border-bottom:1px solid var(--line);vertical-align:top}
td{overflow-wrap:anywhere}.nowrap{white-space:nowrap}ul.terms{display:flex;flex-wrap:wrap;gap:.2rem 1.2rem;padding:0;list-style:none}tr.failing td:first-child{border-left:4px solid var(--bad)}.bad{color:var(--bad)}
@media(max-width:40rem){table,tbody,tr,td{display:block}thead{display:none}tr{border-bottom:1px solid var(--line);padding:.4rem 0}td{border:0;padding:.1rem 0}td[data-label]::before{content:attr(data-label) \": \";color:var(--muted)}}
";

/// The Content-Security-Policy these pages work under: nothing runs, nothing loads but the
/// stylesheet from this server and the lead articles' images over HTTPS (which the front
/// page asks for without a referrer); forms only to this server (the search box); no
/// frames or base URL.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'self'; img-src https:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A page in the common layout: `title`, alternate feeds to announce, the body. Links
/// between pages are host-relative (the base URL's path): they work whatever host name
/// the reader used to reach the server; feeds announced keep the absolute base URL.
fn layout(meta: &FeedMeta, title: &str, alternates: &[(String, &str, &str)], body: Markup) -> String {
    let base = meta.base_url.path();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href={ (base) "style.css" };
                @for (href, kind, label) in alternates {
                    link rel="alternate" type=(kind) title=(label) href=(href);
                }
            }
            body {
                nav {
                    a href=(base) { (meta.title) }
                    a href={ (base) "feeds" } { "Feeds" }
                    a href={ (base) "feed.atom" } { "Atom" }
                    a href={ (base) "feed.rss" } { "RSS" }
                    a href={ (base) "feed.json" } { "JSON Feed" }
                    a href={ (base) "search" } { "Search" }
                }
                (body)
            }
        }
    }
    .into_string()
}

/// Beyond this many days, a time is shown as its date rather than as "N d ago".
const RELATIVE_DAYS: i64 = 30;

/// "3 h ago", "2 d ago", "just now": how long before `now` a time was; its date when
/// longer ago than [`RELATIVE_DAYS`].
pub fn ago(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds();
    match secs {
        s if s < 60 => "just now".into(),
        s if s < 3_600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3_600),
        s if s < RELATIVE_DAYS * 86_400 => format!("{} d ago", s / 86_400),
        _ => t.format("%-d %b %Y").to_string(),
    }
}

/// A time as people read it (relative), with the exact time for machines and on hover.
fn time(t: DateTime<Utc>, now: DateTime<Utc>) -> Markup {
    let exact = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    html! { time.nowrap datetime=(exact) title=(exact) { (ago(t, now)) } }
}

/// Bar height of the timeline's SVG, in its own units.
const TIMELINE_HEIGHT: f64 = 30.0;

/// Days the timeline spans at least, the newest at the right: a story of a day or two is
/// a thin bar at the end of a fortnight, not one bar stretched over the width.
const TIMELINE_MIN_DAYS: usize = 14;

/// Most bars a timeline draws: past this many days, each bar counts several days. An item
/// dated 7,000 years back made one bar per day (188 MB of `/`, and an abort on a date
/// 200,000 years back); read dates are now bounded (`parse::bounds`), the drawing is too.
const TIMELINE_MAX_BARS: usize = 120;

/// Articles per day (or per few days, past [`TIMELINE_MAX_BARS`] days) over the life of a
/// series, as an inline SVG bar chart (oldest left), with a text alternative naming
/// `count`, the series' size as every other place shows it (`times` may be fewer: only
/// the newest are read).
pub fn timeline(times: &[DateTime<Utc>], count: u64) -> Markup {
    let (Some(first), Some(last)) = (times.iter().min(), times.iter().max()) else { return html! {} };
    let day_of = |t: &DateTime<Utc>| (t.date_naive() - first.date_naive()).num_days().max(0) as u64;
    let days = day_of(last) + 1;
    let per_bar = days.div_ceil(TIMELINE_MAX_BARS as u64).max(1);
    let bars = days.div_ceil(per_bar) as usize;
    let mut per_bucket = vec![0u32; bars];
    for t in times {
        per_bucket[(day_of(t) / per_bar) as usize] += 1;
    }
    let most = f64::from(*per_bucket.iter().max().unwrap_or(&1));
    let label = match per_bar {
        1 => format!(
            "{} over {}, at most {most} a day",
            plural(count, "article", "articles"),
            plural(days, "day", "days")
        ),
        n => format!("{count} articles over {days} days, at most {most} in {n} days"),
    };
    let slots = bars.max(TIMELINE_MIN_DAYS);
    html! {
        // Sized by its attributes too, so it stays a strip without the stylesheet.
        svg.timeline role="img" aria-label=(label) viewBox={ "0 0 " (slots * 10) " " (TIMELINE_HEIGHT) }
            width="100%" height="48" preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg" {
            title { (label) }
            @for (bar, n) in per_bucket.iter().enumerate() {
                @let h = (f64::from(*n) / most * TIMELINE_HEIGHT).max(if *n > 0 { 1.0 } else { 0.0 });
                rect x=((slots - bars + bar) * 10 + 1) y=(TIMELINE_HEIGHT - h) width="8" height=(h) fill="currentColor" {}
            }
        }
        // The axis in words: the strip's first day (bars sit at its right end) and its last.
        @let start = *last - chrono::Duration::days(slots as i64 * per_bar as i64 - 1);
        span.axis aria-hidden="true" {
            span { (start.format("%-d %b")) } span { (last.format("%-d %b %Y")) }
        }
    }
}

/// The front page (`/?page=N`): a header line of counts, then the stories (title and
/// count, sources, how long it has run, keywords, the lead article with the opening of its
/// summary and its image, then the other chosen headlines), then the other news (items in
/// no story, beside the stories on a wide screen); links to the neighbouring pages, and
/// an empty page that says why it is empty.
pub fn front_page(meta: &FeedMeta, front: &FrontPage, page: usize, per_page: usize, now: DateTime<Utc>) -> String {
    let absolute = meta.base_url.as_str();
    let base = meta.base_url.path();
    let alternates: Vec<(String, &str, &str)> = [
        ("feed.atom", "application/atom+xml", "Atom"),
        ("feed.rss", "application/rss+xml", "RSS"),
        ("feed.json", "application/feed+json", "JSON Feed"),
        ("digest.atom", "application/atom+xml", "Stories (Atom)"),
    ]
    .into_iter()
    .map(|(file, kind, label)| (format!("{absolute}{file}"), kind, label))
    .collect();
    let more = (page * per_page) < front.stories_total as usize || front.other.len() == per_page;
    let body = html! {
        main.wide {
            h1 { (meta.title) }
            p.meta {
                (plural(front.stories_total, "story", "stories")) " · "
                (front.items_new) " new in the last 24 hours"
                @if front.failing_feeds > 0 {
                    " · " a.bad href={ (base) "feeds" } { (plural(front.failing_feeds, "failing feed", "failing feeds")) }
                }
            }
            @if front.stories.is_empty() && front.other.is_empty() {
                @if page > 1 {
                    p id="no-page" { "There is no page " (page) ": " a href=(base) { "back to the newest stories" } "." }
                } @else if !front.stored {
                    p { "Nothing here yet: no items have been fetched." }
                } @else {
                    p { "Nothing to show: every stored item is hidden by the feeds' rules." }
                }
                @if front.failing_feeds > 0 { p { "See " a href={ (base) "feeds" } { "which feeds are failing" } "." } }
            }
            div.front {
            div.stories {
            @for s in &front.stories {
                section.story.wide[s.sources >= WIDE_SOURCES] id={ "series-" (s.id) } {
                    h2 { a href={ (base) "series/" (s.id) } { (super::counted(&s.title, s.count)) } }
                    p.meta {
                        @if s.sources == 1 { "one source only" } @else { (plural(s.sources, "source", "sources")) }
                        " · " (span_words(s.first, s.last, now))
                        @if !s.keywords.is_empty() { " · " (s.keywords.join(", ")) }
                    }
                    @if let Some((first, rest)) = s.headlines.split_first() {
                        div.lead {
                            @if let Some(image) = s.lead.as_ref().and_then(|l| l.image.as_ref()).filter(|i| i.url.starts_with("https://")) {
                                img src=(image.url) alt="" loading="lazy" referrerpolicy="no-referrer"
                                    width=[image.width] height=[image.height];
                            }
                            h3 { @match &first.link { Some(link) => a href=(link) { (first.title) }, None => (first.title) } }
                            p.meta { span.nowrap { (first.publisher) } " · " (time(first.published, now)) }
                            @if let Some(text) = s.lead.as_ref().map(|l| snippet(&l.summary, SNIPPET_CHARS)).filter(|t| !t.is_empty()) {
                                p.snippet { (text) }
                            }
                        }
                        @if !rest.is_empty() {
                            ul.more {
                                @for h in rest {
                                    li {
                                        @match &h.link { Some(link) => a href=(link) { (h.title) }, None => (h.title) }
                                        " " span.meta { span.nowrap { (h.publisher) } " · " (time(h.published, now)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            }
            @if !front.other.is_empty() {
                aside.other {
                    h2 { "Other news" }
                    ul {
                        @for item in &front.other {
                            li {
                                @match &item.link { Some(link) => a href=(link) { (item.title) }, None => (item.title) }
                                " " span.meta { span.nowrap { (item.source.publisher()) } " · " (time(item.published, now)) }
                            }
                        }
                    }
                }
            }
            }
            nav {
                @if page > 1 { a href={ (base) "?page=" (page - 1) } { "← Newer" } }
                @if more { a href={ (base) "?page=" (page + 1) } { "Older →" } }
            }
        }
    };
    layout(meta, &meta.title, &alternates, body)
}

/// What a series' page shows.
#[derive(Debug, Clone, Copy)]
pub struct SeriesView<'a> {
    /// Its id.
    pub id: &'a str,
    /// Its title.
    pub title: &'a str,
    /// The names and terms its items share.
    pub keywords: &'a [String],
    /// Its articles.
    pub count: u64,
    /// Its items, newest first.
    pub items: &'a [Item],
    /// The headlines that tell the story, chosen by the caller (`series::shown`).
    pub lead: &'a [Item],
}

/// A series' page: its title and count, keywords, timeline, its `lead` (the headlines
/// that tell the story, chosen by the caller), and every item (newest first) with its
/// publisher and time, copies folded under their original.
pub fn series_page(meta: &FeedMeta, series: &SeriesView<'_>) -> String {
    let SeriesView { id, title, keywords, count, items, lead } = *series;
    let base = meta.base_url.as_str();
    let heading = super::counted(title, count);
    let alternates: Vec<(String, &str, &str)> = [
        ("atom", "application/atom+xml", "Atom"),
        ("rss", "application/rss+xml", "RSS"),
        ("json", "application/feed+json", "JSON Feed"),
    ]
    .into_iter()
    .map(|(ext, kind, label)| (format!("{base}series/{id}.{ext}"), kind, label))
    .collect();
    let times: Vec<DateTime<Utc>> = items.iter().map(|i| i.published).collect();
    let body = html! {
        main {
            h1 { (heading) }
            @if !keywords.is_empty() { p.meta { (keywords.join(", ")) } }
            (timeline(&times, count))
            p.meta {
                "Follow this story: "
                @for (i, (href, _, label)) in alternates.iter().enumerate() {
                    @if i > 0 { " · " }
                    a href=(href) { (label) }
                }
            }
            @if !lead.is_empty() && lead.len() < items.len() {
                section.lead {
                    h2 { "The story" }
                    ul {
                        @for item in lead {
                            li {
                                @match &item.link {
                                    Some(link) => a href=(link) { (item.title) },
                                    None => (item.title),
                                }
                                " " span.meta { (item.source.publisher()) " · " (exact(item.published)) }
                            }
                        }
                    }
                }
                h2 { "Every headline, newest first" }
            }
            ol {
                @for item in items {
                    li {
                        @match &item.link {
                            Some(link) => a href=(link) { (item.title) },
                            None => (item.title),
                        }
                        br;
                        span.meta {
                            (item.source.publisher()) " · " (exact(item.published)) " · "
                            a href={ (meta.base_url.path()) "items/" (item.id) } { "why in this story" }
                        }
                        @if !item.also.is_empty() {
                            br;
                            span.also {
                                "also reported by "
                                @for (i, s) in item.also.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    @match &s.link {
                                        Some(link) => a href=(link) { (s.publisher()) },
                                        None => (s.publisher()),
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    layout(meta, &format!("{heading} · {}", meta.title), &alternates, body)
}

/// The search page (`/search?q=`): a search box, then what `found` holds: the matching
/// articles (newest first) grouped by story, each story's heading linking to its page and
/// the rest under "Not in a story", with the query's feeds to subscribe to; or why the
/// query cannot be read.
pub fn search_page(meta: &FeedMeta, query: &str, found: Result<&[Item], &str>, now: DateTime<Utc>) -> String {
    let base = meta.base_url.path();
    let encoded = crate::text::path_segment(query);
    let alternates: Vec<(String, &str, &str)> = if query.is_empty() || found.is_err() {
        Vec::new()
    } else {
        [
            ("atom", "application/atom+xml", "Atom"),
            ("rss", "application/rss+xml", "RSS"),
            ("json", "application/feed+json", "JSON Feed"),
        ]
        .into_iter()
        .map(|(ext, kind, label)| (format!("{}search.{ext}?q={encoded}", meta.base_url), kind, label))
        .collect()
    };
    // Stories in the order their newest match comes; items in no story last.
    let mut groups: Vec<(&Item, Vec<&Item>)> = Vec::new();
    let mut alone: Vec<&Item> = Vec::new();
    for item in found.unwrap_or(&[]) {
        if !item.in_story() {
            alone.push(item);
        } else if let Some((_, members)) = groups.iter_mut().find(|(first, _)| first.series == item.series) {
            members.push(item);
        } else {
            groups.push((item, vec![item]));
        }
    }
    let body = html! {
        main {
            h1 { "Search" }
            form.search action={ (base) "search" } method="get" role="search" {
                input type="search" name="q" value=(query) aria-label="Search the stored articles";
                " " button type="submit" { "Search" }
            }
            @match found {
                Err(why) => p.bad { (why) },
                Ok(_) if query.is_empty() => p.meta {
                    "Words match titles, summaries and bodies; \"quote a phrase\", join with AND, OR, NOT, end a word with * for its prefix."
                },
                Ok(items) => {
                    p.meta {
                        (plural(items.len() as u64, "article", "articles")) " for \u{201c}" (query) "\u{201d}"
                        @if !alternates.is_empty() {
                            " · follow this search: "
                            @for (i, (href, _, label)) in alternates.iter().enumerate() {
                                @if i > 0 { " · " }
                                a href=(href) { (label) }
                            }
                        }
                    }
                    @for (first, members) in &groups {
                        section.story {
                            h2 {
                                a href={ (base) "series/" (first.series) } {
                                    (super::counted(first.series_title.as_deref().unwrap_or("this story"), first.series_count))
                                }
                            }
                            ul { @for item in members { (search_result(item, now)) } }
                        }
                    }
                    @if !alone.is_empty() {
                        section.story {
                            h2 { "Not in a story" }
                            ul { @for item in &alone { (search_result(item, now)) } }
                        }
                    }
                }
            }
        }
    };
    let title = if query.is_empty() {
        format!("Search · {}", meta.title)
    } else {
        format!("{query} · Search · {}", meta.title)
    };
    layout(meta, &title, &alternates, body)
}

fn search_result(item: &Item, now: DateTime<Utc>) -> Markup {
    html! {
        li {
            @match &item.link { Some(link) => a href=(link) { (item.title) }, None => (item.title) }
            " " span.meta { span.nowrap { (item.source.publisher()) } " · " (time(item.published, now)) }
            @let text = snippet(&item.summary, SNIPPET_CHARS);
            @if !text.is_empty() { br; span.snippet { (text) } }
        }
    }
}

/// An item's page (`/items/{id}`): why it is in its series, in words (the `explain`
/// decision), for a reader who never opens a terminal.
pub fn why_page(meta: &FeedMeta, e: &Explanation) -> String {
    let base = meta.base_url.path();
    let item = &e.item;
    let published = DateTime::parse_from_rfc3339(&item.published).map(|t| t.with_timezone(&Utc));
    let body = html! {
        main {
            h1 {
                @match &item.link {
                    Some(link) => a href=(link) { (item.title) },
                    None => (item.title),
                }
            }
            p.meta {
                (item.feed)
                @if let Ok(t) = published { " · " (exact(t)) }
            }
            @if let Some(rule) = &item.filtered {
                p.bad { "Hidden from every page and feed, and from stories, by the rule: " (rule) }
            }
            @if let Some(original) = item.duplicate_of {
                p {
                    "A copy of " a href={ (base) "items/" (original) } { "an article stored earlier" }
                    " (the same article again, in this feed or another): it goes where that one went."
                }
            }
            @match &e.series {
                Some(s) if crate::model::is_story(s.items) => p {
                    "In the story " a href={ (base) "series/" (s.id) } { (s.title) } " (" (plural(s.items, "article", "articles")) ")."
                },
                Some(_) => p { "In no story yet: nothing else stored is about the same thing." },
                None => p { "Not grouped yet: it joins a series once the current poll is stored." },
            }
            @match &e.why {
                None => p.meta { "Grouped before storyline recorded its decisions: there is nothing to explain." },
                Some(why) => {
                    h2 { "Why" }
                    p {
                        (capitalised(why.how.describe())) ": "
                        (e.reason.clone().unwrap_or_else(|| why.reason())) "."
                    }
                    // Only a join by similarity had to clear the score's bar.
                    @if let (crate::series::why::How::Similar, Some(c)) = (why.how, e.confidence) {
                        @if let Some(margin) = c.score_margin {
                            p.meta {
                                "Its similarity cleared the bar by " (format!("{margin:.3}"))
                                @if margin < NARROW_MARGIN { ": a narrow join, the first to doubt" }
                                "."
                            }
                        }
                    }
                    @if !why.shared.is_empty() {
                        h2 { "What it shares with the story" }
                        ul.terms {
                            @for t in &why.shared {
                                li { (t.term) @if t.name { " (a name)" } }
                            }
                        }
                    }
                    @if let Some(r) = &why.runner_up {
                        h2 {
                            @if why.how == crate::series::why::How::New { "The closest story" } @else { "The runner-up" }
                        }
                        p {
                            @match &e.runner_up_title {
                                Some(title) => a href={ (base) "series/" (r.series) } { (title) },
                                None => { "Series " (r.series) " (merged into another since)" },
                            }
                            " scored " (format!("{:.3}", r.score))
                            @if let Some(n) = r.needed { " (it needed " (format!("{n:.3}")) ")" }
                            @if !r.evidence { ", with too little in common to count" }
                            "."
                        }
                    }
                }
            }
            @if let Some(full_text) = &e.full_text { p.meta { "Full text: " (full_text.describe()) } }
            p.meta { a href={ (base) "api/items/" (item.id) "/why" } { "This decision as JSON" } }
        }
    };
    layout(meta, &format!("Why this story: {} · {}", item.title, meta.title), &[], body)
}

/// Sources from which a story is drawn wide on the front page (a bar beside it): one
/// reported by many is not one outlet's follow-ups.
const WIDE_SOURCES: u64 = 3;

/// Characters of a lead article's summary the front page shows (two or three lines).
const SNIPPET_CHARS: usize = 220;

/// The opening of `text`, at most `max` characters, cut at a word with "…" when cut.
fn snippet(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((end, _)) => {
            let cut = text[..end].rfind(char::is_whitespace).unwrap_or(end);
            format!("{}…", text[..cut].trim_end_matches(|c: char| c.is_whitespace() || c == ',' || c == ';'))
        }
    }
}

/// How long a story has run, in words: "within an hour", "over 15 hours", "over 3 days",
/// and since when when it began within the week ("since Tuesday").
fn span_words(first: DateTime<Utc>, last: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let span = last - first;
    let length = if span.num_hours() < 1 {
        "within an hour".to_string()
    } else if span.num_hours() < 2 {
        "over an hour".to_string()
    } else if span.num_hours() < 48 {
        format!("over {} hours", span.num_hours())
    } else {
        format!("over {} days", span.num_days())
    };
    let age = now - first;
    if span.num_hours() >= 24 && age.num_days() < 7 && age.num_days() >= 1 {
        format!("since {}, {length}", first.format("%A"))
    } else {
        length
    }
}

/// A join whose similarity cleared its bar by less than this is called narrow on an
/// item's page (a twentieth of the usual bar of about 0.27).
const NARROW_MARGIN: f32 = 0.015;

/// `n` and its noun, singular or plural ("1 article", "3 articles").
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
}

/// A time as a date and a time of day, in UTC ("27 Nov 2026, 14:05 UTC"), kept on one line.
fn exact(t: DateTime<Utc>) -> Markup {
    let exact = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    html! { time.nowrap datetime=(exact) { (t.format("%-d %b %Y, %H:%M UTC")) } }
}

/// The feeds' health: every configured feed, failing ones first and marked, with what a
/// person needs to fix one (its URL, the last error in words, when it is tried next).
pub fn feeds_page(meta: &FeedMeta, feeds: &[FeedStatus], now: DateTime<Utc>) -> String {
    let mut sorted: Vec<&FeedStatus> = feeds.iter().collect();
    sorted.sort_by_key(|f| (f.error_count == 0 && !f.gone, f.name.clone()));
    let failing = feeds.iter().filter(|f| f.error_count > 0).count();
    let body = html! {
        main {
            h1 { "Feeds" }
            p.meta {
                (plural(feeds.len() as u64, "feed", "feeds"))
                @if failing > 0 { ", " span.bad { (failing) " failing" } }
            }
            table {
                thead { tr { th { "Feed" } th { "Status" } th { "Last poll" } th { "Items" } th { "Next poll" } } }
                tbody {
                    @for f in &sorted {
                        tr class=[(f.error_count > 0).then_some("failing")] {
                            td {
                                strong { (f.title.as_deref().filter(|t| !t.is_empty()).unwrap_or(&f.name)) }
                                br;
                                span.meta { (f.name) " · " a href=(f.url) { (f.url) } }
                                @if !f.tags.is_empty() { br; span.meta { "tags: " (f.tags.join(", ")) } }
                                br;
                                span.meta {
                                    "as storyline stores it: "
                                    @let feed = format!("{}sources/{}", meta.base_url, crate::text::path_segment(&f.name));
                                    a href=(format!("{feed}.atom")) { "Atom" } " · "
                                    a href=(format!("{feed}.rss")) { "RSS" } " · "
                                    a href=(format!("{feed}.json")) { "JSON" }
                                }
                            }
                            td data-label="Status" {
                                (status(f))
                                @if let Some(e) = &f.last_error { br; span.bad { (e) } }
                                @if let Some(w) = &f.warning { br; span.meta { "read with repairs: " (w) } }
                            }
                            td data-label="Last poll" { @match f.last_poll { Some(t) => (time(t, now)), None => "never" } }
                            td data-label="Items" { (f.items) }
                            td data-label="Next poll" {
                                @if f.gone { "not polled (gone)" }
                                @else if !f.enabled { "not polled (disabled)" }
                                @else { @match f.next_poll { Some(t) if t > now => (in_time(t, now)), _ => "due" } }
                                @if let Some(held) = f.held_until.filter(|t| *t > now) {
                                    br; span.meta { "its server asked to wait: " (in_time(held, now)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    layout(meta, &format!("Feeds · {}", meta.title), &[], body)
}

/// How a feed stands, in words.
fn status(f: &FeedStatus) -> Markup {
    let http = f.http_status.map(|c| format!(" (HTTP {c})")).unwrap_or_default();
    let words = match (f.gone, f.enabled, f.last_status.as_deref()) {
        (true, _, _) => "gone: the server says this feed no longer exists".to_string(),
        (_, false, _) => "disabled in the configuration".to_string(),
        (_, _, None) => "not polled yet".to_string(),
        (_, _, Some("ok")) => "ok".to_string(),
        (_, _, Some("not_modified")) => "ok (not modified)".to_string(),
        (_, _, Some(kind)) => format!("failing: {}", kind.replace('_', " ")),
    };
    let bad = (f.error_count > 0 || f.gone).then_some("bad");
    html! { span class=[bad] { (words) (http) } @if f.error_count > 1 { " · " (f.error_count) " failures in a row" } }
}

/// "in 25 min" for a time after `now`, with the exact time.
fn in_time(t: DateTime<Utc>, now: DateTime<Utc>) -> Markup {
    let exact = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let relative = ago(now, t).replace(" ago", "");
    html! { time datetime=(exact) title=(exact) { "in " (relative) } }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap() + chrono::Duration::hours(h)
    }

    fn meta() -> FeedMeta {
        FeedMeta {
            title: "Storyline".into(),
            base_url: url::Url::parse("http://127.0.0.1:8080/").unwrap(),
            path: "x".into(),
            updated: at(0),
        }
    }

    #[test]
    fn times_read_as_people_say_them() {
        assert_eq!(ago(at(0), at(0)), "just now");
        assert_eq!(ago(at(0), at(0) + chrono::Duration::minutes(5)), "5 min ago");
        assert_eq!(ago(at(0), at(3)), "3 h ago");
        assert_eq!(ago(at(0), at(50)), "2 d ago");
        assert_eq!(ago(at(0), at(24 * 400)), "27 Nov 2026", "long ago: the date");
    }

    #[test]
    fn the_timeline_has_a_bar_per_day() {
        let svg = timeline(&[at(0), at(1), at(2), at(49)], 4).into_string();
        assert_eq!(svg.matches("<rect").count(), 3, "three days: {svg}");
        assert!(svg.contains("4 articles over 3 days, at most 3 a day"), "{svg}");
        assert!(svg.contains("<span>16 Nov</span><span>29 Nov 2026</span>"), "the strip's first and last day: {svg}");
        assert!(timeline(&[], 0).into_string().is_empty());
        // An item thousands of years older than the rest: the bars stay few.
        let ancient = chrono::NaiveDate::from_ymd_opt(-200_000, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc();
        let svg = timeline(&[ancient, at(0), at(1)], 3).into_string();
        assert!(svg.matches("<rect").count() <= TIMELINE_MAX_BARS, "{} bars", svg.matches("<rect").count());
        assert!(svg.len() < 20_000, "{} bytes", svg.len());
    }

    #[test]
    fn a_series_page_names_publishers_and_escapes_what_sources_wrote() {
        let (_, mut items) = super::super::tests::sample();
        items[0].title = "<script>alert(1)</script> & more".into();
        let view = SeriesView {
            id: "7",
            title: "Talks \"stall\"",
            keywords: &["NATO".into()],
            count: 3,
            items: &items,
            lead: &[],
        };
        let page = series_page(&meta(), &view);
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"), "{page}");
        assert!(!page.contains("<script>"));
        assert!(page.contains("<h1>Talks \"stall\" (3)</h1>") || page.contains("<h1>Talks &quot;stall&quot; (3)</h1>"));
        assert!(page.contains("wire &amp; co"), "the publisher: {page}");
        assert!(page.contains("also reported by"), "{page}");
        assert!(page.contains(r#"<link rel="alternate" type="application/atom+xml" title="Atom" href="http://127.0.0.1:8080/series/7.atom">"#));
        assert!(page.contains(r#"<link rel="stylesheet" href="/style.css">"#), "host-relative: {page}");
        assert!(!page.contains("The story"), "no lead when none is chosen");
        assert!(page.contains(">27 Nov 2026, 12:00 UTC</time>"), "a date and a time of day: {page}");
        assert!(page.contains(r#"<a href="/items/1">why in this story</a>"#), "{page}");
        // A lead chosen among more items comes first, then every headline.
        let mut more = items.clone();
        more.push(items[0].clone());
        more[1].title = "An older headline".into();
        let view = SeriesView { lead: &more[1..], items: &more, ..view };
        let page = series_page(&meta(), &view);
        let (lead, all) =
            (page.find("<h2>The story</h2>").unwrap(), page.find("Every headline, newest first").unwrap());
        assert!(lead < all && page[lead..all].contains("An older headline"), "{page}");
    }

    #[test]
    fn an_items_page_says_why_in_words() {
        use crate::series::why::{Candidate, How, SharedTerm, Why};
        let item = crate::model::ItemRecord {
            id: 4,
            feed: "wire".into(),
            link: Some("http://127.0.0.1/a".into()),
            title: "Truce <holds>".into(),
            published: "2026-11-27T12:00:00Z".into(),
            series: "7".into(),
            ..Default::default()
        };
        let why = Why {
            how: How::Similar,
            series: 7,
            score: 0.31,
            needed: Some(0.27),
            shared: vec![SharedTerm { term: "truce".into(), weight: 0.1, name: false }],
            topic: None,
            runner_up: Some(Candidate { series: 9, score: 0.12, needed: Some(0.27), evidence: true, topic: None }),
        };
        let e = Explanation {
            item,
            series: Some(crate::store::SeriesRow {
                id: "7".into(),
                title: "Talks & truce".into(),
                items: 3,
                first_published: String::new(),
                last_published: String::new(),
                keywords: vec![],
            }),
            reason: Some(why.reason()),
            confidence: why.confidence(),
            why: Some(why),
            runner_up_title: Some("Markets".into()),
            full_text: None,
        };
        let page = why_page(&meta(), &e);
        assert!(page.contains(r#"<a href="http://127.0.0.1/a">Truce &lt;holds&gt;</a>"#), "{page}");
        assert!(page.contains(r#"In the story <a href="/series/7">Talks &amp; truce</a> (3 articles)."#), "{page}");
        assert!(page.contains("Similar to the series: scored 0.310 against the 0.270 it needed"), "{page}");
        assert!(page.contains("cleared the bar by 0.040."), "{page}");
        assert!(page.contains("<li>truce</li>") && page.contains(r#"<a href="/series/9">Markets</a> scored 0.120"#));
        assert!(page.contains(r#"href="/api/items/4/why""#));
    }

    #[test]
    fn failing_feeds_come_first_and_say_why() {
        let ok = FeedStatus {
            name: "a-ok".into(),
            url: "http://a/".into(),
            last_status: Some("ok".into()),
            enabled: true,
            warning: Some("undefined entity &nbsp; read as a space".into()),
            ..Default::default()
        };
        let bad = FeedStatus {
            name: "z-bad".into(),
            url: "http://z/".into(),
            last_status: Some("http_error".into()),
            http_status: Some(503),
            last_error: Some("HTTP 503 <Service Unavailable>".into()),
            error_count: 3,
            enabled: true,
            ..Default::default()
        };
        let gone = FeedStatus {
            name: "m-gone".into(),
            url: "http://m/".into(),
            gone: true,
            enabled: true,
            ..Default::default()
        };
        let page = feeds_page(&meta(), &[ok, bad, gone], at(0));
        let (z, m, a) = (page.find("z-bad").unwrap(), page.find("m-gone").unwrap(), page.find("a-ok").unwrap());
        assert!(z < a && m < a, "failing and gone feeds first");
        assert!(page.contains(r#"<tr class="failing">"#), "{page}");
        assert!(page.contains("failing: http error (HTTP 503)") && page.contains("3 failures in a row"), "{page}");
        assert!(page.contains("HTTP 503 &lt;Service Unavailable&gt;"), "errors are escaped");
        assert!(page.contains("not polled (gone)"));
        assert!(page.contains(r#"<a href="http://127.0.0.1:8080/sources/a-ok.atom">Atom</a>"#), "{page}");
        assert!(page.contains("read with repairs: undefined entity &amp;nbsp; read as a space"), "as the CLI says it");
        assert!(page.contains("3 feeds"), "{page}");
    }

    #[test]
    fn the_front_page_puts_stories_first_then_other_news() {
        let (_, items) = super::super::tests::sample();
        let headline = crate::model::Related {
            title: "Truce <b>holds</b>".into(),
            link: Some("http://127.0.0.1/c".into()),
            publisher: "Wire".into(),
            published: at(-3),
        };
        let story = crate::model::SeriesEntry {
            id: "7".into(),
            title: "Talks & truce".into(),
            count: 3,
            last: at(0),
            keywords: vec!["NATO".into()],
            headlines: vec![headline.clone(), crate::model::Related { title: "Talks go on".into(), ..headline }],
            timeline: vec![at(-3), at(-2), at(0)],
            first: at(-30),
            sources: 4,
            lead: Some(crate::model::Lead {
                summary: "The truce held overnight, officials said, as talks resumed in the capital.".into(),
                image: Some(crate::model::Image { url: "https://127.0.0.1/i.jpg".into(), width: None, height: None }),
            }),
        };
        let front = FrontPage {
            stories: vec![story],
            other: items,
            stories_total: 31,
            items_new: 12,
            stored: true,
            failing_feeds: 2,
        };
        let page = front_page(&meta(), &front, 1, 30, at(0));
        assert!(
            page.contains("31 stories · 12 new in the last 24 hours") && page.contains("2 failing feeds"),
            "{page}"
        );
        assert!(page.contains(r#"<a href="/series/7">Talks &amp; truce (3)</a>"#), "{page}");
        assert!(page.contains("Truce &lt;b&gt;holds&lt;/b&gt;") && page.contains("Wire</span> · <time"), "{page}");
        assert!(page.contains(r#"datetime="2026-11-27T09:00:00Z""#) && page.contains(">3 h ago</time>"));
        let (story, other) = (page.find("series-7").unwrap(), page.find("Other news").unwrap());
        assert!(story < other, "stories first");
        assert!(page.contains("?page=2") && !page.contains("?page=0"), "31 stories: an older page, no newer one");
        // The lead: its image, headline, and the opening of its summary; then the others.
        assert!(page.contains(r#"<section class="story wide" id="series-7">"#), "4 sources: {page}");
        assert!(page.contains("4 sources · since Thursday, over 30 hours · NATO"), "{page}");
        assert!(
            page.contains(r#"<img src="https://127.0.0.1/i.jpg" alt="" loading="lazy" referrerpolicy="no-referrer">"#)
        );
        assert!(page.contains("<p class=\"snippet\">The truce held overnight"), "{page}");
        let (lead, more) = (page.find("<h3>").unwrap(), page.find("Talks go on").unwrap());
        assert!(lead < more && page.contains(r#"<ul class="more">"#), "{page}");
        let mut single = front.clone();
        single.stories[0].sources = 1;
        single.stories[0].lead.as_mut().unwrap().image.as_mut().unwrap().url = "http://127.0.0.1/i.jpg".into();
        let page = front_page(&meta(), &single, 1, 30, at(0));
        assert!(page.contains(r#"<section class="story" id="series-7">"#) && page.contains("one source only"));
        assert!(!page.contains("<img"), "no image over plain HTTP (the policy blocks it)");
        let one = FrontPage { stories_total: 1, failing_feeds: 1, ..front.clone() };
        let page = front_page(&meta(), &one, 1, 30, at(0));
        assert!(page.contains("1 story · ") && page.contains("1 failing feed<"), "{page}");
    }

    #[test]
    fn snippets_cut_at_a_word_and_spans_read_in_words() {
        assert_eq!(snippet("Short.", 220), "Short.");
        assert_eq!(snippet("one two three four", 9), "one two…");
        assert_eq!(snippet("one, two three", 5), "one…");
        assert_eq!(snippet("ééé ééé", 5), "ééé…", "counts characters, cuts on a char boundary");
        assert_eq!(span_words(at(-0), at(0), at(0)), "within an hour");
        assert_eq!(span_words(at(-15), at(0), at(0)), "over 15 hours");
        assert_eq!(span_words(at(-1), at(0), at(0)), "over an hour");
        // at(0) is Friday 27 Nov 2026, 12:00 UTC.
        assert_eq!(span_words(at(-72), at(0), at(0)), "since Tuesday, over 3 days");
        assert_eq!(span_words(at(-24 * 10), at(0), at(0)), "over 10 days");
    }

    #[test]
    fn an_empty_page_says_why_it_is_empty() {
        let empty = FrontPage {
            stories: vec![],
            other: vec![],
            stories_total: 0,
            items_new: 0,
            stored: false,
            failing_feeds: 0,
        };
        assert!(front_page(&meta(), &empty, 1, 30, at(0)).contains("no items have been fetched"));
        let past = FrontPage { stories_total: 40, stored: true, ..empty.clone() };
        let page = front_page(&meta(), &past, 999, 30, at(0));
        assert!(page.contains("There is no page 999") && !page.contains("no items have been fetched"), "{page}");
        let hidden = FrontPage { stored: true, ..empty };
        assert!(front_page(&meta(), &hidden, 1, 30, at(0)).contains("hidden by the feeds' rules"));
    }
}
