//! Enclosures, images and comments links read from every format, and alike by feed-rs
//! and the tolerant reader.

use url::Url;

use super::parse;
use crate::model::{Enclosure, Image, Media};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/media/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn url(u: &str) -> Url {
    Url::parse(u).unwrap()
}

fn enclosure(url: &str, mime_type: Option<&str>, length: Option<u64>, duration_secs: Option<u64>) -> Enclosure {
    Enclosure { url: url.into(), mime_type: mime_type.map(Into::into), length, duration_secs, title: None }
}

fn image(url: &str, size: Option<(u32, u32)>) -> Image {
    Image { url: url.into(), width: size.map(|s| s.0), height: size.map(|s| s.1) }
}

fn podcast_media() -> [Media; 2] {
    [
        Media {
            enclosures: vec![enclosure(
                "http://media.podcast.example/audio/ep12.mp3?source=feed&id=12",
                Some("audio/mpeg"),
                Some(48_213_094),
                Some(3013),
            )],
            image: Some(image("http://media.podcast.example/art/ep12.jpg", None)),
            comments: Some("http://podcast.example/episodes/12#comments".into()),
        },
        Media {
            // A declared length of 0 is "unknown".
            enclosures: vec![enclosure("http://podcast.example/audio/ep11.m4a", Some("audio/x-m4a"), None, Some(2917))],
            image: None,
            comments: None,
        },
    ]
}

/// The document with one more entry, whose CDATA is never closed: feed-rs rejects it, the
/// tolerant reader reads it.
fn broken(text: &str) -> String {
    let bad = "<item><title>Storm</title><description><![CDATA[<p>never closed</p></description></item>";
    text.replace("</channel>", &format!("{bad}</channel>"))
}

#[test]
fn a_podcast_keeps_its_episodes_durations_art_and_comments() {
    let feed = parse(&fixture("podcast.xml"), None, &url("http://podcast.example/feed.xml")).unwrap();
    assert!(feed.warnings.is_empty(), "{:?}", feed.warnings);
    let media: Vec<&Media> = feed.entries.iter().map(|e| &e.media).collect();
    assert_eq!(media, podcast_media().iter().collect::<Vec<_>>());
    assert_eq!(feed.entries[0].categories, ["Transport"]);
}

#[test]
fn the_tolerant_reader_keeps_the_same_media() {
    let text = String::from_utf8(fixture("podcast.xml")).unwrap();
    let feed = parse(broken(&text).as_bytes(), None, &url("http://podcast.example/feed.xml")).unwrap();
    assert!(feed.warnings.iter().any(|w| w.contains("tolerant parser")), "{:?}", feed.warnings);
    let media: Vec<&Media> = feed.entries.iter().take(2).map(|e| &e.media).collect();
    assert_eq!(media, podcast_media().iter().collect::<Vec<_>>());
}

#[test]
fn media_rss_thumbnails_come_before_content_images_and_bad_urls_are_dropped() {
    let feed = parse(&fixture("mediarss.xml"), None, &url("http://photos.example/rss")).unwrap();
    let [lanterns, snow] = [&feed.entries[0].media, &feed.entries[1].media];
    assert_eq!(lanterns.image, Some(image("http://cdn.photos.example/lanterns-thumb.jpg", Some((320, 180)))));
    assert_eq!(
        lanterns.enclosures,
        [enclosure("http://cdn.photos.example/lanterns.jpg", Some("image/jpeg"), Some(734_003), None)]
    );
    assert_eq!(snow.image, Some(image("http://cdn.photos.example/snow-poster.jpg", None)));
    assert_eq!(
        snow.enclosures,
        [enclosure("http://cdn.photos.example/snow-1080.mp4", Some("video/mp4"), Some(91_234_567), Some(95))],
        "the javascript: one is not kept"
    );
    // The tolerant reader agrees.
    let text = broken(&String::from_utf8(fixture("mediarss.xml")).unwrap());
    let repaired = parse(text.as_bytes(), None, &url("http://photos.example/rss")).unwrap();
    assert!(repaired.warnings.iter().any(|w| w.contains("tolerant parser")), "{:?}", repaired.warnings);
    assert_eq!([&repaired.entries[0].media, &repaired.entries[1].media], [lanterns, snow]);
}

#[test]
fn atom_enclosure_links_and_replies_resolve_against_xml_base() {
    let feed = parse(&fixture("enclosures.atom"), None, &url("http://atom-media.example/feed")).unwrap();
    let e = &feed.entries[0];
    assert_eq!(e.link.as_deref(), Some("http://atom-media.example/lectures/7"), "an enclosure is not the link");
    let slides = Enclosure {
        title: Some("Slides".into()),
        ..enclosure("http://atom-media.example/files/lecture7.pdf", Some("application/pdf"), Some(1_048_576), None)
    };
    let video = enclosure("http://video.atom-media.example/lecture7.webm", Some("video/webm"), Some(734_003_200), None);
    assert_eq!(e.media.enclosures, [slides, video]);
    assert_eq!(e.media.comments.as_deref(), Some("http://atom-media.example/lectures/7/discussion"));
    assert_eq!(e.categories, ["Oceanography"]);
}

#[test]
fn json_feed_attachments_and_image_are_read_even_without_a_type() {
    let feed =
        parse(&fixture("attachments.json"), Some("application/feed+json"), &url("http://json-media.example/feed.json"))
            .unwrap();
    assert_eq!(feed.format, "JSON Feed");
    let e = &feed.entries[0];
    assert_eq!(e.link.as_deref(), Some("http://json-media.example/notes/5"), "an attachment is not the link");
    assert_eq!(e.author.as_deref(), Some("Sound Notes Team"), "items inherit the feed's authors");
    assert_eq!(e.media.image, Some(image("http://json-media.example/img/market.jpg", None)));
    let ogg = Enclosure {
        title: Some("Rainy market".into()),
        ..enclosure("http://json-media.example/audio/market.ogg", Some("audio/ogg"), Some(5_242_880), Some(312))
    };
    assert_eq!(
        e.media.enclosures,
        [ogg, enclosure("http://json-media.example/audio/market-notes.txt", None, None, None)]
    );
    assert_eq!(e.categories, ["field recording"]);
}

#[test]
fn a_declared_type_that_is_no_mime_type_is_dropped() {
    let doc = r#"<rss version="2.0"><channel><title>T</title><link>http://x.example/</link>
        <item><title>a</title><guid>1</guid><enclosure url="http://x.example/a.mp3" type="audio/mpeg&#27;[31m" length="5"/></item>
        <item><title>b</title><guid>2</guid><enclosure url="http://x.example/b.mp3" type="Audio/MPEG" length="5"/></item>
        </channel></rss>"#;
    let feed = parse(doc.as_bytes(), None, &url("http://x.example/feed")).unwrap();
    let types: Vec<Option<&str>> = feed.entries.iter().map(|e| e.media.enclosures[0].mime_type.as_deref()).collect();
    assert_eq!(types, [None, Some("audio/mpeg")]);
    assert_eq!(feed.entries[0].media.enclosures[0].mime_type_or_guess(), "audio/mpeg", "guessed instead");
}
