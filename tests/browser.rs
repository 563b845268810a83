//! The pages in a real browser: headless Chromium, driven through chromedriver's WebDriver
//! API on loopback, loads `/`, a series page, `/feeds`, an item's "why" page and a search at 390 and
//! 1280 px wide, in the light and the dark colour scheme, checks that the titles with their
//! counts, the publishers, the lead articles and the series' timeline are visible, that the
//! scheme applied and that nothing overflows the width, and saves screenshots under
//! `target/screenshots/` (not committed).
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them).

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::running::Running;
use common::{fixture, Route, Server};
use serde_json::{json, Value};

/// What the page must show, measured in the browser: each entry is a CSS selector whose
/// first match must have a box inside the viewport's width.
const VISIBLE: &str = r#"
const need = arguments[0];
const out = {};
for (const sel of need) {
  const el = document.querySelector(sel);
  const r = el && el.getBoundingClientRect();
  out[sel] = !!r && r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= window.innerWidth + 1;
}
out.overflow = document.documentElement.scrollWidth > window.innerWidth + 1;
out.styled = getComputedStyle(document.body).maxWidth !== 'none';
const chart = document.querySelector('svg.timeline');
out.chart_height = chart ? chart.getBoundingClientRect().height : 0;
out.background = getComputedStyle(document.body).backgroundColor;
out.text = document.body.innerText;
return out;
"#;

struct Driver {
    child: tokio::process::Child,
    base: String,
    http: reqwest::Client,
}

impl Driver {
    async fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = tokio::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver (Debian's chromium-driver) is needed for the browser test");
        let driver = Driver { child, base: format!("http://127.0.0.1:{port}"), http: reqwest::Client::new() };
        // Ready when its status says so; it starts in well under a second.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let status = driver.http.get(format!("{}/status", driver.base)).send().await;
            if let Ok(r) = status {
                let v: Value = serde_json::from_str(&r.text().await.unwrap_or_default()).unwrap_or_default();
                if v["value"]["ready"] == true {
                    return driver;
                }
            }
            assert!(tokio::time::Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if !body.is_null() {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let v: Value = serde_json::from_str(&request.send().await.unwrap().text().await.unwrap()).unwrap();
        assert!(v["value"].get("error").is_none(), "{path}: {v}");
        v["value"].clone()
    }

    async fn session(&self) -> String {
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"]
        }}}});
        self.call(reqwest::Method::POST, "/session", caps).await["sessionId"].as_str().unwrap().to_string()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_read_at_phone_and_desktop_widths() {
    let feeds = Server::start().await;
    feeds.route("/x.xml", Route::feed(fixture("outlet-x.xml"), "application/rss+xml"));
    feeds.route("/y.xml", Route::feed(fixture("outlet-y.xml"), "application/rss+xml"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let config = format!(
        "[storage]\ndatabase = \"d.db\"\n[server]\nlisten = \"127.0.0.1:0\"\n\
         [[feed]]\nname = \"x\"\nurl = \"{}\"\n[[feed]]\nname = \"y\"\nurl = \"{}\"\n",
        feeds.url("/x.xml"),
        feeds.url("/y.xml")
    );
    std::fs::write(&path, config).unwrap();
    let mut daemon = Running::start(&path).await;
    daemon.polled("x").await;
    daemon.polled("y").await;
    daemon.grouped().await;
    let series = reqwest::get(format!("{}/api/series?limit=10", daemon.base)).await.unwrap().text().await.unwrap();
    let series: Vec<Value> = serde_json::from_str(&series).unwrap();
    let banana = series.iter().find(|s| s["title"].as_str().unwrap().contains("Fyffes")).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let story = reqwest::get(format!("{}/api/series/{banana}", daemon.base)).await.unwrap().text().await.unwrap();
    let story: Value = serde_json::from_str(&story).unwrap();
    let item = story["entries"][0]["id"].as_i64().unwrap();

    let driver = Driver::start().await;
    let session = driver.session().await;
    let shots = std::path::PathBuf::from(
        std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| format!("{}/target", env!("CARGO_MANIFEST_DIR"))),
    )
    .join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let pages = [
        (
            "front",
            "/".to_string(),
            vec!["h2 a", ".lead h3 a", ".story > p.meta", "aside.other li"],
            vec!["(3)", "Outlet X", "Other news", "sources", "new in the last 24 hours"],
        ),
        ("series", format!("/series/{banana}"), vec!["h1", "ol li .meta", "svg.timeline"], vec!["(3)", "Outlet Y"]),
        ("feeds", "/feeds".to_string(), vec!["h1", "td strong", "td a"], vec!["Outlet X", "Outlet Y", "ok"]),
        ("why", format!("/items/{item}"), vec!["h1 a", "main p a"], vec!["In the story", "Why"]),
        (
            "search",
            "/search?q=merger".to_string(),
            vec!["form.search input", "h2 a", "li .meta"],
            vec!["Fyffes", "follow"],
        ),
    ];
    for (width, scheme) in [(390, "light"), (1280, "light"), (390, "dark"), (1280, "dark")] {
        // The pages follow the reader's colour scheme: both are looked at.
        let media = json!({"cmd": "Emulation.setEmulatedMedia",
            "params": {"features": [{"name": "prefers-color-scheme", "value": scheme}]}});
        driver.call(reqwest::Method::POST, &format!("/session/{session}/goog/cdp/execute"), media).await;
        let rect = json!({"width": width, "height": 900});
        driver.call(reqwest::Method::POST, &format!("/session/{session}/window/rect"), rect).await;
        for (name, route, selectors, texts) in &pages {
            let url = json!({"url": format!("{}{route}", daemon.base)});
            driver.call(reqwest::Method::POST, &format!("/session/{session}/url"), url).await;
            let script = json!({"script": VISIBLE, "args": [selectors]});
            let seen = driver.call(reqwest::Method::POST, &format!("/session/{session}/execute/sync"), script).await;
            for sel in selectors {
                assert_eq!(seen[sel], true, "{name} at {width}px: `{sel}` is not visible: {seen}");
            }
            assert_eq!(seen["overflow"], false, "{name} at {width}px is wider than the window");
            assert_eq!(seen["styled"], true, "{name} at {width}px: the stylesheet did not apply");
            let background = if scheme == "dark" { "rgb(20, 20, 20)" } else { "rgb(255, 255, 255)" };
            assert_eq!(seen["background"], background, "{name} at {width}px in the {scheme} scheme");
            let chart = seen["chart_height"].as_f64().unwrap();
            let charted = selectors.contains(&"svg.timeline");
            assert!(!charted || (chart > 10.0 && chart < 80.0), "{name} at {width}px: the timeline is {chart}px high");
            let text = seen["text"].as_str().unwrap();
            for t in texts {
                assert!(text.contains(t), "{name} at {width}px does not show {t:?}: {text}");
            }
            let png = driver.call(reqwest::Method::GET, &format!("/session/{session}/screenshot"), Value::Null).await;
            let bytes = base64_decode(png.as_str().unwrap());
            assert!(bytes.starts_with(b"\x89PNG"), "a PNG screenshot");
            std::fs::write(shots.join(format!("{name}-{width}-{scheme}.png")), bytes).unwrap();
        }
    }
    driver.call(reqwest::Method::DELETE, &format!("/session/{session}"), Value::Null).await;
    drop(driver.child);
    daemon.stop().await.unwrap();
}

/// Standard base64 (the WebDriver screenshot encoding).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let digits: Vec<u8> =
        text.bytes().filter(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/').map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, d)| n | u32::from(*d) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}
