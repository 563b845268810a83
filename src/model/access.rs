//! What one source needs besides its URL: a User-Agent of its own, extra request headers
//! and basic auth. Plain data, like the rest of `model`: `config` builds it (reading
//! secrets from the environment or files), `fetch` sends it. A [`Secret`] has no way out
//! but [`Secret::expose`]: its `Debug` is redacted and it is not serializable, so a
//! password or a header value cannot reach a log line, a page or the API by accident.

use std::fmt;

/// A value that must never be shown: a password, or a header value (which may be a key).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value read from the environment, a file or the configuration.
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

/// Basic auth (RFC 7617) for one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basic {
    /// The user name (it may be shown: it is not a secret).
    pub username: String,
    /// The password.
    pub password: Secret,
}

/// How storyline asks one source for its feed, beyond the URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// Replaces `[fetch] user_agent` for this source.
    pub user_agent: Option<String>,
    /// Extra request headers, by name.
    pub headers: Vec<(String, Secret)>,
    /// Basic auth.
    pub basic: Option<Basic>,
}

impl Access {
    /// Whether it asks for nothing beyond the defaults.
    pub fn is_default(&self) -> bool {
        self.user_agent.is_none() && self.headers.is_empty() && self.basic.is_none()
    }

    /// Whether it carries anything that is sent only to the configured origin (headers,
    /// credentials).
    pub fn has_credentials(&self) -> bool {
        !self.headers.is_empty() || self.basic.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_in_debug_output() {
        let access = Access {
            user_agent: None,
            headers: vec![("X-Api-Key".into(), Secret::new("key-123".into()))],
            basic: Some(Basic { username: "ann".into(), password: Secret::new("hunter2".into()) }),
        };
        let shown = format!("{access:?} {access:#?}");
        assert!(!shown.contains("key-123") && !shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("ann") && shown.contains("X-Api-Key"));
    }
}
