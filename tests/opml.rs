//! import-opml and export-opml through the real binary.

mod common;

use common::Setup;

const CONFIG: &str = "# My storyline\n[fetch]\ntimeout = \"5s\" # keep it short\n\n# the first feed\n[[feed]]\nname = \"existing\"\nurl = \"http://127.0.0.1:9/existing.xml\"\n";

#[tokio::test(flavor = "multi_thread")]
async fn sloppy_opml_imports_keeping_comments() {
    let setup = Setup::new("", &[]);
    std::fs::write(&setup.config, CONFIG).unwrap();
    let opml = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sloppy.opml");
    let opml = opml.to_str().unwrap();

    let (code, out, err) = setup.run(&["import-opml", opml, "--dry-run"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&setup.config).unwrap(), CONFIG, "a dry run changes nothing");
    assert!(out.contains("would add daily-wire http://127.0.0.1:9/rss2.xml"), "{out}");

    let (code, out, err) = setup.run(&["import-opml", opml]).await;
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "added daily-wire http://127.0.0.1:9/rss2.xml",
            "added atom-tech http://127.0.0.1:9/atom.xml",
            "added 127-0-0-1 http://127.0.0.1:9/feed.json",
            "skipped http://127.0.0.1:9/existing.xml: already configured as `existing`",
            "skipped javascript:alert(1): not an http(s) URL",
        ]
    );
    let text = std::fs::read_to_string(&setup.config).unwrap();
    assert!(text.starts_with(CONFIG), "comments and existing tables are kept:\n{text}");
    assert!(
        text.contains("name = \"daily-wire\"\nurl = \"http://127.0.0.1:9/rss2.xml\"\ntags = [\"World\"]"),
        "{text}"
    );
    assert_eq!(setup.run(&["check-config"]).await.0, 0);

    // Importing again adds nothing.
    let (_, out, _) = setup.run(&["import-opml", opml]).await;
    assert!(!out.contains("added"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn exported_opml_imports_into_an_empty_config() {
    let setup =
        Setup::new("", &[("a", "http://127.0.0.1:9/a.xml".into()), ("b-and-c", "http://127.0.0.1:9/b?x=1&y=2".into())]);
    let (code, exported, _) = setup.run(&["export-opml"]).await;
    assert_eq!(code, 0);
    assert!(exported.starts_with("<?xml") && exported.contains("<opml version=\"2.0\">"), "{exported}");
    let file = setup.dir.path().join("out.opml");
    std::fs::write(&file, &exported).unwrap();

    let fresh = Setup::new("", &[]);
    std::fs::write(&fresh.config, "# nothing yet\n").unwrap();
    let (code, out, err) = fresh.run(&["import-opml", file.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "added a http://127.0.0.1:9/a.xml\nadded b-and-c http://127.0.0.1:9/b?x=1&y=2\n");
    let (_, again, _) = fresh.run(&["export-opml"]).await;
    let body = |t: &str| t.lines().filter(|l| l.contains("<outline")).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(body(&again), body(&exported), "the round trip keeps every feed");
}

/// Tags round-trip: export writes a folder per first tag (the feed's own title as text,
/// once a poll has read it) and the other tags as categories; import reads both back.
#[tokio::test(flavor = "multi_thread")]
async fn tags_survive_an_export_and_import_as_folders() {
    let server = common::Server::start().await;
    server.route("/a.xml", common::Route::feed(common::fixture("rss2.xml"), "application/rss+xml"));
    let setup = Setup::new("", &[]);
    let config = format!(
        "[storage]\ndatabase = \"test.db\"\n[[feed]]\nname = \"a\"\nurl = \"{}\"\ntags = [\"world\", \"daily\"]\n\
         [[feed]]\nname = \"untagged\"\nurl = \"http://127.0.0.1:9/u.xml\"\n",
        server.url("/a.xml")
    );
    std::fs::write(&setup.config, config).unwrap();
    assert_eq!(setup.run(&["poll", "a"]).await.0, 0);
    let (code, exported, err) = setup.run(&["export-opml"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(exported.contains("<outline text=\"world\" title=\"world\">"), "{exported}");
    let feed_title = exported.lines().find(|l| l.contains("/a.xml")).unwrap();
    assert!(!feed_title.contains("text=\"a\"") && feed_title.contains("category=\"daily\""), "{feed_title}");
    let file = setup.dir.path().join("out.opml");
    std::fs::write(&file, &exported).unwrap();

    let fresh = Setup::new("", &[]);
    std::fs::write(&fresh.config, "# nothing yet\n").unwrap();
    let (code, _, err) = fresh.run(&["import-opml", file.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{err}");
    let written = std::fs::read_to_string(&fresh.config).unwrap();
    assert!(written.contains("tags = [\"world\", \"daily\"]"), "{written}");
}

/// Adding feeds rewrites the configuration with its mode, owner and group, whatever the
/// umask of who runs the command (a service user that could read it still can).
#[tokio::test(flavor = "multi_thread")]
async fn editing_the_configuration_keeps_its_mode_and_owner() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let setup = Setup::new("", &[]);
    std::fs::write(&setup.config, CONFIG).unwrap();
    std::fs::set_permissions(&setup.config, std::fs::Permissions::from_mode(0o640)).unwrap();
    // As root (CI), hand it to another owner and group, as /etc/storyline files are.
    let chowned = std::os::unix::fs::chown(&setup.config, Some(65534), Some(65534)).is_ok();
    let opml = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sloppy.opml");
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg("umask 077 && exec \"$0\" --config \"$1\" import-opml \"$2\"")
        .arg(env!("CARGO_BIN_EXE_storyline"))
        .arg(&setup.config)
        .arg(&opml)
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta = std::fs::metadata(&setup.config).unwrap();
    assert!(std::fs::read_to_string(&setup.config).unwrap().contains("daily-wire"), "the feeds were added");
    assert_eq!(meta.permissions().mode() & 0o7777, 0o640, "mode kept under umask 077");
    if chowned {
        assert_eq!((meta.uid(), meta.gid()), (65534, 65534), "owner and group kept");
    }
}
