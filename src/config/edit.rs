//! The one place the configuration file is rewritten: `import-opml` and `add` append
//! `[[feed]]` tables through toml_edit, which keeps the user's comments and layout.

use toml_edit::{value, Array, ArrayOfTables, DocumentMut, Item, Table};

/// A feed to add to the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFeed {
    /// Unique name.
    pub name: String,
    /// Its URL.
    pub url: String,
    /// Tags (OPML folders).
    pub tags: Vec<String>,
    /// Its own schedule, if not the default one.
    pub schedule: Option<String>,
    /// Its title, as the OPML outline gave it.
    pub title: Option<String>,
}

/// Why the file could not be edited.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The text is not TOML.
    #[error("the configuration is not valid TOML: {0}")]
    Toml(#[from] toml_edit::TomlError),
    /// `feed` exists but is not an array of tables.
    #[error("`feed` in the configuration is not a list of [[feed]] tables")]
    NotTables,
}

/// `source` with `feeds` appended as `[[feed]]` tables; everything else is kept as written.
pub fn append_feeds(source: &str, feeds: &[NewFeed]) -> Result<String, EditError> {
    let mut doc: DocumentMut = source.parse()?;
    let list = doc.entry("feed").or_insert(Item::ArrayOfTables(ArrayOfTables::new()));
    let list = list.as_array_of_tables_mut().ok_or(EditError::NotTables)?;
    for feed in feeds {
        let mut table = Table::new();
        table["name"] = value(&feed.name);
        table["url"] = value(&feed.url);
        if !feed.tags.is_empty() {
            table["tags"] = value(feed.tags.iter().collect::<Array>());
        }
        if let Some(schedule) = &feed.schedule {
            table["schedule"] = value(schedule);
        }
        if let Some(title) = &feed.title {
            table["title"] = value(title);
        }
        list.push(table);
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_existing_tables_are_kept() {
        let source = "# my feeds\n[fetch]\ntimeout = \"5s\" # short\n\n[[feed]]\n# the first\nname = \"a\"\nurl = \"http://a.example/\"\n";
        let out = append_feeds(
            source,
            &[NewFeed {
                name: "b".into(),
                url: "http://b.example/".into(),
                tags: vec!["x".into()],
                schedule: None,
                title: None,
            }],
        )
        .unwrap();
        assert!(out.starts_with(source), "{out}");
        assert!(out.ends_with("\n[[feed]]\nname = \"b\"\nurl = \"http://b.example/\"\ntags = [\"x\"]\n"), "{out}");
        let empty = append_feeds(
            "",
            &[NewFeed { name: "b".into(), url: "http://b.example/".into(), tags: vec![], schedule: None, title: None }],
        )
        .unwrap();
        assert_eq!(empty, "[[feed]]\nname = \"b\"\nurl = \"http://b.example/\"\n");
        assert!(matches!(append_feeds("feed = 1\n", &[]), Err(EditError::NotTables)));
    }
}
