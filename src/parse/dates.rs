//! Dates as feeds write them when they do not follow RFC 822 or RFC 3339: missing
//! seconds or zones, zone names, ISO without `T`, spelled-out months and weekdays.
//! Pure. A date that cannot be read is `None`, never an error.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Zone names seen in feeds, as hours east of UTC.
const ZONES: &[(&str, i32)] = &[
    ("UT", 0),
    ("UTC", 0),
    ("GMT", 0),
    ("Z", 0),
    ("EST", -5),
    ("EDT", -4),
    ("CST", -6),
    ("CDT", -5),
    ("MST", -7),
    ("MDT", -6),
    ("PST", -8),
    ("PDT", -7),
    ("BST", 1),
    ("CET", 1),
    ("CEST", 2),
    ("EET", 2),
    ("EEST", 3),
    ("MSK", 3),
    ("IST", 5),
    ("JST", 9),
    ("KST", 9),
    ("AEST", 10),
    ("AEDT", 11),
];

/// Layouts tried after the zone has been taken off, most common first.
const LAYOUTS: &[&str] = &[
    "%d %b %Y %H:%M:%S",
    "%d %b %Y %H:%M",
    "%d %B %Y %H:%M:%S",
    "%d %B %Y %H:%M",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%B %d %Y %H:%M:%S",
    "%B %d %Y %I:%M:%S %p",
    "%B %d %Y %I:%M %p",
    "%B %d %Y %H:%M",
    "%b %d %Y %H:%M:%S",
    "%b %d %Y %I:%M %p",
    "%Y/%m/%d %H:%M:%S",
    "%d.%m.%Y %H:%M",
];

const DAY_LAYOUTS: &[&str] = &["%Y-%m-%d", "%d %b %Y", "%d %B %Y", "%B %d %Y", "%b %d %Y", "%Y/%m/%d", "%d.%m.%Y"];

/// Reads a date in any of the forms feeds use; a date without a zone is taken as UTC.
pub fn parse(raw: &str) -> Option<DateTime<Utc>> {
    let s = raw.trim();
    if s.is_empty() || s.len() > 80 {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.with_timezone(&Utc));
    }
    let (rest, offset) = split_zone(s);
    let cleaned = clean(rest);
    let naive = LAYOUTS.iter().find_map(|l| NaiveDateTime::parse_from_str(&cleaned, l).ok()).or_else(|| {
        DAY_LAYOUTS
            .iter()
            .find_map(|l| NaiveDate::parse_from_str(&cleaned, l).ok())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })?;
    let zone = FixedOffset::east_opt(offset.unwrap_or(0))?;
    zone.from_local_datetime(&naive).single().map(|d| d.with_timezone(&Utc))
}

/// Takes a trailing zone (name, `+hhmm`, `+hh:mm`, or `Z`) off, returning its offset in
/// seconds.
fn split_zone(s: &str) -> (&str, Option<i32>) {
    if let Some(rest) = s.strip_suffix('Z').filter(|r| r.ends_with(|c: char| c.is_ascii_digit())) {
        return (rest, Some(0));
    }
    let Some(i) = s.rfind([' ', '+', '-']) else { return (s, None) };
    let tail = &s[i..];
    let word = tail.trim_start();
    if let Some((_, hours)) = ZONES.iter().find(|(name, _)| word.eq_ignore_ascii_case(name)) {
        return (s[..i].trim_end(), Some(hours * 3600));
    }
    let sign = match tail.chars().next() {
        Some('+') => 1,
        Some('-') => -1,
        _ => return (s, None),
    };
    let digits: String = tail[1..].chars().filter(|c| *c != ':').collect();
    // A date's own dashes ("2024-06-03") are not zones: a zone follows a time.
    if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) || !s[..i].contains(':') {
        return (s, None);
    }
    let hours: i32 = digits[..2].parse().ok().unwrap_or(0);
    let minutes: i32 = digits[2..].parse().ok().unwrap_or(0);
    (s[..i].trim_end(), Some(sign * (hours * 3600 + minutes * 60)))
}

/// Drops a leading weekday and commas, and collapses spaces.
fn clean(s: &str) -> String {
    let mut words: Vec<&str> = s.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).collect();
    let weekday = |w: &str| {
        let w = w.trim_end_matches('.').to_ascii_lowercase();
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].iter().any(|d| w.starts_with(d)) && w.len() <= 9
    };
    if words.first().is_some_and(|w| weekday(w)) {
        words.remove(0);
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(raw: &str) -> Option<String> {
        parse(raw).map(|d| d.to_rfc3339())
    }

    #[test]
    fn loose_dates_are_read() {
        let cases = [
            ("Mon, 03 Jun 2024 10:00:00 +0200", "2024-06-03T08:00:00+00:00"),
            ("Mon, 3 Jun 2024 10:00 EST", "2024-06-03T15:00:00+00:00"),
            ("2024-06-03 10:00:00", "2024-06-03T10:00:00+00:00"),
            ("2024-06-03T10:00:00+02:00", "2024-06-03T08:00:00+00:00"),
            ("2024-06-03T10:00:00", "2024-06-03T10:00:00+00:00"),
            ("2024-06-03", "2024-06-03T00:00:00+00:00"),
            ("Monday, June 3, 2024 10:00 AM", "2024-06-03T10:00:00+00:00"),
            ("03 Jun 2024 10:00:00 GMT", "2024-06-03T10:00:00+00:00"),
            ("Tue, 4 Jun 2024 23:59:59 -07:00", "2024-06-05T06:59:59+00:00"),
            ("June 3, 2024", "2024-06-03T00:00:00+00:00"),
        ];
        for (raw, want) in cases {
            assert_eq!(iso(raw).as_deref(), Some(want), "{raw}");
        }
    }

    #[test]
    fn nonsense_is_none() {
        for raw in ["", "not a date at all", "32 Foo 2024", "2024-13-45", "-", "+0200", "é"] {
            assert_eq!(iso(raw), None, "{raw}");
        }
    }
}
