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
        if let Some(problem) = out_of_range(&fields) {
            return Err(problem);
        }
        // The expression as the user wrote it: the seconds field added for the `cron`
        // crate is not theirs.
        let schedule = cron::Schedule::from_str(&expr).map_err(|_| {
            format!("`{text}` is not a crontab line: expected minute hour day-of-month month day-of-week, as `*/15 * * * *`")
        })?;
        Ok(Schedule::Cron { source: text.to_string(), schedule: Box::new(schedule) })
    }
}

/// The first number of a crontab line (5 fields, or 6 with seconds first) outside its
/// field's range, as a sentence naming the field; steps (`*/N`) must be within it too.
fn out_of_range(fields: &[&str]) -> Option<String> {
    const FIVE: [(&str, u32, u32); 5] =
        [("minute", 0, 59), ("hour", 0, 23), ("day-of-month", 1, 31), ("month", 1, 12), ("day-of-week", 0, 7)];
    let ranges: Vec<(&str, u32, u32)> = match fields.len() {
        5 => FIVE.to_vec(),
        6 => std::iter::once(("second", 0, 59)).chain(FIVE).collect(),
        _ => return None,
    };
    for (field, (name, low, high)) in fields.iter().zip(ranges) {
        for part in field.split(',') {
            let (values, step) = part.split_once('/').map_or((part, None), |(v, s)| (v, Some(s)));
            if let Some(step) = step.and_then(|s| s.parse::<u32>().ok()) {
                if step == 0 || step > high {
                    return Some(format!("{name} field `{field}`: a step of {step} is out of range 1-{high}"));
                }
            }
            for n in values.split('-').filter_map(|v| v.parse::<u32>().ok()) {
                if n < low || n > high {
                    return Some(format!("{name} field `{field}`: {n} is out of range {low}-{high}"));
                }
            }
        }
    }
    None
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
    let example = "e.g. `30s`, `15m`, `2h`, `7d`";
    if text.is_empty() {
        return Err(format!("empty duration; expected {example}"));
    }
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("`{text}` is not a duration; expected {example}"));
        }
        let n: u64 = rest[..digits].parse().map_err(|_| format!("`{text}`: the number is too large"))?;
        let after = rest[digits..].trim_start();
        let word = after.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(after.len());
        let unit = match after[..word].to_ascii_lowercase().as_str() {
            "s" | "sec" | "secs" | "second" | "seconds" => 1,
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            "" => return Err(format!("`{text}` lacks a unit; use s, m, h or d ({example})")),
            other => return Err(format!("`{other}` in `{text}` is not a unit of time; use s, m, h or d ({example})")),
        };
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or("duration too large")?;
        rest = after[word..].trim_start();
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
