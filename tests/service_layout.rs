//! The commands an administrator types beside the service find the service's database:
//! the unit's layout (`/etc/storyline/config.toml`, the database in the state directory
//! `/var/lib/storyline`) rebuilt under a temporary root. Read-only commands never create
//! a database, and say where they looked when there is none.

mod common;

use std::path::Path;

use common::{fixture, Route, Server};
use serde_json::Value;

/// Runs the real binary with `--config config` and only the given extra environment.
async fn storyline(config: &Path, args: &[&str], env: &[(&str, &Path)]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("STORYLINE_CONFIG")
        .env_remove("STORYLINE_DATABASE")
        .env_remove("STATE_DIRECTORY")
        .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())))
        .output()
        .await
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[tokio::test]
async fn commands_beside_the_service_read_its_database() {
    let feeds = Server::start().await;
    feeds.route("/a.xml", Route::feed(fixture("rss2.xml"), "application/rss+xml"));
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc/storyline");
    let state = root.path().join("var/lib/storyline");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::create_dir_all(&state).unwrap();
    let config = etc.join("config.toml");
    std::fs::write(&config, format!("[[feed]]\nname = \"a\"\nurl = \"{}\"\n", feeds.url("/a.xml"))).unwrap();

    // The service polls with the state directory systemd gives it.
    let (code, _, err) = storyline(&config, &["poll"], &[("STATE_DIRECTORY", &state)]).await;
    assert_eq!(code, 0, "{err}");
    assert!(state.join("storyline.db").exists());

    // The administrator's command, without $STATE_DIRECTORY, reads the same database.
    let (code, out, err) = storyline(&config, &["feeds", "--json"], &[]).await;
    assert_eq!(code, 0, "{err}");
    let feeds: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(feeds[0]["last_status"], "ok", "{out}");
    assert_eq!(feeds[0]["items"], 3);
    let (code, out, _) = storyline(&config, &["export", "items"], &[]).await;
    assert_eq!((code, out.lines().count()), (0, 3));
    let beside: Vec<_> = std::fs::read_dir(&etc).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(beside, ["config.toml"], "nothing is created beside the configuration");

    // --database names another one.
    let elsewhere = root.path().join("elsewhere.db");
    let (code, _, err) = storyline(&config, &["--database", elsewhere.to_str().unwrap(), "feeds"], &[]).await;
    assert_eq!(code, 1);
    assert!(err.contains(&format!("no database at {}", elsewhere.display())) && err.contains("--database"), "{err}");
    assert!(!elsewhere.exists());
}

#[tokio::test]
async fn read_only_commands_never_create_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[[feed]]\nname = \"a\"\nurl = \"http://127.0.0.1:9/a.xml\"\n").unwrap();
    for args in [&["feeds"][..], &["series"], &["export", "items"], &["explain", "1"], &["render"]] {
        let (code, out, err) = storyline(&config, args, &[]).await;
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        let database = dir.path().join("storyline.db");
        assert!(err.contains(&format!("no database at {}", database.display())), "{args:?}: {err}");
        assert!(err.contains("beside the configuration"), "it says why it looked there: {err}");
        assert_eq!(err.matches("no database").count(), 1, "said once: {err}");
    }
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(files, ["config.toml"], "no database, no lock file");
    // export-opml needs none.
    let (code, out, err) = storyline(&config, &["export-opml"], &[]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("xmlUrl=\"http://127.0.0.1:9/a.xml\""), "{out}");
}

/// Output to a reader that went away (`storyline ... | head`) ends quietly.
#[test]
fn a_closed_pipe_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[[feed]]\nname = \"a\"\nurl = \"http://127.0.0.1:9/a.xml\"\n").unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--config")
        .arg(&config)
        .arg("export-opml")
        .stdout(writer)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.is_empty(), "nothing said about the pipe: {err}");
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_named_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    std::fs::write(dir.path().join("storyline.db"), "plain text, not SQLite").unwrap();
    let (code, _, err) = storyline(&config, &["feeds"], &[]).await;
    assert_eq!(code, 1);
    assert!(err.contains("cannot open the database") && err.contains("not a database"), "{err}");
    assert_eq!(err.matches("cannot open the database").count(), 1, "each cause once: {err}");
}
