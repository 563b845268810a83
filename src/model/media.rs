//! What an entry carries besides its text: enclosures (a podcast episode, a video), its
//! image, and the link to its comments. Plain data, like the rest of `model`: `parse`
//! fills it, `store` keeps it, `render` republishes it. Every URL in it is an absolute
//! http(s) URL; the parser drops the rest.

use serde::{Deserialize, Serialize};

/// An entry's media, as the source gave it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// Attached files in document order (RSS `<enclosure>`, Media RSS `media:content`,
    /// Atom `link rel="enclosure"`, JSON Feed `attachments`), each URL once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enclosures: Vec<Enclosure>,
    /// The image that stands for the entry (a thumbnail, JSON Feed's `image`, else the
    /// first image among the enclosures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    /// The page of its comments (RSS `<comments>`, Atom `link rel="replies"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
}

impl Media {
    /// Whether the source gave none of it.
    pub fn is_empty(&self) -> bool {
        self.enclosures.is_empty() && self.image.is_none() && self.comments.is_none()
    }
}

/// One attached file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enclosure {
    /// Where it is.
    pub url: String,
    /// Its MIME type, as the source declared it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Its size in bytes, when declared (and not zero).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// How long it plays, in seconds, when declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
    /// Its title, when declared (JSON Feed attachments, Atom link titles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl Enclosure {
    /// Whether it is an image, by its declared type.
    pub fn is_image(&self) -> bool {
        self.mime_type.as_deref().is_some_and(|t| t.starts_with("image/"))
    }

    /// Its MIME type, else one guessed from the URL's extension, else
    /// `application/octet-stream` (JSON Feed requires one; podcast clients pick the
    /// enclosure they can play by it).
    pub fn mime_type_or_guess(&self) -> &str {
        if let Some(t) = self.mime_type.as_deref() {
            return t;
        }
        let path = self.url.split(['?', '#']).next().unwrap_or_default();
        let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        match extension.as_str() {
            "mp3" => "audio/mpeg",
            "m4a" => "audio/mp4",
            "ogg" | "oga" => "audio/ogg",
            "opus" => "audio/opus",
            "mp4" | "m4v" => "video/mp4",
            "webm" => "video/webm",
            "jpg" | "jpeg" => "image/jpeg",
            "png" => "image/png",
            "gif" => "image/gif",
            "webp" => "image/webp",
            "pdf" => "application/pdf",
            "txt" => "text/plain",
            _ => "application/octet-stream",
        }
    }
}

/// An image with its size when the source gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// Where it is.
    pub url: String,
    /// Width in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_type_is_guessed_from_the_extension() {
        let e =
            |url: &str| Enclosure { url: url.into(), mime_type: None, length: None, duration_secs: None, title: None };
        assert_eq!(e("http://x.example/ep1.MP3?dl=1").mime_type_or_guess(), "audio/mpeg");
        assert_eq!(e("http://x.example/file").mime_type_or_guess(), "application/octet-stream");
        let declared = Enclosure { mime_type: Some("audio/x-m4a".into()), ..e("http://x.example/a.mp3") };
        assert_eq!(declared.mime_type_or_guess(), "audio/x-m4a");
        assert!(!declared.is_image());
    }
}
