use super::*;

fn errors(text: &str) -> Vec<String> {
    match Config::parse(Path::new("c.toml"), text) {
        Ok(_) => vec![],
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn defaults_apply_to_an_empty_file() {
    let c = Config::parse(Path::new("/etc/s/c.toml"), "").unwrap();
    assert_eq!(c.fetch.max_concurrent, 32);
    assert_eq!(c.fetch.max_body, 10 << 20);
    assert_eq!(c.server.items, 100);
    assert_eq!(c.server.cache, 32 << 20);
    assert_eq!(c.server.max_connections, 512);
    assert_eq!(c.storage.retention, Some(Duration::from_secs(90 * 86_400)));
    assert!(c.fetch.user_agent.starts_with("storyline/"));
}

#[test]
fn server_limits_are_read_and_checked() {
    let c = Config::parse(Path::new("c.toml"), "[server]\ncache = \"4MiB\"\nmax_connections = 8\n").unwrap();
    assert_eq!((c.server.cache, c.server.max_connections), (4 << 20, 8));
    let e = errors("[server]\nmax_connections = 0\n");
    assert!(e[0].starts_with("c.toml:2:19: max_connections must be between 1"), "{e:?}");
}

#[test]
fn unknown_key_is_located() {
    let e = errors("[fetch]\ntimeout = \"5s\"\n  colour = 1\n");
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("c.toml:3:3: "), "{}", e[0]);
    assert!(e[0].contains("colour"), "{}", e[0]);
}

#[test]
fn semantic_errors_are_all_reported() {
    let text = "[fetch]\nschedule = \"* * *\"\n\n[[feed]]\nname = \"a\"\nurl = \"ftp://x\"\n\n\
                [[feed]]\nname = \"a\"\nurl = \"http://x/\"\nschedule = \"every 0s\"\n";
    let e = errors(text);
    assert_eq!(e.len(), 4, "{e:?}");
    assert!(e[0].starts_with("c.toml:2:12: schedule:"), "{}", e[0]);
    assert!(e[1].starts_with("c.toml:6:7: url:"), "{}", e[1]);
    assert!(e[2].starts_with("c.toml:9:8: duplicate feed name"), "{}", e[2]);
    assert!(e[3].starts_with("c.toml:11:12: schedule:"), "{}", e[3]);
}

#[test]
fn database_is_relative_to_the_config_folder() {
    let c = Config::parse(Path::new("/etc/s/c.toml"), "[storage]\ndatabase = \"x.db\"\n").unwrap();
    assert_eq!(c.storage.database, PathBuf::from("/etc/s/x.db"));
}

#[test]
fn schedules_durations_and_sizes() {
    assert!(matches!("every 20m".parse::<Schedule>(), Ok(Schedule::Every(d)) if d.as_secs() == 1200));
    assert!("*/10 * * * *".parse::<Schedule>().is_ok());
    assert!("30 */10 * * * *".parse::<Schedule>().is_ok());
    assert!("0 9 * * 1-5".parse::<Schedule>().is_ok());
    assert!("* * *".parse::<Schedule>().is_err());
    assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
    assert!(parse_duration("10").is_err());
    assert_eq!(parse_size("512KiB").unwrap(), 512 * 1024);
    assert!(parse_size("10MB").is_err());
}

#[test]
fn crontab_sunday_is_zero() {
    use chrono::{Datelike, TimeZone, Utc};
    let s: Schedule = "0 12 * * 0".parse().unwrap();
    // 2026-11-27 is a Friday; the next Sunday is the 29th.
    let next = s.next_after(Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap());
    assert_eq!((next.day(), next.weekday()), (29, chrono::Weekday::Sun));
}

#[test]
fn keep_and_block_rules_are_compiled_and_bad_patterns_located() {
    let text = "[[filter]]\nblock = { title = \"(?i)sponsored|advertorial\" }\n\n[[feed]]\nname = \"hn\"\nurl = \"http://h.example/f\"\nkeep = { title = \"(?i)rust|sqlite\", category = \"^Programming$\" }\n";
    let c = Config::parse(Path::new("c.toml"), text).unwrap();
    assert_eq!(c.filters.global.block[0].name, "[[filter]] #1 block");
    let hn = &c.filters.feeds["hn"];
    assert_eq!(hn.keep[0].name, "feed `hn` keep");
    assert_eq!(hn.keep[0].patterns.len(), 2);
    let e = errors("[[feed]]\nname = \"a\"\nurl = \"http://a.example/f\"\nblock = { title = \"(unclosed\" }\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("c.toml:4:20: title: invalid regular expression:"), "{e:?}");
    let e = errors("[[filter]]\nblock = { colour = \"red\" }\n");
    assert!(e[0].contains("unknown field `colour`"), "{e:?}");
}

#[test]
fn feed_names_that_look_alike_or_hide_direction_marks_are_refused() {
    let feed = |name: &str| format!("[[feed]]\nname = \"{name}\"\nurl = \"http://x.example/{}\"\n", name.len());
    // "café" composed, then decomposed (e + combining acute): the same name to a reader.
    let e = errors(&format!("{}{}", feed("caf\u{e9}"), feed("cafe\u{301}")));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("duplicate feed name"), "{e:?}");
    let e = errors(&feed("news\u{202e}txt.exe"));
    assert!(e[0].contains("invisible direction or format character") && e[0].contains("\\u{202e}"), "{e:?}");
}

#[test]
fn every_error_is_reported_in_line_order_in_the_users_words() {
    let text = "[fetch]\ncolour = 1\nschedule = \"*/61 * * * *\"\n\n[server]\nitems = \"many\"\nshade = 2\n\n\
                [[feed]]\nname = \"a\"\nurl = \"ftp://x\"\nschedule = \"every 15 minutes\"\n\n[colours]\nred = 1\n";
    let e = errors(text);
    let at: Vec<&str> = e.iter().map(|e| e.split(": ").next().unwrap()).collect();
    assert_eq!(at, ["c.toml:2:1", "c.toml:3:12", "c.toml:6:9", "c.toml:7:1", "c.toml:11:7", "c.toml:14:2"], "{e:#?}");
    assert!(e[0].contains("unknown field `colour`"), "{}", e[0]);
    assert!(e[1].contains("minute field `*/61`: a step of 61 is out of range 1-59"), "{}", e[1]);
    assert!(!e[1].contains("0 */61"), "no field the user did not write: {}", e[1]);
    assert!(e[2].contains("invalid type"), "{}", e[2]);
    assert!(e[5].contains("unknown field `colours`"), "{}", e[5]);
    // `every 15 minutes` is a valid interval now: no error for it.
    assert!(!e.iter().any(|e| e.contains("minutes")), "{e:#?}");
}

#[test]
fn durations_read_as_people_write_them() {
    use crate::model::parse_duration;
    assert_eq!(parse_duration("15 minutes"), Ok(Duration::from_secs(900)));
    assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
    assert_eq!(parse_duration("2 days"), Ok(Duration::from_secs(172_800)));
    let e = parse_duration("15 fortnights").unwrap_err();
    assert!(e.starts_with("`fortnights` in `15 fortnights` is not a unit of time"), "{e}");
    assert!(parse_duration("15").unwrap_err().contains("lacks a unit"));
}

#[test]
fn a_missing_file_says_how_to_name_one() {
    let e = Config::load(Path::new("/nonexistent/storyline.toml")).unwrap_err().to_string();
    assert!(e.starts_with("/nonexistent/storyline.toml: cannot read the configuration"), "{e}");
    assert!(e.contains("--config") && e.contains("config.toml.example"), "{e}");
}
