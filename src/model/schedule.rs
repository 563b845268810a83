//! Feed schedules and the duration and size notations of the configuration: parsing
//! and display only. Plain data, like the rest of `model`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// When a feed is polled: a cron expression or a fixed interval.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// A crontab line (5 fields, or 6 with seconds first), kept with its source text.
    Cron {
        /// The expression as the user wrote it.
        source: String,
        /// The parsed form, always 6 fields (seconds first) in the `cron` crate's dialect.
        schedule: Box<cron::Schedule>,
    },
    /// `every 20m`: a fixed interval from the previous poll.
    Every(Duration),
}

impl Schedule {
    /// The first poll time strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Schedule::Cron { schedule, .. } => schedule
                .after(&after)
                .next()
                // A valid expression that never fires again (a past year) means "never":
                // a century ahead keeps arithmetic simple.
                .unwrap_or_else(|| after + chrono::Duration::days(36_500)),
            Schedule::Every(every) => after + chrono::Duration::from_std(*every).unwrap_or(chrono::Duration::days(1)),
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Cron { source, .. } => f.write_str(source),
            Schedule::Every(d) => write!(f, "every {}s", d.as_secs()),
        }
    }
}

impl FromStr for Schedule {
    type Err = String;

    /// Accepts `every 20m`, a 5-field crontab line (minute first), a 6-field line with
    /// seconds first, or the `@hourly`-style shorthands. Day-of-week numbers follow crontab
    /// (0 or 7 = Sunday), not the `cron` crate's 1 = Sunday.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("every ") {
            let every = parse_duration(rest.trim())?;
            if every.is_zero() {
                return Err("an interval must be longer than zero".into());
            }
            return Ok(Schedule::Every(every));
        }
        let fields: Vec<&str> = text.split_whitespace().collect();
        let expr = match fields.len() {
            1 if text.starts_with('@') => text.to_string(),
            5 => format!("0 {} {} {} {} {}", fields[0], fields[1], fields[2], fields[3], crontab_dow(fields[4])?),
            6 => format!(
                "{} {} {} {} {} {}",
                fields[0],
                fields[1],
                fields[2],
                fields[3],
                fields[4],
                crontab_dow(fields[5])?
            ),
            n => {
                return Err(format!(
                    "expected a crontab line of 5 fields (or 6 with seconds) or `every N[smhd]`, found {n} field(s)"
                ))
            }
        };
        let schedule = cron::Schedule::from_str(&expr).map_err(|e| format!("invalid cron expression: {e}"))?;
        Ok(Schedule::Cron { source: text.to_string(), schedule: Box::new(schedule) })
    }
}

/// Rewrites crontab day-of-week numbers (0-7, Sunday = 0 or 7) as names, which mean the
/// same in the `cron` crate; leaves names, `*` and `?` alone.
fn crontab_dow(field: &str) -> Result<String, String> {
    const NAMES: [&str; 8] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
    let mut out = String::with_capacity(field.len() + 8);
    let mut chars = field.chars().peekable();
    let mut after_slash = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() && !after_slash {
            let mut num = c.to_string();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                num.push(*d);
                chars.next();
            }
            let n: usize = num.parse().map_err(|_| format!("bad day of week `{num}`"))?;
            let name = NAMES.get(n).ok_or_else(|| format!("day of week {n} is out of range 0-7"))?;
            out.push_str(name);
        } else {
            after_slash = c == '/' || (after_slash && c.is_ascii_digit());
            out.push(c);
        }
    }
    Ok(out)
}

/// Parses `90d`, `30s`, `1h30m`: one or more number+unit pairs, units `s`, `m`, `h`, `d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration; expected e.g. `30s`, `15m`, `2h`, `7d`".into());
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            ' ' => continue,
            other => return Err(format!("unknown duration unit `{other}` in `{text}`; use s, m, h or d")),
        };
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("`{text}` is not a duration; expected e.g. `30s`, `15m`, `2h`, `7d`"))?;
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or("duration too large")?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(format!("`{text}` lacks a unit; use s, m, h or d (e.g. `{text}s`)"));
    }
    Ok(Duration::from_secs(total))
}

/// Parses `10MiB`, `512KiB`, `1GiB` or a plain byte count.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("`{text}` is not a size; expected e.g. `512KiB` or `10MiB`"))?;
    let mult = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => return Err(format!("unknown size unit `{other}`; use B, KiB, MiB or GiB")),
    };
    n.checked_mul(mult).ok_or_else(|| "size too large".into())
}
