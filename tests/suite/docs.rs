//! No page of the repository names a path that does not exist: every
//! repository path a Markdown file gives in backticks (from the
//! repository's root) or as a link (from the page's folder) is there, and
//! so is every bare file name it gives (`LOCAL.md`, `wiring.rs`: a file of
//! that name somewhere in the repository), so a rename that forgets the
//! docs fails `make test`. DESIGN.md's table of variables is the list
//! `src/config.rs` reads.

use std::fs;
use std::path::{Path, PathBuf};

use nectr_disconnect::config::VARIABLES;

/// Copies of `../shared/spec/`, the contract as the rest of Nectr wrote it:
/// not this repository's to edit.
const NOT_OURS: [&str; 1] = ["docs/CONTRACT.md"];

/// Made by builds and runs, never committed: named by the docs as places
/// where output lands.
const GENERATED: [&str; 6] = [
    "target",
    ".aws-sam",
    ".tools",
    ".venv",
    "node_modules",
    ".git",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every file of the repository, generated folders left out.
fn files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("the folder is readable") {
        let path = entry.expect("an entry").path();
        let relative = path.strip_prefix(root()).unwrap();
        if GENERATED.iter().any(|g| relative.starts_with(g)) {
            continue;
        }
        if path.is_dir() {
            files(&path, found);
        } else {
            found.push(path);
        }
    }
}

/// The Markdown pages among `files`, the contract's copy left out.
fn pages(files: &[PathBuf]) -> Vec<&PathBuf> {
    files
        .iter()
        .filter(|path| {
            path.extension().is_some_and(|e| e == "md")
                && !NOT_OURS
                    .iter()
                    .any(|p| path.strip_prefix(root()).unwrap() == Path::new(p))
        })
        .collect()
}

/// The name of each of `files`.
fn file_names(files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// The names at the repository's root: a backticked token is a path of
/// the repository when it starts with one of them.
fn top_level() -> Vec<String> {
    fs::read_dir(root())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !GENERATED.contains(&name.as_str()))
        .collect()
}

/// Placeholders and patterns (`<stack>`, `*`, `{a,b}`, `…`) name no one file.
fn is_literal(token: &str) -> bool {
    !token.is_empty()
        && !token
            .chars()
            .any(|c| c.is_whitespace() || "<>*{}…$?=:@,".contains(c))
}

/// A page's lines outside fenced code blocks (commands and output there
/// are not references), fences excluded.
fn prose(text: &str) -> impl Iterator<Item = &str> {
    let mut fenced = false;
    text.lines().filter(move |line| {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            return false;
        }
        !fenced
    })
}

/// The backticked tokens of a page and its link targets, outside fenced
/// code blocks (commands and output there are not references).
fn references(text: &str) -> (Vec<String>, Vec<String>) {
    let mut ticked = Vec::new();
    let mut linked = Vec::new();
    for line in prose(text) {
        ticked.extend(line.split('`').skip(1).step_by(2).map(str::to_owned));
        let mut rest = line;
        while let Some(start) = rest.find("](") {
            rest = &rest[start + 2..];
            if let Some(end) = rest.find(')') {
                linked.push(rest[..end].to_owned());
                rest = &rest[end..];
            }
        }
    }
    (ticked, linked)
}

/// What a bare file name ends with: the repository's own kinds of file.
const FILE_KINDS: [&str; 9] = [
    ".md", ".rs", ".toml", ".yaml", ".json", ".sh", ".py", ".mjs", ".conf",
];

/// The bare file names of a page, outside fenced code blocks: words with
/// no folder that end like one of the repository's files.
fn bare_file_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in prose(text) {
        let words = line.split(|c: char| !(c.is_ascii_alphanumeric() || "_.-/".contains(c)));
        names.extend(
            words
                .map(|word| word.trim_end_matches('.'))
                .filter(|word| !word.contains('/') && !word.starts_with('.'))
                .filter(|word| {
                    FILE_KINDS
                        .iter()
                        .any(|kind| word.len() > kind.len() && word.ends_with(kind))
                })
                .map(str::to_owned),
        );
    }
    names
}

/// What `page` names that is not there: `top_level` are the names at the
/// repository's root, `names` those of all its files.
fn missing_paths(page: &Path, top_level: &[String], names: &[String]) -> Vec<String> {
    let text = fs::read_to_string(page).unwrap();
    let (ticked, linked) = references(&text);
    let mut missing = Vec::new();
    for name in bare_file_names(&text) {
        if !names.contains(&name) && !missing.contains(&name) {
            missing.push(name);
        }
    }
    for token in ticked {
        let path = token.trim_end_matches('/');
        let first = path.split('/').next().unwrap_or_default();
        if is_literal(path)
            && top_level.iter().any(|name| name == first)
            && !root().join(path).exists()
        {
            missing.push(format!("`{token}`"));
        }
    }
    for target in linked {
        let path = target.split('#').next().unwrap_or_default();
        if path.is_empty() || path.contains("://") || path.starts_with("mailto:") {
            continue;
        }
        if is_literal(path) && !page.parent().unwrap().join(path).exists() {
            missing.push(format!("({target})"));
        }
    }
    missing
}

#[test]
fn every_path_the_docs_name_exists() {
    let mut all = Vec::new();
    files(root(), &mut all);
    let (found, names, top_level) = (pages(&all), file_names(&all), top_level());
    assert!(found.len() >= 4, "{found:?}");

    let missing: Vec<String> = found
        .iter()
        .flat_map(|page| {
            let name = page.strip_prefix(root()).unwrap().display().to_string();
            missing_paths(page, &top_level, &names)
                .into_iter()
                .map(move |path| format!("{name}: {path}"))
        })
        .collect();

    assert!(
        missing.is_empty(),
        "paths that do not exist:\n{}",
        missing.join("\n")
    );
}

#[test]
fn a_page_naming_a_renamed_file_is_caught() {
    let page = std::env::temp_dir().join(format!("docs-check-{}.md", std::process::id()));
    fs::write(
        &page,
        "See `tests/suite/support/fault_proxy.rs`, `src/lib.rs`, TOOLING.md, wiring.rs and [a link](nowhere.md#x).\n",
    )
    .unwrap();

    let mut all = Vec::new();
    files(root(), &mut all);
    let missing = missing_paths(&page, &top_level(), &file_names(&all));

    fs::remove_file(&page).unwrap();
    assert_eq!(
        missing,
        [
            "TOOLING.md",
            "nowhere.md",
            "`tests/suite/support/fault_proxy.rs`",
            "(nowhere.md#x)"
        ]
    );
}

/// DESIGN.md's configuration table is `config::VARIABLES`, row for row:
/// the variables are named once, in `src/config.rs`.
#[test]
fn the_configuration_table_is_the_list_config_rs_reads() {
    let design = fs::read_to_string(root().join("docs/DESIGN.md")).unwrap();
    let section = design
        .split("\n## Configuration\n")
        .nth(1)
        .expect("DESIGN.md has a Configuration section");
    let table: Vec<&str> = section
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .skip(2)
        .collect();
    let listed: Vec<String> = VARIABLES
        .iter()
        .map(|v| format!("| `{}` | {} | {} |", v.name, v.required, v.means))
        .collect();

    assert_eq!(table, listed);
}
