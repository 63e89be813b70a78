//! What the properties found, each reduced to its smallest case, kept as data: one directory
//! per case under `regressions/`, named for what it shows, so adding a case is adding a
//! directory. `every_reduced_case_still_holds` runs them all and names every case that fails.
//!
//! A case directory holds:
//!
//! - `head.sql`: the project's one hand-written migration (its up.sql);
//! - `schema.rs`: the schema.rs `generate` is run against;
//! - `rows.sql`: run on a database file at head before anything else;
//! - `case.toml`: `found`, how the properties found the bug and what was wrong (the bug's
//!   history), then each `[[generate]]` run in order on the project: its `args` (after
//!   `generate`, the message first) and one outcome:
//!   - `rows_after_up = { table = rows, ... }`: written (exactly one new version, recorded,
//!     nothing else changed), and `check` passes; on the database, the migration goes up
//!     (integrity and foreign keys clean, every view selects, each table listed holds that
//!     many rows), down (sqlite_schema byte for byte as before, clean again) and up again
//!     (SQLite still reads every view and trigger). `stderr_has`, `up_sql_has` and
//!     `up_sql_lacks` list texts generate's stderr and the new up.sql must (not) hold;
//!   - `refused_saying = [...]`: exit 2 with an `error:` line, the tree and the temp dir as
//!     they were, and stderr holding each text.
//!
//!   A `[[variant]]` is the same case with files swapped (`head`, `schema` or `rows`, each a
//!   file of the directory), on a project of its own: `why` says what it shows, and its own
//!   `[[variant.generate]]` runs follow.
//!
//! A case that does more than this can say stays a function, in `reduced`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::Deserialize;

use crate::common::Project;
use crate::reduced::{reduced, up_again, up_and_down};

/// Where the cases are, under the crate.
const CASES: &str = "tests/generate_properties/regressions";

/// `case.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseToml {
    found: String,
    generate: Vec<Generate>,
    #[serde(default)]
    variant: Vec<Variant>,
}

/// A `[[variant]]`: another project of the same case, with files swapped.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Variant {
    why: String,
    head: Option<String>,
    schema: Option<String>,
    rows: Option<String>,
    generate: Vec<Generate>,
}

/// One `generate` and what it must do.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Generate {
    args: Vec<String>,
    rows_after_up: Option<BTreeMap<String, i64>>,
    refused_saying: Option<Vec<String>>,
    #[serde(default)]
    stderr_has: Vec<String>,
    #[serde(default)]
    up_sql_has: Vec<String>,
    #[serde(default)]
    up_sql_lacks: Vec<String>,
}

/// A case, read and checked: each project it runs, the case's own first.
struct Case {
    name: String,
    projects: Vec<Reduced>,
}

/// One project of a case: its files' text and its runs of `generate`.
struct Reduced {
    /// `None` for the case's own project, else the variant's `why`.
    why: Option<String>,
    head: String,
    schema: String,
    rows: String,
    generate: Vec<Generate>,
}

/// Every case under `dir`, by name; an error naming every directory that is no case, or
/// no case at all.
fn cases(dir: &Path) -> Result<Vec<Case>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut dirs = Vec::new();
    let mut wrong = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            dirs.push(path);
        } else {
            wrong.push(format!(
                "{}: only case directories belong here",
                path.display()
            ));
        }
    }
    dirs.sort();
    let mut found = Vec::new();
    for path in dirs {
        match case(&path) {
            Ok(case) => found.push(case),
            Err(e) => wrong.push(format!("{}: {e}", path.display())),
        }
    }
    if !wrong.is_empty() {
        return Err(format!("malformed cases:\n{}", wrong.join("\n")));
    }
    if found.is_empty() {
        return Err(format!("no case in {}", dir.display()));
    }
    Ok(found)
}

/// The case in `dir`: `case.toml` read and checked, its files read, and no file it does not
/// use.
fn case(dir: &Path) -> Result<Case, String> {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let toml_text = read(dir, "case.toml")?;
    let toml: CaseToml = toml::from_str(&toml_text).map_err(|e| format!("case.toml: {e}"))?;
    if toml.found.trim().is_empty() {
        return Err("case.toml: `found` is empty: say how the bug was found".to_owned());
    }
    let mut used = BTreeSet::from(["case.toml".to_owned()]);
    let mut file = |given: Option<String>, default: &str| -> Result<String, String> {
        let file = given.unwrap_or_else(|| default.to_owned());
        let text = read(dir, &file)?;
        used.insert(file);
        Ok(text)
    };
    let mut projects = vec![Reduced {
        why: None,
        head: file(None, "head.sql")?,
        schema: file(None, "schema.rs")?,
        rows: file(None, "rows.sql")?,
        generate: toml.generate,
    }];
    for variant in toml.variant {
        if variant.why.trim().is_empty() {
            return Err("case.toml: a variant's `why` is empty".to_owned());
        }
        projects.push(Reduced {
            why: Some(variant.why),
            head: file(variant.head, "head.sql")?,
            schema: file(variant.schema, "schema.rs")?,
            rows: file(variant.rows, "rows.sql")?,
            generate: variant.generate,
        });
    }
    for project in &projects {
        check_runs(&project.generate)?;
    }
    let mut present = BTreeSet::new();
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        present.insert(
            entry
                .map_err(|e| e.to_string())?
                .file_name()
                .to_string_lossy()
                .into_owned(),
        );
    }
    let unused: Vec<&String> = present.difference(&used).collect();
    if !unused.is_empty() {
        return Err(format!("files case.toml does not use: {unused:?}"));
    }
    Ok(Case { name, projects })
}

fn read(dir: &Path, file: &str) -> Result<String, String> {
    std::fs::read_to_string(dir.join(file)).map_err(|e| format!("{file}: {e}"))
}

/// Each run has arguments and exactly one outcome, and asks nothing its outcome cannot
/// give.
fn check_runs(runs: &[Generate]) -> Result<(), String> {
    if runs.is_empty() {
        return Err("case.toml: no `[[generate]]` run".to_owned());
    }
    for (i, run) in runs.iter().enumerate() {
        let n = i + 1;
        if run.args.is_empty() {
            return Err(format!(
                "run {n}: `args` is empty: give at least the message"
            ));
        }
        match (&run.rows_after_up, &run.refused_saying) {
            (Some(rows), None) if rows.is_empty() => {
                return Err(format!("run {n}: `rows_after_up` lists no table"));
            }
            (Some(_), None) => {}
            (None, Some(texts)) => {
                if texts.is_empty() {
                    return Err(format!("run {n}: `refused_saying` lists no text"));
                }
                if !(run.stderr_has.is_empty()
                    && run.up_sql_has.is_empty()
                    && run.up_sql_lacks.is_empty())
                {
                    return Err(format!(
                        "run {n}: a refusal writes no up.sql: put what stderr says in `refused_saying`"
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "run {n}: give exactly one of `rows_after_up` and `refused_saying`"
                ));
            }
        }
    }
    Ok(())
}

/// Runs `run` on the project, whose database file is at `path`.
fn generate(project: &Project, path: &Path, run: &Generate) {
    let args: Vec<&str> = run.args.iter().map(String::as_str).collect();
    if let Some(texts) = &run.refused_saying {
        let mut full = vec!["generate"];
        full.extend(&args);
        let refused = project.assert_rejected(&full);
        for text in texts {
            assert!(
                refused.stderr.contains(text.as_str()),
                "the refusal does not say {text:?}: {refused:?}"
            );
        }
        return;
    }
    let rows = run.rows_after_up.as_ref().expect("checked: one outcome");
    let (dir, written) = project.generate_run(&args);
    for text in &run.stderr_has {
        assert!(
            written.stderr.contains(text.as_str()),
            "generate does not say {text:?}: {written:?}"
        );
    }
    let up = project.read(&format!("{dir}/up.sql"));
    for text in &run.up_sql_has {
        assert!(up.contains(text.as_str()), "up.sql lacks {text:?}:\n{up}");
    }
    for text in &run.up_sql_lacks {
        assert!(!up.contains(text.as_str()), "up.sql has {text:?}:\n{up}");
    }
    project.assert_check_passes();
    let counts: Vec<(&str, i64)> = rows.iter().map(|(t, n)| (t.as_str(), *n)).collect();
    up_and_down(project, path, &counts);
    up_again(project, path);
}

/// Runs one project of a case: a failure's message, naming the case and the project.
fn run_project(case: &Case, project: &Reduced) -> Result<(), String> {
    let outcome = std::panic::catch_unwind(|| {
        let (reduced, _db, path) = reduced(&project.head, &project.schema, &project.rows);
        for run in &project.generate {
            generate(&reduced, &path, run);
        }
    });
    outcome.map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "a panic without a message".to_owned());
        let which = match &project.why {
            None => String::new(),
            Some(why) => format!(" (the variant: {why})"),
        };
        format!("{}{which}: {message}", case.name)
    })
}

/// Every project of every case, a few at a time: the failures, in the cases' order.
fn run_all(cases: &[Case]) -> Vec<String> {
    let projects: Vec<(&Case, &Reduced)> = cases
        .iter()
        .flat_map(|case| case.projects.iter().map(move |p| (case, p)))
        .collect();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((case, project)) = projects.get(i) else {
                    break;
                };
                if let Err(failure) = run_project(case, project) {
                    failures.lock().unwrap().push((i, failure));
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    failures.into_iter().map(|(_, failure)| failure).collect()
}

#[test]
fn every_reduced_case_still_holds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(CASES);
    let cases = cases(&dir).unwrap_or_else(|e| panic!("{e}"));
    let failures = run_all(&cases);
    assert!(
        failures.is_empty(),
        "{} of the {} reduced cases fail:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// The runner skips nothing silently: no case, a file that is no case, a case.toml with an
/// unknown key, two outcomes or none, or a file it names missing, each fails by name.
#[test]
fn a_missing_or_malformed_case_fails_the_runner() {
    let dir = tempfile::tempdir().unwrap();
    let empty = cases(dir.path()).err().expect("no case is an error");
    assert!(empty.contains("no case in"), "{empty}");

    let one = dir.path().join("one");
    let write = |file: &str, text: &str| std::fs::write(one.join(file), text).unwrap();
    std::fs::create_dir(&one).unwrap();
    write(
        "head.sql",
        "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY);\n",
    );
    write(
        "schema.rs",
        "diesel::table! { t (id) { id -> Integer, } }\n",
    );
    write("rows.sql", "INSERT INTO t VALUES (1);");
    let run = "[[generate]]\nargs = ['m']\n";
    let malformed = [
        ("found = 'x'\n[[generate]]\nargs = ['m']\nrows_after = { t = 1 }\n", "unknown field"),
        (&format!("found = 'x'\n{run}"), "exactly one of"),
        (
            &format!("found = 'x'\n{run}rows_after_up = {{ t = 1 }}\nrefused_saying = ['e']\n"),
            "exactly one of",
        ),
        ("found = 'x'\n[[generate]]\nargs = []\nrefused_saying = ['e']\n", "`args` is empty"),
        (&format!("found = ' '\n{run}refused_saying = ['e']\n"), "`found` is empty"),
        (
            &format!("found = 'x'\n{run}refused_saying = ['e']\n[[variant]]\nwhy = 'y'\nhead = 'gone.sql'\n[[variant.generate]]\nargs = ['m']\nrefused_saying = ['e']\n"),
            "gone.sql",
        ),
    ];
    for (toml, error) in malformed {
        write("case.toml", toml);
        let wrong = cases(dir.path())
            .err()
            .expect("a malformed case is an error");
        assert!(
            wrong.contains("one") && wrong.contains(error),
            "{toml}\n{wrong}"
        );
    }
    write(
        "case.toml",
        &format!("found = 'x'\n{run}refused_saying = ['e']\n"),
    );
    assert_eq!(cases(dir.path()).map(|c| c.len()), Ok(1));
    write("stray.sql", "");
    let wrong = cases(dir.path())
        .err()
        .expect("a file the case does not use");
    assert!(wrong.contains("stray.sql"), "{wrong}");
    std::fs::remove_file(one.join("stray.sql")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "").unwrap();
    let wrong = cases(dir.path()).err().expect("a file beside the cases");
    assert!(wrong.contains("notes.txt"), "{wrong}");
}
