//! The commands, each a straight pipeline over the stages: read schema.rs, scan versions,
//! upgrade a disposable database to head, introspect, diff; then (generate) plan, render,
//! prove and write.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::generate::cache::Cache;
use crate::generate::diff::{
    diff, diff_with_renames, rename_suggestions, Change, Renames, Suggestion,
};
use crate::generate::plan::{self, ColumnKey, Defaults};
use crate::generate::render::{self, Files, Header};
use crate::history::versions::{self, Version};
use crate::project::Project;
use crate::schema::introspect::TableFilter;
use crate::schema::model::{self, Schema};
use crate::support::ask::Prompt;
use crate::support::files;
use crate::support::lock::ProjectLock;
use crate::support::scratch::Scratch;
use crate::support::timing::Timings;
use crate::{
    generate::replay, generate::write, history::checksums, prove, schema::diagram,
    schema::introspect, schema::schema_rs, sqlite::db,
};

/// Head of `versions/` on a disposable database, compared with schema.rs.
pub struct Comparison {
    pub versions: Vec<Version>,
    /// Each version's files hash and chain hash (`checksums::links`), when the cache or
    /// dev.sum needs them; empty otherwise.
    pub links: Vec<(String, String)>,
    pub target: Schema,
    /// Head as stored, every table; `head_db` is the part print-schema describes.
    pub all_db: introspect::Database,
    pub head_db: introspect::Database,
    pub head: Schema,
    pub changes: Vec<Change>,
    scratch: Scratch,
    conn: diesel::SqliteConnection,
    inspector: rusqlite::Connection,
}

/// Stages 1 to 5: everything `check` does. `need_links` asks for the history's hash chain
/// even when neither the cache nor dev.sum needs it (generate records it afterwards).
pub fn compare(
    project: &Project,
    use_cache: bool,
    need_links: bool,
    timings: &mut Timings,
) -> Result<Comparison> {
    let versions = versions::scan(&project.versions_dir)?;
    let wants_links = need_links || checksums::recorded(&project.versions_dir);
    let scratch = Scratch::create()?;
    let cache = use_cache.then(|| Cache::for_root(&project.root));
    // SQLite replays on this core; reading schema.rs and hashing the history (when the cache
    // does not need it first) run on the other.
    let (target, links, conn) = std::thread::scope(|scope| -> Result<_> {
        let reading = scope.spawn(|| {
            let started = std::time::Instant::now();
            (schema_rs::read(&project.schema_file), started.elapsed())
        });
        let hashing = (wants_links && !use_cache).then(|| {
            scope.spawn(|| {
                let started = std::time::Instant::now();
                (checksums::links(&versions), started.elapsed())
            })
        });
        let mut links = if use_cache {
            timings.time("hash versions", || checksums::links(&versions))?
        } else {
            Vec::new()
        };
        let keys = Cache::keys(&links);
        let conn = replay::upgrade_to_head(
            &scratch.database(),
            &project.versions_dir,
            &versions,
            cache.as_ref().map(|c| (c, keys.as_slice())),
            timings,
        );
        let (target, read_time) = reading.join().expect("reading schema.rs does not panic");
        timings.parallel("read schema.rs", read_time);
        if let Some(hashing) = hashing {
            let (hashed, hash_time) = hashing.join().expect("hashing does not panic");
            timings.parallel("hash versions", hash_time);
            links = hashed?;
        }
        // A broken schema.rs is reported before a failing migration, as it is found first.
        let mut target = target?;
        // Tables the print_schema filter leaves out are not managed, on either side.
        target
            .tables
            .retain(|name, _| project.filter.includes(name));
        Ok((target, links, conn?))
    })?;
    let inspector = db::open_rusqlite(&scratch.database())?;
    let (all_db, head_db, head) = timings.time("introspect", || -> Result<_> {
        let all_db = introspect::inspect(&inspector, &TableFilter::All)?;
        let head_db = all_db.filtered(&project.filter);
        let head = model::from_database(&head_db, project.integer_primary_key_is_bigint)?;
        Ok((all_db, head_db, head))
    })?;
    let changes = timings.time("diff", || diff(&head, &target));
    Ok(Comparison {
        versions,
        links,
        target,
        all_db,
        head_db,
        head,
        changes,
        scratch,
        conn,
        inspector,
    })
}

/// What `generate` was asked for.
#[derive(Debug, Clone, Default)]
pub struct GenerateOptions {
    pub message: String,
    /// Write an empty migration for hand-written SQL.
    pub empty: bool,
    pub defaults: Defaults,
    pub renames: Renames,
    /// Start from a snapshot of head under `target/` when one verifies.
    pub use_cache: bool,
}

/// What `generate` did.
#[derive(Debug)]
pub enum Generated {
    NoChanges,
    Written { dir: PathBuf, changes: Vec<Change> },
}

/// Generates, proves and writes the migration that brings head to schema.rs. Questions go
/// to `prompt` when a person is there to answer them; warnings and hints go to `report`.
pub fn generate(
    project: &Project,
    options: &GenerateOptions,
    mut prompt: Option<&mut dyn Prompt>,
    report: &mut dyn FnMut(String),
    timings: &mut Timings,
) -> Result<Generated> {
    let slug = write::slug(&options.message)?;
    for path in [
        project.versions_dir.join(".dev"),
        checksums::sum_path(&project.versions_dir),
        diagram::path(&project.schema_file),
    ] {
        project.ensure_writable_inside(&path)?;
    }
    // Held until the new version is published: a second run waits, then builds on it.
    let _lock = ProjectLock::acquire(&project.versions_dir, &mut *report)?;
    write::recover(&project.versions_dir, &[diagram_dir(project)]);
    let mut comparison = compare(project, options.use_cache, true, timings)?;
    refuse_broken_history(project, &comparison)?;
    let version = write::next_version(time::OffsetDateTime::now_utc(), &comparison.versions)?;
    let dir_name = format!("{version}_{slug}");
    let stage = comparison.scratch.path().join("candidate");
    if options.empty {
        let files = render::render_empty(options.message.trim(), &version);
        let dir = timings.time("write", || -> Result<PathBuf> {
            write::write_files(&stage.join(&dir_name), &files)?;
            let records = records(project, &comparison, &stage, diagram_of(&comparison))?;
            write::publish(&project.versions_dir, &dir_name, &files, &records)
        })?;
        return Ok(Generated::Written {
            dir,
            changes: Vec::new(),
        });
    }
    let mut renames = options.renames.clone();
    let changes = loop {
        let (renamed_head, changes) =
            diff_with_renames(&comparison.head, &comparison.target, &renames)?;
        let suggestions = rename_suggestions(&renamed_head, &changes);
        let accepted = match prompt.as_deref_mut() {
            Some(prompt) => suggestions
                .into_iter()
                .find(|s| prompt.confirm(&s.question())),
            None => {
                for suggestion in &suggestions {
                    report(format!(
                        "hint: {} If so, pass `{}` to keep the data.",
                        suggestion.question(),
                        suggestion.flag()
                    ));
                }
                None
            }
        };
        match accepted {
            Some(Suggestion::Table { from, to }) => renames.tables.push((from, to)),
            Some(Suggestion::Column { table, from, to }) => renames.columns.push((table, from, to)),
            None => break changes,
        }
    };
    if changes.is_empty() {
        return Ok(Generated::NoChanges);
    }
    let needed = plan::needs_default(&changes, &comparison.head_db);
    check_defaults(&options.defaults, &needed)?;
    let mut defaults = options.defaults.clone();
    for key in needed {
        if defaults.contains_key(&key) {
            continue;
        }
        let Some(prompt) = prompt.as_deref_mut() else {
            return Err(plan::missing_default(&key, &changes));
        };
        let question = plan::missing_default(&key, &changes).message.clone();
        match prompt.value(&format!("{question}. SQL value for them (e.g. 0 or ''):")) {
            Some(value) => defaults.insert(key, value),
            None => return Err(plan::missing_default(&key, &changes)),
        };
    }
    let plan = timings.time("plan", || {
        plan::plan(
            &changes,
            &comparison.target,
            &defaults,
            project.integer_primary_key_is_bigint,
            &comparison.all_db,
            &comparison.scratch.database(),
            &comparison.scratch.path().join("plan.sqlite3"),
        )
    })?;
    let files: Files = render::render(
        &Header {
            message: options.message.trim(),
            version: &version,
            changes: &changes,
        },
        &plan,
    );
    let proof = timings.time("prove", || {
        prove::prove(
            &mut comparison.conn,
            &comparison.inspector,
            project,
            &comparison.all_db,
            &comparison.target,
            &changes,
            &stage,
            &dir_name,
            &files,
        )
    })?;
    let dir = timings.time("write", || -> Result<PathBuf> {
        // The proof leaves the disposable database at the new head.
        let new_head = introspect::inspect(&comparison.inspector, &TableFilter::All)?
            .filtered(&project.filter);
        let new_schema = model::from_database(&new_head, project.integer_primary_key_is_bigint)?;
        let block = diagram::render(&new_head, &new_schema);
        let records = records(project, &comparison, &stage, block)?;
        write::publish(&project.versions_dir, &dir_name, &files, &records)
    })?;
    for (direction, text) in [("up", &files.up), ("down", &files.down)] {
        for warning in crate::history::effect::warnings(text) {
            report(format!("warning ({direction}.sql): {warning}"));
        }
    }
    report(proof);
    Ok(Generated::Written { dir, changes })
}

/// `generate` builds on a history that verifies, or not at all.
fn refuse_broken_history(project: &Project, comparison: &Comparison) -> Result<()> {
    let problems = history_problems(project, comparison)?;
    if problems.is_empty() {
        return Ok(());
    }
    let mut err = Error::input(format!(
        "versions/ does not match {}; a new version on top of it would hide that",
        checksums::SUM_FILE
    ));
    for problem in &problems {
        err = err.note(
            problem
                .to_string()
                .trim_end()
                .trim_start_matches("error: ")
                .to_owned(),
        );
    }
    Err(err.help("run `cargo run -p dev -- check` and do what it says first"))
}

/// Problems of the recorded history; none when the project records no checksums.
pub fn history_problems(project: &Project, comparison: &Comparison) -> Result<Vec<Error>> {
    if !checksums::recorded(&project.versions_dir) {
        return Ok(Vec::new());
    }
    checksums::problems(
        &project.versions_dir,
        &comparison.versions,
        &comparison.links,
    )
}

/// Records the checksums of every version, for `rehash`, and brings the diagram (when the
/// project keeps one) to head, so `check` passes right after.
pub fn record(project: &Project) -> Result<()> {
    let sum = checksums::sum_path(&project.versions_dir);
    project.ensure_writable_inside(&sum)?;
    let _lock = ProjectLock::acquire(&project.versions_dir, &mut |line| eprintln!("{line}"))?;
    write::recover(&project.versions_dir, &[diagram_dir(project)]);
    let versions = versions::scan(&project.versions_dir)?;
    let mut records = vec![files::Record {
        text: checksums::render(&versions, &checksums::links(&versions)?),
        path: sum,
    }];
    let keeps_diagram = std::fs::read_to_string(diagram::path(&project.schema_file))
        .is_ok_and(|text| diagram::has_block(&text));
    if keeps_diagram {
        let comparison = compare(project, true, false, &mut Timings::default())?;
        project.ensure_writable_inside(&diagram::path(&project.schema_file))?;
        records.extend(diagram::refreshed(
            &project.schema_file,
            &diagram_of(&comparison),
        )?);
    }
    files::replace(&records)
}

/// What is rewritten with the version staged under `stage`: the checksum file with it
/// recorded on top of the history compared against, and the diagram showing `block` when
/// the project keeps one.
fn records(
    project: &Project,
    comparison: &Comparison,
    stage: &std::path::Path,
    block: String,
) -> Result<Vec<files::Record>> {
    let mut versions = comparison.versions.clone();
    let mut links = if comparison.links.len() == versions.len() {
        comparison.links.clone()
    } else {
        checksums::links(&versions)?
    };
    let staged = versions::scan(stage)?;
    let [added] = staged.as_slice() else {
        return Err(Error::input(format!(
            "`{}` should hold exactly the new version",
            stage.display()
        )));
    };
    checksums::extend(&mut links, added)?;
    versions.push(added.clone());
    let mut records = vec![files::Record {
        path: checksums::sum_path(&project.versions_dir),
        text: checksums::render(&versions, &links),
    }];
    records.extend(diagram::refreshed(&project.schema_file, &block)?);
    Ok(records)
}

/// The directory of the diagram file, where its partial copies are written.
fn diagram_dir(project: &Project) -> &std::path::Path {
    project
        .schema_file
        .parent()
        .unwrap_or(project.root.as_path())
}

/// The diagram block for head, and whether the project's diagram (if it has one) matches it.
pub fn diagram_of(comparison: &Comparison) -> String {
    diagram::render(&comparison.head_db, &comparison.head)
}

/// A problem when the project keeps a diagram and it is not head's.
pub fn diagram_problem(project: &Project, comparison: &Comparison) -> Option<Error> {
    let path = diagram::path(&project.schema_file);
    let text = std::fs::read_to_string(&path).ok()?;
    // Line endings are not a change (a checkout may have turned LF into CRLF).
    if !diagram::has_block(&text) || text.replace("\r\n", "\n").contains(&diagram_of(comparison)) {
        return None;
    }
    Some(
        Error::check(format!(
            "the diagram in {} is out of date",
            project.display(&path)
        ))
        .help("run `cargo run -p dev -- diagram` and commit the result"),
    )
}

/// Every `--default` must name a column that needs a value for existing rows, and be one SQL
/// expression: it is written into the migration as `DEFAULT (expr)` or a `COALESCE` backfill,
/// so anything more (`0); DROP TABLE t; --`) would run as SQL of its own.
fn check_defaults(defaults: &Defaults, needed: &[ColumnKey]) -> Result<()> {
    let conn = rusqlite::Connection::open_in_memory()
        .map_err(|e| Error::input(format!("cannot open an in-memory database: {e}")))?;
    for (key, expr) in defaults {
        // A column reference is for the planner to judge on the real table.
        match conn.prepare(&format!("SELECT ({expr})")) {
            // rusqlite reports prepare errors with their position, so match on the text.
            Err(e) if e.to_string().contains("no such column") => {}
            Err(e) => {
                return Err(Error::input(format!(
                    "`--default {key}={expr}` is not one SQL expression: {}",
                    db::sqlite_message(&e)
                ))
                .help(format!("give a single value or expression, e.g. `--default {key}=0`, `--default {key}=''` or `--default {key}=CURRENT_TIMESTAMP`; quote it for your shell")));
            }
            Ok(_) => {}
        }
    }
    for key in defaults.keys() {
        if !needed.contains(key) {
            return Err(Error::input(format!(
                "`--default {key}=...` names no column that needs a value: only NOT NULL columns added to existing tables or made NOT NULL, and NOT NULL columns without a DEFAULT that are dropped, do"
            ))
            .help(if needed.is_empty() {
                "this migration needs no defaults; drop the flag".to_owned()
            } else {
                let names: Vec<String> = needed.iter().map(ColumnKey::to_string).collect();
                format!("these need one: {}", names.join(", "))
            }));
        }
    }
    Ok(())
}

/// Parses `TABLE.OLD=NEW` for `--rename`.
pub fn parse_column_rename(arg: &str) -> std::result::Result<(String, String, String), String> {
    let (key, to) = arg
        .split_once('=')
        .ok_or_else(|| format!("expected TABLE.OLD=NEW, got `{arg}`"))?;
    let (table, from) = key
        .split_once('.')
        .ok_or_else(|| format!("expected TABLE.OLD before `=`, got `{key}`"))?;
    if [table, from, to].iter().any(|s| s.trim().is_empty()) {
        return Err(format!("expected TABLE.OLD=NEW, got `{arg}`"));
    }
    Ok((table.to_owned(), from.to_owned(), to.to_owned()))
}

/// Parses `OLD=NEW` for `--rename-table`.
pub fn parse_table_rename(arg: &str) -> std::result::Result<(String, String), String> {
    match arg.split_once('=') {
        Some((from, to)) if !from.trim().is_empty() && !to.trim().is_empty() => {
            Ok((from.to_owned(), to.to_owned()))
        }
        _ => Err(format!("expected OLD=NEW, got `{arg}`")),
    }
}

/// Parses `TABLE.COLUMN=SQL_EXPR`.
pub fn parse_default(arg: &str) -> std::result::Result<(ColumnKey, String), String> {
    let (key, expr) = arg
        .split_once('=')
        .ok_or_else(|| format!("expected TABLE.COLUMN=SQL_EXPR, got `{arg}`"))?;
    let (table, column) = key
        .split_once('.')
        .ok_or_else(|| format!("expected TABLE.COLUMN before `=`, got `{key}`"))?;
    if table.is_empty() || column.is_empty() || expr.trim().is_empty() {
        return Err(format!("expected TABLE.COLUMN=SQL_EXPR, got `{arg}`"));
    }
    Ok((ColumnKey::new(table, column), expr.trim().to_owned()))
}

/// A message summarising `changes`, for the `generate` command `check` suggests.
pub fn suggested_message(changes: &[Change]) -> String {
    match changes {
        [] => String::new(),
        [only] => only.headline(),
        [first, second] => format!("{} and {}", first.headline(), second.headline()),
        [first, second, rest @ ..] => format!(
            "{}, {} and {} more",
            first.headline(),
            second.headline(),
            rest.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_message_stays_short() {
        let drop = |t: &str| Change::DropTable(t.into());
        assert_eq!(suggested_message(&[drop("a")]), "drop a");
        assert_eq!(
            suggested_message(&[drop("a"), drop("b")]),
            "drop a and drop b"
        );
        assert_eq!(
            suggested_message(&[drop("a"), drop("b"), drop("c"), drop("d")]),
            "drop a, drop b and 2 more"
        );
    }

    #[test]
    fn a_default_may_name_a_column_but_must_be_one_expression() {
        let needed = vec![ColumnKey::new("t", "c")];
        let with = |expr: &str| Defaults::from([(ColumnKey::new("t", "c"), expr.to_owned())]);
        check_defaults(&with("other_column * 2"), &needed).unwrap();
        check_defaults(&with("CURRENT_TIMESTAMP"), &needed).unwrap();
        for bad in ["0); DROP TABLE t; --", "((1", "SELECT"] {
            let err = check_defaults(&with(bad), &needed).unwrap_err();
            assert!(err.message.contains("is not one SQL expression"), "{err}");
        }
    }

    #[test]
    fn default_flag_syntax() {
        assert_eq!(
            parse_default("users.bio=''").unwrap(),
            (ColumnKey::new("users", "bio"), "''".to_owned())
        );
        assert!(parse_default("users.bio").is_err());
        assert!(parse_default("bio=1").is_err());
        assert!(parse_default("users.bio=").is_err());
    }
}
