//! What a source carried besides text, through a poll and every output format: a podcast
//! (RSS enclosures, iTunes durations and art, comments), Media RSS thumbnails and
//! content, Atom enclosure and replies links, and JSON Feed images and attachments. The
//! daemon runs in-process on 127.0.0.1:0 against fixture feeds served on loopback.

mod common;

use common::running::Running;
use common::{fixture, Route, Server};
use feed_rs::model::Entry;
use serde_json::Value;

async fn running() -> (Server, tempfile::TempDir, Running) {
    let feeds = Server::start().await;
    let served = [
        ("podcast", "media/podcast.xml", "application/rss+xml"),
        ("photos", "media/mediarss.xml", "application/rss+xml"),
        ("lectures", "media/enclosures.atom", "application/atom+xml"),
        ("sounds", "media/attachments.json", "application/feed+json"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut text =
        "[storage]\ndatabase = \"d.db\"\n[fetch]\nschedule = \"every 1h\"\n[server]\nlisten = \"127.0.0.1:0\"\n"
            .to_string();
    for (name, file, content_type) in served {
        feeds.route(&format!("/{name}"), Route::feed(fixture(file), content_type));
        text.push_str(&format!("[[feed]]\nname = \"{name}\"\nurl = \"{}\"\n", feeds.url(&format!("/{name}"))));
    }
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    let mut daemon = Running::start(&path).await;
    for (name, ..) in served {
        assert_eq!(daemon.polled(name).await.0, "ok", "{name}");
    }
    daemon.grouped().await;
    (feeds, dir, daemon)
}

async fn get(daemon: &Running, route: &str) -> String {
    let response = reqwest::get(format!("{}{route}", daemon.base)).await.unwrap();
    assert_eq!(response.status(), 200, "{route}");
    response.text().await.unwrap()
}

fn entry<'a>(entries: &'a [Entry], title: &str) -> &'a Entry {
    entries
        .iter()
        .find(|e| e.title.as_ref().is_some_and(|t| t.content == title))
        .unwrap_or_else(|| panic!("no entry {title:?}"))
}

/// A file as (url, type, size).
type File = (String, Option<String>, Option<u64>);

fn enclosure_links(e: &Entry) -> Vec<File> {
    e.links
        .iter()
        .filter(|l| l.rel.as_deref() == Some("enclosure"))
        .map(|l| (l.href.clone(), l.media_type.clone(), l.length))
        .collect()
}

/// Media RSS objects as (url, type, size) of their content, and their thumbnails' URLs.
fn media_of(e: &Entry) -> (Vec<File>, Vec<String>) {
    let content = e
        .media
        .iter()
        .flat_map(|m| &m.content)
        .map(|c| (c.url.as_ref().unwrap().to_string(), c.content_type.as_ref().map(|t| t.to_string()), c.size))
        .collect();
    let thumbnails = e.media.iter().flat_map(|m| &m.thumbnails).map(|t| t.image.uri.clone()).collect();
    (content, thumbnails)
}

const EPISODE: &str = "http://media.podcast.example/audio/ep12.mp3?source=feed&id=12";

#[tokio::test(flavor = "multi_thread")]
async fn atom_republishes_enclosures_thumbnails_and_comments() {
    let (_feeds, _dir, daemon) = running().await;
    let atom = get(&daemon, "/feed.atom").await;
    let feed = feed_rs::parser::parse(atom.as_bytes()).unwrap();
    let episode = entry(&feed.entries, "Episode 12: The new ferry");
    assert_eq!(enclosure_links(episode), [(EPISODE.to_string(), Some("audio/mpeg".to_string()), Some(48_213_094))]);
    assert!(
        atom.contains(
            "<link rel=\"replies\" type=\"text/html\" href=\"http://podcast.example/episodes/12#comments\"/>"
        ),
        "{atom}"
    );
    assert_eq!(media_of(episode).1, ["http://media.podcast.example/art/ep12.jpg"]);
    assert!(episode.categories.iter().any(|c| c.term == "Transport"), "the source's categories");

    let lecture = entry(&feed.entries, "Lecture 7: Tides");
    assert_eq!(
        enclosure_links(lecture),
        [
            ("http://atom-media.example/files/lecture7.pdf".into(), Some("application/pdf".into()), Some(1_048_576)),
            ("http://video.atom-media.example/lecture7.webm".into(), Some("video/webm".into()), Some(734_003_200)),
        ]
    );
    assert!(atom.contains("title=\"Slides\""));
    let photo = entry(&feed.entries, "Lantern parade lights up the old town");
    assert!(
        atom.contains(
            "<media:thumbnail url=\"http://cdn.photos.example/lanterns-thumb.jpg\" width=\"320\" height=\"180\"/>"
        ),
        "{atom}"
    );
    assert_eq!(media_of(photo).1, ["http://cdn.photos.example/lanterns-thumb.jpg"]);
    let sound = entry(&feed.entries, "Field recording: a rainy market");
    assert_eq!(
        enclosure_links(sound),
        [
            ("http://json-media.example/audio/market.ogg".into(), Some("audio/ogg".into()), Some(5_242_880)),
            ("http://json-media.example/audio/market-notes.txt".into(), Some("text/plain".into()), None),
        ],
        "a type the source left out is guessed"
    );
    assert!(!atom.contains("javascript:"), "{atom}");
    daemon.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn rss_republishes_one_enclosure_per_item_with_the_rest_as_media_content() {
    let (_feeds, _dir, daemon) = running().await;
    let rss = get(&daemon, "/feed.rss").await;
    let feed = feed_rs::parser::parse(rss.as_bytes()).unwrap();
    let episode = entry(&feed.entries, "Episode 12: The new ferry");
    let (content, thumbnails) = media_of(episode);
    assert_eq!(content, [(EPISODE.to_string(), Some("audio/mpeg".to_string()), Some(48_213_094))]);
    assert_eq!(thumbnails, ["http://media.podcast.example/art/ep12.jpg"]);
    assert_eq!(episode.media[0].duration, Some(std::time::Duration::from_secs(3013)), "itunes:duration");
    assert!(rss.contains("<comments>http://podcast.example/episodes/12#comments</comments>"), "{rss}");
    let older = entry(&feed.entries, "Episode 11: Fish market at dawn");
    assert!(
        rss.contains("<enclosure url=\"http://podcast.example/audio/ep11.m4a\" length=\"0\" type=\"audio/x-m4a\"/>"),
        "RSS requires a length: 0 when unknown\n{rss}"
    );
    assert_eq!(media_of(older).0.len(), 1);

    let lecture = entry(&feed.entries, "Lecture 7: Tides");
    let (content, _) = media_of(lecture);
    let urls: Vec<&str> = content.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        urls,
        ["http://atom-media.example/files/lecture7.pdf", "http://video.atom-media.example/lecture7.webm"],
        "the first as <enclosure>, the second as media:content"
    );
    assert_eq!(rss.matches("<enclosure ").count(), 6, "one per item that has any\n{rss}");
    let video = entry(&feed.entries, "Drone footage of the first snow");
    assert_eq!(
        media_of(video).0,
        [("http://cdn.photos.example/snow-1080.mp4".into(), Some("video/mp4".into()), Some(91_234_567))]
    );
    assert_eq!(media_of(video).1, ["http://cdn.photos.example/snow-poster.jpg"]);
    assert!(!rss.contains("javascript:"), "{rss}");
    daemon.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn json_feed_republishes_images_and_attachments() {
    let (_feeds, _dir, daemon) = running().await;
    let doc: Value = serde_json::from_str(&get(&daemon, "/feed.json").await).unwrap();
    let items = doc["items"].as_array().unwrap();
    let item = |title: &str| items.iter().find(|i| i["title"] == title).unwrap_or_else(|| panic!("no {title}"));
    let sound = item("Field recording: a rainy market");
    assert_eq!(sound["image"], "http://json-media.example/img/market.jpg");
    assert_eq!(
        sound["attachments"],
        serde_json::json!([
            {"url": "http://json-media.example/audio/market.ogg", "mime_type": "audio/ogg", "title": "Rainy market",
             "size_in_bytes": 5_242_880, "duration_in_seconds": 312},
            {"url": "http://json-media.example/audio/market-notes.txt", "mime_type": "text/plain"},
        ])
    );
    assert!(sound["tags"].as_array().unwrap().iter().any(|t| t == "field recording"));
    let episode = item("Episode 12: The new ferry");
    assert_eq!(episode["image"], "http://media.podcast.example/art/ep12.jpg");
    assert_eq!(
        episode["attachments"],
        serde_json::json!([{"url": EPISODE, "mime_type": "audio/mpeg", "size_in_bytes": 48_213_094, "duration_in_seconds": 3013}])
    );
    assert_eq!(episode["_storyline"]["comments"], "http://podcast.example/episodes/12#comments");
    let photo = item("Lantern parade lights up the old town");
    assert_eq!(photo["image"], "http://cdn.photos.example/lanterns-thumb.jpg");
    assert_eq!(photo["attachments"][0]["mime_type"], "image/jpeg");
    daemon.stop().await.unwrap();
}

/// `/sources/{name}.EXT`: one feed's items as storyline stored them, its copy of an
/// article first received from another feed included; an unknown name is a 404.
#[tokio::test(flavor = "multi_thread")]
async fn a_source_feed_carries_what_that_source_carried() {
    let feeds = Server::start().await;
    feeds.route("/a", Route::feed(fixture("wire-a.xml"), "application/rss+xml"));
    feeds.route("/b", Route::feed(fixture("wire-b.xml"), "application/rss+xml"));
    feeds.route("/podcast", Route::feed(fixture("media/podcast.xml"), "application/rss+xml"));
    let dir = tempfile::tempdir().unwrap();
    let mut text =
        "[storage]\ndatabase = \"d.db\"\n[fetch]\nschedule = \"every 1h\"\n[server]\nlisten = \"127.0.0.1:0\"\n"
            .to_string();
    for name in ["a", "b", "podcast"] {
        text.push_str(&format!("[[feed]]\nname = \"{name}\"\nurl = \"{}\"\n", feeds.url(&format!("/{name}"))));
    }
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    let mut daemon = Running::start(&path).await;
    // Whichever of a and b was stored first holds the article; each source's feed
    // carries its own copy of it.
    for name in ["a", "b", "podcast"] {
        assert_eq!(daemon.polled(name).await.0, "ok");
    }
    daemon.grouped().await;
    let titles = |doc: &str| -> Vec<String> {
        let feed = feed_rs::parser::parse(doc.as_bytes()).unwrap();
        let mut t: Vec<String> = feed.entries.iter().map(|e| e.title.clone().unwrap().content).collect();
        t.sort();
        t
    };
    let merged = titles(&get(&daemon, "/feed.atom").await);
    assert_eq!(merged.iter().filter(|t| t.starts_with("Airline scraps")).count(), 1, "{merged:?}");
    let a = titles(&get(&daemon, "/sources/a.atom").await);
    let b = titles(&get(&daemon, "/sources/b.rss").await);
    assert_eq!(a, ["Airline scraps winter routes", "Only in A"]);
    assert_eq!(b, ["Airline scraps winter routes (syndicated)", "Only in B"], "b's copy, as b titled it");
    let json: Value = serde_json::from_str(&get(&daemon, "/sources/podcast.json").await).unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), 2);
    assert_eq!(json["items"][0]["attachments"][0]["url"], EPISODE, "with its media");
    assert!(json["title"].as_str().unwrap().starts_with("Harbour Talk"), "{}", json["title"]);
    assert!(json["feed_url"].as_str().unwrap().ends_with("/sources/podcast.json"));
    let missing = reqwest::get(format!("{}/sources/nope.atom", daemon.base)).await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.text().await.unwrap(), "no configured feed has this name");
    daemon.stop().await.unwrap();
}
