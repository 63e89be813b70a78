//! Golden files for `generate`: one directory per canonical change under
//! `dev/tests/golden/<case>/`, holding the database before, the schema.rs after, and the
//! exact migration `generate` must write between them. Adding a case means adding a
//! directory; this runner finds it.
//!
//! A case directory holds:
//! - `head.sql`: the hand-written first migration, the database before (required);
//! - `schema.rs`: the target `schema/schema.rs` (required);
//! - `objects.sql`: the project's `schema/objects.sql` (optional; without it the project
//!   keeps no objects file);
//! - `Cargo.toml`: the project's manifest, for its `[package.metadata.dev-migrate]`
//!   settings (optional; without it the oldest SQLite the migrations run on is unknown);
//! - `args`: extra arguments for `generate`, one argument per line, taken as written (no
//!   shell quoting; blank lines are skipped), e.g. `--rename` then `posts.title=headline`;
//! - `up.sql`, `down.sql`: what `generate` must write (required), and `metadata.toml` when
//!   it must write one too.
//!
//! Each case runs the real binary on a temporary project (`generate "<case>" <args>`), then
//! `check`, which must pass, so every golden file is a proven migration. The written files
//! must equal the expected ones byte for byte, except one line per file that varies per run:
//! the header's `-- Version: <the new version>` line, compared as `-- Version: <version>`.
//! Nothing else is normalised.
//!
//! To write or rewrite the expected files from what `generate` writes now:
//!
//!     UPDATE_GOLDEN=1 cargo test -p dev --test golden
//!
//! then read every changed file (`git diff dev/tests/golden/`) before committing it: a
//! golden file is only worth what its reading was (data kept, down undoes up).

mod common;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use common::Project;

/// The hand-written first migration every case starts from.
const HEAD: &str = "2026-01-01-000000_head";

/// Files a case must have before it can run.
const INPUTS: [&str; 2] = ["head.sql", "schema.rs"];

/// Files `generate` must write in every case, so every case must expect them.
const OUTPUTS: [&str; 2] = ["up.sql", "down.sql"];

/// Files `generate` writes only for some changes; expected exactly when written.
const OPTIONAL_OUTPUTS: [&str; 1] = ["metadata.toml"];

/// Files a case may have besides its inputs and outputs: `Cargo.toml` holds the project's
/// settings (the oldest SQLite its migrations run on); without it (a case has no
/// `Cargo.lock`) that SQLite is unknown, and the plan copies a table where SQLite 3.53 would
/// alter it in place.
const OPTIONAL_INPUTS: [&str; 3] = ["args", "objects.sql", "Cargo.toml"];

const HOW_TO_UPDATE: &str = "to accept what generate writes now, run\n    \
    UPDATE_GOLDEN=1 cargo test -p dev --test golden\nand read every changed golden file \
    (git diff dev/tests/golden/) before committing it: it must keep the data and down must \
    undo up";

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Every case directory, by name.
fn cases() -> Vec<(String, PathBuf)> {
    let dir = cases_dir();
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut cases: Vec<(String, PathBuf)> = entries
        .map(|e| e.unwrap().path())
        .map(|path| {
            assert!(path.is_dir(), "{} is not a case directory", path.display());
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, path)
        })
        .collect();
    cases.sort();
    cases
}

/// What a case directory holds, read; `Err` names what is missing or unknown.
struct Case {
    name: String,
    dir: PathBuf,
    head: String,
    schema: String,
    objects: Option<String>,
    manifest: Option<String>,
    args: Vec<String>,
}

fn read_case(name: &str, dir: &Path) -> Result<Case, String> {
    let known: Vec<&str> = INPUTS
        .iter()
        .chain(&OPTIONAL_INPUTS)
        .chain(&OUTPUTS)
        .chain(&OPTIONAL_OUTPUTS)
        .copied()
        .collect();
    let mut problems = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !known.contains(&file.as_str()) {
            problems.push(format!("unknown file {file} (known: {})", known.join(", ")));
        }
    }
    let mut required: Vec<&str> = INPUTS.to_vec();
    if !updating() {
        required.extend(OUTPUTS);
    }
    for file in required {
        if !dir.join(file).is_file() {
            problems.push(format!("no {file}"));
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    let read = |file: &str| fs::read_to_string(dir.join(file)).ok();
    let args = read("args")
        .unwrap_or_default()
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect();
    Ok(Case {
        name: name.to_owned(),
        dir: dir.to_owned(),
        head: read("head.sql").unwrap(),
        schema: read("schema.rs").unwrap(),
        objects: read("objects.sql"),
        manifest: read("Cargo.toml"),
        args,
    })
}

/// A project whose only version is the case's head, targeting the case's schema.rs.
fn project(case: &Case) -> Project {
    let project = Project {
        dir: tempfile::tempdir().unwrap(),
        tmp: tempfile::tempdir().unwrap(),
    };
    project.write(
        "diesel.toml",
        "[print_schema]\nfile = \"schema/schema.rs\"\n\n[migrations_directory]\ndir = \"versions\"\n",
    );
    project.write("schema/schema.rs", &case.schema);
    if let Some(objects) = &case.objects {
        project.write("schema/objects.sql", objects);
    }
    if let Some(manifest) = &case.manifest {
        project.write("Cargo.toml", manifest);
    }
    project.write(&format!("versions/{HEAD}/up.sql"), &case.head);
    project
}

/// The one line per file that varies per run, the new version in the header, made fixed.
fn normalise(text: &str, version: &str) -> String {
    let varying = format!("-- Version: {version}");
    text.split_inclusive('\n')
        .map(|line| {
            if line.trim_end_matches('\n') == varying {
                line.replacen(version, "<version>", 1)
            } else {
                line.to_owned()
            }
        })
        .collect()
}

/// Runs generate then check on the case; returns each written file's name and normalised
/// text, or why the case could not produce them.
fn generate(case: &Case) -> Result<Vec<(String, String)>, String> {
    let project = project(case);
    let mut args = vec!["generate", case.name.as_str()];
    args.extend(case.args.iter().map(String::as_str));
    let run = project.run(&args);
    if run.code != Some(0) {
        return Err(format!(
            "generate exited {:?}\nstdout:\n{}stderr:\n{}",
            run.code, run.stdout, run.stderr
        ));
    }
    let mut new: Vec<String> = project.versions();
    new.retain(|v| v != HEAD);
    let [dir] = new.as_slice() else {
        return Err(format!("generate wrote {} versions: {new:?}", new.len()));
    };
    let version = dir.split_once('_').map_or(dir.as_str(), |(v, _)| v);
    let mut written = Vec::new();
    for entry in fs::read_dir(project.file(&format!("versions/{dir}"))).unwrap() {
        let entry = entry.unwrap();
        let file = entry.file_name().to_string_lossy().into_owned();
        if !OUTPUTS.contains(&file.as_str()) && !OPTIONAL_OUTPUTS.contains(&file.as_str()) {
            return Err(format!("generate wrote an unexpected file {file}"));
        }
        let text = fs::read_to_string(entry.path()).unwrap();
        written.push((file, normalise(&text, version)));
    }
    written.sort();
    let check = project.run(&["check"]);
    if check.code != Some(0) {
        return Err(format!(
            "check after generate exited {:?}\nstdout:\n{}stderr:\n{}",
            check.code, check.stdout, check.stderr
        ));
    }
    Ok(written)
}

/// Compares (or, when updating, rewrites) the case's expected files; returns one message
/// per mismatch.
fn compare(case: &Case, written: &[(String, String)]) -> Vec<String> {
    let mut mismatches = Vec::new();
    let names: Vec<&str> = OUTPUTS.iter().chain(&OPTIONAL_OUTPUTS).copied().collect();
    for name in names {
        let path = case.dir.join(name);
        let expected = fs::read_to_string(&path).ok();
        let actual = written.iter().find(|(f, _)| f == name).map(|(_, t)| t);
        if expected.as_ref() == actual {
            continue;
        }
        if updating() {
            match actual {
                Some(text) => fs::write(&path, text).unwrap(),
                None => fs::remove_file(&path).unwrap(),
            }
            // Past the test harness's capture, so the update is seen even when the test passes.
            let _ = writeln!(
                std::io::stderr(),
                "updated dev/tests/golden/{}/{name}: read it before committing it",
                case.name
            );
            continue;
        }
        let diff = diffy::DiffOptions::new()
            .set_original_filename(format!("expected {}/{name}", case.name))
            .set_modified_filename(format!("written by generate {}/{name}", case.name))
            .create_patch(
                expected.as_deref().unwrap_or(""),
                actual.map_or("", String::as_str),
            );
        let state = match (&expected, actual) {
            (None, _) => "generate wrote it but the case does not expect it",
            (_, None) => "the case expects it but generate did not write it",
            _ => "differs from what generate wrote",
        };
        mismatches.push(format!("{}/{name} {state}:\n{diff}", case.name));
    }
    mismatches
}

/// Runs one case directory; returns its failures.
fn run_case(name: &str, dir: &Path) -> Vec<String> {
    let case = match read_case(name, dir) {
        Ok(case) => case,
        Err(problem) => return vec![format!("{name}: {problem}")],
    };
    match generate(&case) {
        Ok(written) => compare(&case, &written),
        Err(problem) => vec![format!("{name}: {problem}")],
    }
}

#[test]
fn generate_writes_the_golden_migration_of_every_case() {
    let cases = cases();
    assert!(
        !cases.is_empty(),
        "no golden case in {}",
        cases_dir().display()
    );
    // Cases are independent: a few run at once, each on its own project.
    let next = Mutex::new(0usize);
    let failures = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let index = {
                    let mut next = next.lock().unwrap();
                    *next += 1;
                    *next - 1
                };
                let Some((name, dir)) = cases.get(index) else {
                    break;
                };
                let found = run_case(name, dir);
                failures.lock().unwrap().push((index, found));
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort_by_key(|(index, _)| *index);
    let failures: Vec<String> = failures.into_iter().flat_map(|(_, f)| f).collect();
    assert!(
        failures.is_empty(),
        "{} golden failure(s) in {} cases:\n\n{}\n\n{HOW_TO_UPDATE}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
