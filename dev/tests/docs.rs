//! The README and the documents it links: every relative link names a file that exists,
//! and every `#anchor` a heading of that file (GitHub's slugs), so a newcomer following
//! them never lands nowhere.

use std::path::{Path, PathBuf};

/// The repository's root (this crate is `dev/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// GitHub's anchor for a heading: lower case, punctuation but `-` and `_` dropped, spaces
/// made dashes.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings, outside code blocks.
fn anchors(text: &str) -> Vec<String> {
    let mut fenced = false;
    text.lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
            }
            !fenced
        })
        .filter_map(|line| line.strip_prefix('#'))
        .map(|rest| slug(rest.trim_start_matches('#')))
        .collect()
}

/// `(target, line)` of every `](target)` link of a Markdown text.
fn links(text: &str) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            if let Some(end) = rest.find(')') {
                found.push((rest[..end].to_owned(), number + 1));
                rest = &rest[end..];
            }
        }
    }
    found
}

#[test]
fn every_link_of_the_readme_and_the_docs_lands_somewhere() {
    let root = root();
    let mut documents = vec![root.join("README.md"), root.join("dev/ARCHITECTURE.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("dev/docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    assert!(!docs.is_empty());
    documents.extend(docs);
    let mut broken = Vec::new();
    for document in &documents {
        let text = std::fs::read_to_string(document).unwrap();
        for (target, line) in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = match target.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (target.as_str(), None),
            };
            let linked = if file.is_empty() {
                document.clone()
            } else {
                document.parent().unwrap().join(file)
            };
            let shown = format!(
                "{}:{line}: {target}",
                document.strip_prefix(&root).unwrap().display()
            );
            if !linked.exists() {
                broken.push(format!("{shown} (no such file)"));
                continue;
            }
            if let Some(anchor) = anchor {
                let headings = anchors(&std::fs::read_to_string(&linked).unwrap());
                if !headings.iter().any(|h| h == anchor) {
                    broken.push(format!("{shown} (no such heading)"));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "links that land nowhere:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_readme_stays_a_first_read() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 200,
        "README.md has {lines} lines: move reference into dev/docs/"
    );
    for command in ["cargo run -p dev -- generate", "cargo test"] {
        assert!(readme.contains(command), "README.md lost `{command}`");
    }
}

/// Every finding code the source gives (`Finding::new("C106", ...)`, or `Finding::hint`) is
/// listed in the documentation's table, once per kind.
#[test]
fn every_finding_code_is_documented() {
    fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    let mut files = Vec::new();
    sources(&root().join("dev/src"), &mut files);
    let docs = std::fs::read_to_string(root().join("dev/docs/machines.md")).unwrap();
    let mut codes = std::collections::BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let calls = ["Finding::new(", "Finding::hint("]
            .into_iter()
            .flat_map(|call| text.match_indices(call));
        for (at, call) in calls {
            let rest = text[at + call.len()..].trim_start();
            let code = rest
                .strip_prefix('"')
                .and_then(|r| r.split_once('"'))
                .map(|(code, _)| code.to_owned());
            let code =
                code.unwrap_or_else(|| panic!("{}: a finding without a code", file.display()));
            assert!(
                docs.contains(&format!("| `{code}` |")),
                "{code} ({}) is not in dev/docs/machines.md",
                file.display()
            );
            codes.insert(code);
        }
    }
    assert!(codes.len() >= 10, "{codes:?}");
}
