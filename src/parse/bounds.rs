//! What one document may put into the store, whatever it holds: text fields cut to a
//! length, a bounded number of entries, and only dates that can be publication dates.
//! Applied once to every parsed document, whichever reader built it, so that a feed
//! cannot make every page and feed that shows its items large (a 1 MB channel title is
//! repeated in each of its entries) or send the renderers dates they cannot write.
//!
//! Pure; no I/O. The time "now" is passed in.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::model::{Entry, ParsedFeed};
use crate::text::cap;

/// Most bytes kept of a title (the feed's or an entry's), an author line or a category.
/// The longest headlines of the labelled streams are under 300 bytes; a title of 1 MB
/// made `/feed.atom` 667 MB (it is repeated per entry, in `<source>`).
pub const TEXT_BYTES: usize = 1024;

/// Most categories kept per entry.
pub const MAX_CATEGORIES: usize = 32;

/// Most enclosures kept per entry. A podcast episode has one; a Media RSS group lists a
/// few renditions of one video.
pub const MAX_ENCLOSURES: usize = 16;

/// Longest media URL kept (enclosure, image, comments); longer ones are dropped, not cut
/// (a cut URL leads nowhere). Signed CDN URLs run to about 1 KB.
pub const MEDIA_URL_BYTES: usize = 4096;

/// Most bytes kept of an entry's sanitized body. Long-form articles run to about 100 KB of
/// HTML; a body cut here is sanitized again, so its open elements are closed.
pub const CONTENT_BYTES: usize = 512 * 1024;

/// Most entries read from one document: the newest. Real feeds carry 10 to a few hundred;
/// a 5 MB feed of 100,000 entries put the daemon at 450 MB.
pub const MAX_ENTRIES: usize = 1000;

/// How far ahead of "now" a date may be and still be read as a publication date: clocks
/// and zones of publishers are off by hours, not days.
pub const FUTURE_SLACK_HOURS: i64 = 24;

/// Bounds `feed` in place, adding a warning for each kind of cut made. `total` is how many
/// entries the document held (a reader may have kept only the newest [`MAX_ENTRIES`]).
pub fn apply(feed: &mut ParsedFeed, total: usize, now: DateTime<Utc>) {
    // Dates first: the entries kept are the newest by dates that can be true.
    let dates = feed.entries.iter_mut().map(|e| usize::from(plausible_dates(e, now))).sum::<usize>();
    let total = total.max(feed.entries.len());
    if total > MAX_ENTRIES {
        keep_newest(&mut feed.entries, MAX_ENTRIES, |e| e.published);
        feed.warnings.push(format!("{total} entries: only the newest {MAX_ENTRIES} were read"));
    }
    let mut cut_texts = feed.title.as_mut().map_or(0, cut);
    let mut cut_bodies = 0;
    let mut cut_media = 0;
    for e in &mut feed.entries {
        cut_texts += cut(&mut e.title) + e.author.as_mut().map_or(0, cut);
        if e.categories.len() > MAX_CATEGORIES {
            e.categories.truncate(MAX_CATEGORIES);
            cut_texts += 1;
        }
        cut_texts += e.categories.iter_mut().map(cut).sum::<usize>();
        cut_media += media(&mut e.media);
        if e.content_html.len() > CONTENT_BYTES {
            e.content_html = cut_html(&e.content_html);
            cut_bodies += 1;
        }
    }
    if cut_texts > 0 {
        feed.warnings.push(format!("{cut_texts} title(s), author(s) or categories cut to {TEXT_BYTES} bytes"));
    }
    if cut_media > 0 {
        feed.warnings.push(format!(
            "{cut_media} entry(ies) with more than {MAX_ENCLOSURES} enclosures or a media URL over \
             {MEDIA_URL_BYTES} bytes: the rest were dropped"
        ));
    }
    if cut_bodies > 0 {
        feed.warnings.push(format!("{cut_bodies} entry body(ies) cut to {} KiB", CONTENT_BYTES / 1024));
    }
    if dates > 0 {
        feed.warnings.push(format!(
            "{dates} entry(ies) with a date before 1970 or more than {FUTURE_SLACK_HOURS} h ahead: the date was \
             dropped (an entry without one is dated when first seen)"
        ));
    }
}

/// Bounds an entry's media: at most [`MAX_ENCLOSURES`], no URL over [`MEDIA_URL_BYTES`],
/// titles cut to [`TEXT_BYTES`]; 1 when something was dropped, else 0.
fn media(media: &mut crate::model::Media) -> usize {
    let before = (media.enclosures.len(), media.image.is_some(), media.comments.is_some());
    media.enclosures.retain(|e| e.url.len() <= MEDIA_URL_BYTES);
    media.enclosures.truncate(MAX_ENCLOSURES);
    for e in &mut media.enclosures {
        if let Some(title) = e.title.as_mut() {
            cut(title);
        }
    }
    media.image = media.image.take().filter(|i| i.url.len() <= MEDIA_URL_BYTES);
    media.comments = media.comments.take().filter(|c| c.len() <= MEDIA_URL_BYTES);
    usize::from(before != (media.enclosures.len(), media.image.is_some(), media.comments.is_some()))
}

/// Cuts `text` to [`TEXT_BYTES`]; 1 when it did, else 0 (for counting).
fn cut(text: &mut String) -> usize {
    if text.len() <= TEXT_BYTES {
        return 0;
    }
    *text = cap(text, TEXT_BYTES);
    1
}

/// Whether `t` can be when an entry was published or updated, seen at `now`.
pub fn plausible(t: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    t >= Utc.timestamp_opt(0, 0).unwrap() && t <= now + Duration::hours(FUTURE_SLACK_HOURS)
}

/// Drops the entry's dates that [`plausible`] refuses (the store then dates it by when it
/// was first seen); whether it dropped any.
fn plausible_dates(e: &mut Entry, now: DateTime<Utc>) -> bool {
    let before = (e.published, e.updated);
    e.published = e.published.filter(|t| plausible(*t, now));
    e.updated = e.updated.filter(|t| plausible(*t, now));
    (e.published, e.updated) != before
}

/// Keeps the newest `n` of `entries` in document order. By their dates (`date`) when every
/// entry has one; otherwise the first `n`, as feeds list their newest first.
pub fn keep_newest<T>(entries: &mut Vec<T>, n: usize, date: impl Fn(&T) -> Option<DateTime<Utc>>) {
    if entries.len() <= n {
        return;
    }
    let dates: Vec<Option<DateTime<Utc>>> = entries.iter().map(date).collect();
    if dates.iter().all(Option::is_some) {
        let mut by_age: Vec<usize> = (0..entries.len()).collect();
        // Newest first; the document's order among equal dates.
        by_age.sort_by_key(|&i| (std::cmp::Reverse(dates[i]), i));
        let mut keep = vec![false; entries.len()];
        by_age.iter().take(n).for_each(|&i| keep[i] = true);
        let mut i = 0;
        entries.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    } else {
        entries.truncate(n);
    }
}

/// A sanitized body within [`CONTENT_BYTES`]: itself, or cut (see `cut_html`).
pub fn cut_body(html: &str) -> String {
    if html.len() > CONTENT_BYTES {
        cut_html(html)
    } else {
        html.to_string()
    }
}

/// A sanitized body cut before [`CONTENT_BYTES`], at a tag's start where one is near, and
/// sanitized again so the elements the cut left open are closed.
fn cut_html(html: &str) -> String {
    let head = crate::text::prefix(html, CONTENT_BYTES);
    let head = head.rfind('<').filter(|lt| *lt > head.len() / 2).map_or(head, |lt| &head[..lt]);
    super::html::sanitize(&ammonia::Builder::default(), head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
    }

    fn entry(title: &str, published: Option<DateTime<Utc>>) -> Entry {
        Entry { title: title.into(), published, ..Entry::default() }
    }

    #[test]
    fn an_entry_keeps_a_bounded_number_of_enclosures_and_no_overlong_url() {
        use crate::model::{Enclosure, Image, Media};
        let file = |url: String| Enclosure { url, mime_type: None, length: None, duration_secs: None, title: None };
        let long = format!("http://x.example/{}", "a".repeat(MEDIA_URL_BYTES));
        let mut enclosures = vec![file(long.clone())];
        enclosures.extend((0..100).map(|i| file(format!("http://x.example/{i}.mp3"))));
        let media = Media { enclosures, image: Some(Image { url: long, width: None, height: None }), comments: None };
        let mut feed = ParsedFeed { entries: vec![Entry { media, ..entry("a", None) }], ..ParsedFeed::default() };
        apply(&mut feed, 1, now());
        let kept = &feed.entries[0].media;
        assert_eq!(kept.enclosures.len(), MAX_ENCLOSURES);
        assert_eq!(kept.enclosures[0].url, "http://x.example/0.mp3", "the overlong one is dropped, not cut");
        assert_eq!(kept.image, None);
        assert_eq!(feed.warnings.len(), 1, "{:?}", feed.warnings);
    }

    #[test]
    fn long_texts_are_cut_at_a_word_with_an_ellipsis() {
        let mut feed = ParsedFeed {
            title: Some("Channel ".repeat(200_000)),
            entries: vec![Entry {
                title: "é".repeat(3000),
                author: Some("Ann ".repeat(1000)),
                categories: (0..100).map(|i| format!("c{i}")).collect(),
                ..Entry::default()
            }],
            ..ParsedFeed::default()
        };
        apply(&mut feed, 0, now());
        let title = feed.title.unwrap();
        assert!(title.len() <= TEXT_BYTES && title.ends_with("Channel…"), "{}", &title[title.len() - 20..]);
        let e = &feed.entries[0];
        assert!(e.title.len() <= TEXT_BYTES && e.title.ends_with("é…"));
        assert!(e.author.as_ref().unwrap().len() <= TEXT_BYTES);
        assert_eq!(e.categories.len(), MAX_CATEGORIES);
        assert!(feed.warnings[0].contains("cut to 1024 bytes"), "{:?}", feed.warnings);
    }

    #[test]
    fn only_the_newest_entries_are_kept() {
        let at = |d: u32| Some(Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap() + Duration::days(i64::from(d)));
        // Oldest first in the document: the newest are at its end.
        let mut feed =
            ParsedFeed { entries: (0..1500).map(|i| entry(&i.to_string(), at(i))).collect(), ..Default::default() };
        apply(&mut feed, 0, now());
        assert_eq!(feed.entries.len(), MAX_ENTRIES);
        assert_eq!(feed.entries[0].title, "500", "document order is kept");
        assert_eq!(feed.entries.last().unwrap().title, "1499");
        assert_eq!(feed.warnings, ["1500 entries: only the newest 1000 were read"]);
        // Without dates, the first ones (feeds list the newest first).
        let mut feed =
            ParsedFeed { entries: (0..1200).map(|i| entry(&i.to_string(), None)).collect(), ..Default::default() };
        apply(&mut feed, 0, now());
        assert_eq!((feed.entries.len(), feed.entries[999].title.as_str()), (MAX_ENTRIES, "999"));
    }

    #[test]
    fn dates_before_1970_or_beyond_a_day_ahead_are_not_publication_dates() {
        let ancient = chrono::NaiveDate::from_ymd_opt(-5000, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc();
        let far = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap();
        let fine = now() - Duration::days(3);
        let mut feed = ParsedFeed {
            entries: vec![
                Entry { published: Some(ancient), updated: Some(far), ..Entry::default() },
                Entry { published: Some(fine), updated: Some(now() + Duration::hours(2)), ..Entry::default() },
                entry("1969", Some(Utc.with_ymd_and_hms(1969, 12, 31, 23, 0, 0).unwrap())),
            ],
            ..ParsedFeed::default()
        };
        apply(&mut feed, 0, now());
        assert_eq!((feed.entries[0].published, feed.entries[0].updated), (None, None));
        assert_eq!(
            (feed.entries[1].published, feed.entries[1].updated),
            (Some(fine), Some(now() + Duration::hours(2)))
        );
        assert_eq!(feed.entries[2].published, None);
        assert!(feed.warnings[0].starts_with("2 entry(ies) with a date before 1970"), "{:?}", feed.warnings);
    }

    #[test]
    fn a_long_body_is_cut_and_its_elements_closed() {
        let body = format!("<div><p>{}</p>", "word <b>bold</b> ".repeat(60_000));
        let mut feed =
            ParsedFeed { entries: vec![Entry { content_html: body, ..Entry::default() }], ..Default::default() };
        apply(&mut feed, 0, now());
        let html = &feed.entries[0].content_html;
        assert!(html.len() <= CONTENT_BYTES + 16, "{}", html.len());
        assert!(html.ends_with("</p></div>"), "{}", &html[html.len() - 40..]);
    }
}
