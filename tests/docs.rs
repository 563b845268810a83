//! The README's command list is the CLI's: every subcommand `storyline --help` lists is
//! in the README's Commands block and nothing else is, and every global option is
//! documented. A command added or renamed without its README line fails here.

use std::collections::BTreeSet;

fn help() -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_storyline")).arg("--help").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn readme() -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The names of a listing's entries: lines indented by exactly two spaces, first word.
fn names<'a>(lines: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    lines
        .filter(|l| l.starts_with("  ") && l.chars().nth(2).is_some_and(|c| c.is_ascii_lowercase()))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn the_readme_lists_every_command_and_option_of_the_cli() {
    let help = help();
    let commands = help.split("Commands:").nth(1).unwrap().split("Options:").next().unwrap();
    let mut cli = names(commands.lines());
    cli.remove("help");
    let readme = readme();
    let block = readme.split("## Commands").nth(1).unwrap().split("```").nth(1).unwrap();
    let documented = names(block.lines());
    assert_eq!(documented, cli, "the README's Commands block against `storyline --help`");
    let options: Vec<&str> = help
        .split("Options:")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .filter(|w| w.starts_with("--") && !matches!(*w, "--help" | "--version"))
        .collect();
    assert!(!options.is_empty());
    for option in options {
        assert!(block.contains(option), "{option} is missing from the README's Commands block");
    }
}

/// Every key the example configuration sets (or shows commented out) has its row in the
/// README's configuration reference, under its table's name.
#[test]
fn the_readme_documents_every_key_of_the_example_config() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let example = std::fs::read_to_string(root.join("config.toml.example")).unwrap();
    let readme = readme();
    let reference = readme.split("## Configuration reference").nth(1).unwrap();
    let mut table = String::new();
    let mut keys = BTreeSet::new();
    for line in example.lines() {
        let line = line.trim_start_matches('#').trim();
        if line.starts_with('[') {
            table = line.to_string();
            continue;
        }
        let Some((key, _)) = line.split_once(" = ") else { continue };
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            continue;
        }
        keys.insert(match table.as_str() {
            t if t.starts_with("[[") => format!("{t} {key}"),
            t => format!("{}.{key}", t.trim_matches(['[', ']'])),
        });
    }
    assert!(keys.len() > 15, "{keys:?}");
    for key in keys {
        let row = match key.split_once(' ') {
            // `[[feed]] keep`, `block` share a row.
            Some((t, k)) => {
                reference.contains(&format!("`{t} {k}`")) || reference.contains(&format!("`{t} keep`, `{k}`"))
            }
            None => reference.contains(&format!("`{key}`")),
        };
        assert!(row, "{key} is set in config.toml.example but has no row in the README's reference");
    }
}
