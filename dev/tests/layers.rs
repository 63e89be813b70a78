//! The tree is the architecture: the modules of `dev/src/` are layers, and a module uses only
//! its own layer and the ones below it, with no cycle between files. This test reads the
//! sources and fails naming the file and the import that breaks the rule, so the layering in
//! `dev/ARCHITECTURE.md` stays true as the code changes. It also keeps every file of
//! `dev/src/` and every `.rs` file under `dev/tests/` under `MAX_LINES`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom first, as `lib.rs` and `dev/ARCHITECTURE.md` list them.
const LAYERS: [&str; 13] = [
    "error",
    "support",
    "sqlite",
    "schema",
    "project",
    "history",
    "generate",
    "prove",
    "apply",
    "workspace",
    "fleet",
    "commands",
    "main",
];

/// A source or test file over this many lines mixes concerns; split it by what it does.
const MAX_LINES: usize = 520;

struct Module {
    path: String,
    /// The code without its `#[cfg(test)]` module, which may use anything.
    code: String,
    lines: usize,
}

fn modules() -> BTreeMap<String, Module> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = BTreeMap::new();
    let mut pending = vec![src.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap().with_extension("");
            let mut segments: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if segments.last().is_some_and(|s| s == "mod") {
                segments.pop();
            }
            let name = segments.join("::");
            let text = std::fs::read_to_string(&path).unwrap();
            let code = match text.find("#[cfg(test)]\nmod tests") {
                Some(at) => text[..at].to_owned(),
                None => text.clone(),
            };
            let module = Module {
                path: path.strip_prefix(&src).unwrap().display().to_string(),
                code,
                lines: text.lines().count(),
            };
            found.insert(name, module);
        }
    }
    found
}

/// Every path `crate::...` or `super::...` in `code`, as absolute segments.
fn references(module: &str, code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(start).map(|i| i + from) {
            from = at + start.len();
            if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
                continue;
            }
            let base: Vec<String> = if start == "crate::" {
                Vec::new()
            } else {
                let mut parent: Vec<String> = module.split("::").map(str::to_owned).collect();
                parent.pop();
                parent
            };
            for path in expand(&code[from..]) {
                let mut full = base.clone();
                full.extend(path);
                found.push(full);
            }
        }
    }
    found
}

/// The paths a `use` tree starting at `text` names: `a::b`, or each branch of `a::{b, c::d}`.
fn expand(text: &str) -> Vec<Vec<String>> {
    let mut head = Vec::new();
    let mut rest = text;
    loop {
        let word: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !word.is_empty() {
            head.push(word.clone());
            rest = &rest[word.len()..];
            if let Some(after) = rest.strip_prefix("::") {
                rest = after;
                continue;
            }
            return vec![head];
        }
        let Some(inner) = rest.strip_prefix('{') else {
            return vec![head];
        };
        let mut depth = 1;
        let mut branches = vec![String::new()];
        for c in inner.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 1 => {
                    branches.push(String::new());
                    continue;
                }
                _ => {}
            }
            if depth == 0 {
                break;
            }
            branches.last_mut().unwrap().push(c);
        }
        return branches
            .iter()
            .flat_map(|branch| expand(branch.trim()))
            .map(|tail| head.iter().cloned().chain(tail).collect())
            .collect();
    }
}

/// The longest prefix of `path` that names a module of the crate.
fn target(path: &[String], modules: &BTreeMap<String, Module>) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|name| modules.contains_key(name))
}

fn layer(module: &str) -> usize {
    let top = module.split("::").next().unwrap();
    LAYERS
        .iter()
        .position(|layer| *layer == top)
        .unwrap_or_else(|| panic!("module `{module}` is in no layer: add it to LAYERS"))
}

fn graph() -> (BTreeMap<String, Module>, BTreeMap<String, BTreeSet<String>>) {
    let modules = modules();
    let mut uses = BTreeMap::new();
    for (name, module) in &modules {
        let targets: BTreeSet<String> = references(name, &module.code)
            .iter()
            .filter_map(|path| target(path, &modules))
            .filter(|to| to != name && !name.starts_with(&format!("{to}::")))
            .collect();
        uses.insert(name.clone(), targets);
    }
    (modules, uses)
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let (modules, uses) = graph();
    let mut wrong = Vec::new();
    for (from, targets) in &uses {
        if from == "lib" {
            continue;
        }
        for to in targets {
            if layer(to) > layer(from) {
                wrong.push(format!("{} uses {to}", modules[from].path));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that point up:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_two_modules_use_each_other() {
    let (modules, uses) = graph();
    let mut state: BTreeMap<&str, bool> = BTreeMap::new();
    fn visit<'a>(
        node: &'a str,
        uses: &'a BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<&'a str, bool>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(true) => return None,
            Some(false) => {
                let at = stack.iter().position(|n| *n == node).unwrap();
                let mut cycle: Vec<String> = stack[at..].iter().map(|n| n.to_string()).collect();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        state.insert(node, false);
        stack.push(node);
        for next in uses.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, uses, state, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        state.insert(node, true);
        None
    }
    for name in modules.keys() {
        if name == "lib" {
            continue;
        }
        if let Some(cycle) = visit(name, &uses, &mut state, &mut Vec::new()) {
            panic!("modules use each other in a cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn no_source_file_mixes_too_much() {
    let long: Vec<String> = modules()
        .values()
        .filter(|m| m.lines > MAX_LINES)
        .map(|m| format!("{} has {} lines", m.path, m.lines))
        .collect();
    assert!(long.is_empty(), "split by concern:\n{}", long.join("\n"));
}

/// Every `.rs` file under `dir`, at any depth.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The tests are code too, read and changed as often: a test file (a test target, one of its
/// modules, the shared `common/`, a fixture's schema.rs) over the limit mixes concerns the
/// same way.
#[test]
fn no_test_file_mixes_too_much() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = rust_files(&manifest.join("tests"));
    assert!(
        files.iter().any(|f| f.ends_with("tests/layers.rs")),
        "no test file found: {files:?}"
    );
    let long: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(path).unwrap().lines().count();
            let shown = path.strip_prefix(manifest).unwrap().display();
            (lines > MAX_LINES).then(|| format!("{shown} has {lines} lines"))
        })
        .collect();
    assert!(long.is_empty(), "split by concern:\n{}", long.join("\n"));
}

#[test]
fn the_reader_of_use_trees_finds_every_branch() {
    let paths = expand("a::{b, c::{d, e}, f}::g;");
    assert_eq!(
        paths,
        [
            vec!["a", "b"],
            vec!["a", "c", "d"],
            vec!["a", "c", "e"],
            vec!["a", "f"]
        ]
    );
}
