//! A feed's `user_agent`, `headers` and `auth` keys, validated into a [`model::Access`]:
//! header names and values that HTTP accepts and storyline does not set itself, and a
//! password read from an environment variable or a file, never from the configuration.
//! Secrets are read here, when the configuration is loaded (so `check-config` finds a
//! missing one), and wrapped at once in [`Secret`].
//!
//! [`model::Access`]: crate::model::Access

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::Checker;
use crate::model::{Access, Basic, Secret};

/// Headers storyline sets itself: a feed's `headers` may not replace them.
const OWN_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "accept-encoding",
    "if-none-match",
    "if-modified-since",
    "user-agent",
    "authorization",
];

/// `[feed.auth]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAuth {
    username: Spanned<String>,
    password_env: Option<Spanned<String>>,
    password_file: Option<Spanned<String>>,
    /// Read only to refuse it with a clear message.
    password: Option<Spanned<toml::Value>>,
}

/// A header value: written out, or read from the environment or a file (for keys).
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawValue {
    Text(String),
    Env { env: String },
    File { file: String },
}

/// The keys of one `[[feed]]` that make up its access.
pub(super) struct RawAccess<'a> {
    pub user_agent: &'a Option<Spanned<String>>,
    pub headers: &'a Option<Spanned<BTreeMap<String, RawValue>>>,
    pub auth: &'a Option<Spanned<RawAuth>>,
}

/// Validates a feed's access keys; `dir` is the configuration's folder (relative files are
/// read from there). Errors are reported on `c`.
pub(super) fn build(c: &mut Checker<'_>, dir: &Path, feed: &str, raw: RawAccess<'_>) -> Access {
    let mut access = Access::default();
    if let Some(ua) = raw.user_agent {
        let text = ua.get_ref().trim();
        if text.is_empty() || reqwest::header::HeaderValue::from_str(text).is_err() {
            c.error(ua.span(), format!("feed `{feed}`: user_agent must be non-empty text without control characters"));
        } else {
            access.user_agent = Some(text.to_string());
        }
    }
    if let Some(headers) = raw.headers {
        for (name, value) in headers.get_ref() {
            let lower = name.to_ascii_lowercase();
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                c.error(headers.span(), format!("feed `{feed}`: `{name}` is not a header name"));
                continue;
            }
            if OWN_HEADERS.contains(&lower.as_str()) {
                let instead = match lower.as_str() {
                    "user-agent" => " (use the feed's user_agent key)",
                    "authorization" => " (use [feed.auth] for basic auth, or a header of the source's own name)",
                    _ => "",
                };
                c.error(headers.span(), format!("feed `{feed}`: storyline sets the `{name}` header itself{instead}"));
                continue;
            }
            let value = match value {
                RawValue::Text(text) => Ok(text.clone()),
                RawValue::Env { env } => from_env(env),
                RawValue::File { file } => from_file(dir, file),
            };
            match value {
                Ok(v) if reqwest::header::HeaderValue::from_str(&v).is_ok() => {
                    access.headers.push((name.clone(), Secret::new(v)));
                }
                // The value is never quoted: it may be a key.
                Ok(_) => c.error(
                    headers.span(),
                    format!("feed `{feed}`: the value of header `{name}` has characters HTTP does not allow"),
                ),
                Err(e) => c.error(headers.span(), format!("feed `{feed}`: header `{name}`: {e}")),
            }
        }
    }
    if let Some(auth) = raw.auth {
        access.basic = basic(c, dir, feed, auth);
    }
    access
}

fn basic(c: &mut Checker<'_>, dir: &Path, feed: &str, auth: &Spanned<RawAuth>) -> Option<Basic> {
    let a = auth.get_ref();
    if let Some(written) = &a.password {
        c.error(
            written.span(),
            format!("feed `{feed}`: a password is not written in the configuration: name where to read it with password_env (an environment variable) or password_file (a file)"),
        );
        return None;
    }
    let username = a.username.get_ref();
    if username.is_empty() || username.contains(':') || username.chars().any(char::is_control) {
        c.error(
            a.username.span(),
            format!("feed `{feed}`: auth username must be non-empty, without `:` or control characters"),
        );
        return None;
    }
    let password = match (&a.password_env, &a.password_file) {
        (Some(env), None) => from_env(env.get_ref()).map_err(|e| (env.span(), e)),
        (None, Some(file)) => from_file(dir, file.get_ref()).map_err(|e| (file.span(), e)),
        _ => Err((auth.span(), "auth needs exactly one of password_env and password_file".to_string())),
    };
    match password {
        Ok(password) => Some(Basic { username: username.clone(), password: Secret::new(password) }),
        Err((span, e)) => {
            c.error(span, format!("feed `{feed}`: {e}"));
            None
        }
    }
}

/// A secret from the environment variable `name`.
fn from_env(name: &str) -> Result<String, String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Ok(v),
        Ok(_) => Err(format!("the environment variable {name} is empty")),
        Err(std::env::VarError::NotPresent) => Err(format!("the environment variable {name} is not set")),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("the environment variable {name} is not UTF-8")),
    }
}

/// A secret from the file at `path` (relative to `dir`), without its final line break
/// (systemd credentials and `echo` leave one).
fn from_file(dir: &Path, path: &str) -> Result<String, String> {
    let full = dir.join(path);
    let text = std::fs::read_to_string(&full).map_err(|e| format!("cannot read {}: {e}", full.display()))?;
    let value = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text);
    if value.is_empty() {
        return Err(format!("{} is empty", full.display()));
    }
    Ok(value.to_string())
}
