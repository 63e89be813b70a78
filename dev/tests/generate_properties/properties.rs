//! The properties, and one case of them.

use std::collections::BTreeMap;

use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

use crate::common::{self, application_database, Project, BIN};
use crate::head::{build_head, ident, value, Head};
use crate::judge::retyped_columns;
use crate::model::{Col, Model, SECTIONS};
use crate::step::Step;
use crate::strategies::{case, Case};
use crate::target::{carry, head_column_of, head_table_of, rebase, render_schema, target_of};

/// 24 cases, unless `PROPTEST_CASES` asks for more.
pub fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(24);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

pub fn run_property(diesel: Option<&str>) {
    let mut runner = TestRunner::new(config());
    let tally = std::cell::RefCell::new(Tally::default());
    let result = runner.run(&case(), |case| {
        let mut scratch = Tally::default();
        let outcome = run_case(&case, diesel, &mut scratch);
        let mut total = tally.borrow_mut();
        total.written += scratch.written;
        total.unchanged += scratch.unchanged;
        total.failed_on_rows += scratch.failed_on_rows;
        total.with_rowid_tables += scratch.with_rowid_tables;
        total.with_cycles += scratch.with_cycles;
        total.across_sections += scratch.across_sections;
        total.in_place += scratch.in_place;
        for (k, v) in scratch.refused {
            *total.refused.entry(k).or_default() += v;
        }
        outcome.map_err(TestCaseError::fail)
    });
    let tally = tally.into_inner();
    eprintln!(
        "generate_properties: {} written and proven on rows ({} with a rowid-keyed table, {} with a cycle of references, {} with a reference across schema sections, {} changing nullability in place), {} failed atomically on rows that cannot fit, {} without changes, refused: {:#?}",
        tally.written, tally.with_rowid_tables, tally.with_cycles, tally.across_sections, tally.in_place, tally.failed_on_rows, tally.unchanged, tally.refused
    );
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, case)) => panic!("{reason}\nminimal case: {case:#?}"),
        Err(e) => panic!("{e}"),
    }
}

#[test]
pub fn generated_migrations_keep_rows_match_schema_rs_and_revert_exactly() {
    run_property(None);
}

#[test]
#[ignore = "needs diesel_cli in DIESEL_CLI; .ci/run installs a pinned one and runs this test"]
pub fn diesel_print_schema_reads_the_upgraded_database_as_schema_rs() {
    let diesel = std::env::var("DIESEL_CLI").expect("DIESEL_CLI names a diesel binary");
    run_property(Some(&diesel));
}

pub fn tool(project: &Project, args: &[String]) -> common::Run {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = project
        .command(BIN, &args)
        .stdin_null()
        .run()
        .expect("the binary runs");
    common::Run::from(output)
}

/// What happened, for the summary line.
#[derive(Debug, Default)]
pub struct Tally {
    pub written: usize,
    pub unchanged: usize,
    /// Migrations that rightly failed, atomically, on rows that cannot fit schema.rs.
    pub failed_on_rows: usize,
    /// Of those written, how many had a table keyed by its rowid at head, references round
    /// a cycle, and a reference between two schema sections.
    pub with_rowid_tables: usize,
    pub with_cycles: usize,
    pub across_sections: usize,
    /// Of those written, how many changed a column's nullability in place (`ALTER COLUMN`).
    pub in_place: usize,
    pub refused: BTreeMap<String, usize>,
}

pub fn run_case(case: &Case, diesel: Option<&str>, tally: &mut Tally) -> Result<(), String> {
    let head = build_head(case);
    let target = target_of(&head.model, &case.edits, !case.more_edits.is_empty());
    let files = render_schema(&target.model);
    let schema = shown(&files);

    let project = project_at_head(&head, case.in_place);
    write_schema(&project, &files);
    let context = |what: String| {
        format!(
            "{what}\n--- head up.sql:\n{}\n{schema}\n--- flags: {:?}, in place: {}",
            head.up, target.flags, case.in_place
        )
    };

    // A real database at head, with rows this test chose.
    let db_dir = tempfile::tempdir().unwrap();
    let db_path = db_dir.path().join("app.sqlite3");
    let mut conn = application_database(&db_path);
    common::upgrade(&mut conn, &project);
    let sql = rusqlite::Connection::open(&db_path).unwrap();
    sql.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    // The second step is known up front, so the rows are whole numbers where either step
    // changes a type.
    let head2 = rebase(&head.model, &target.model);
    let target2 = target_of(&head2, &case.more_edits, false);
    let mut retyped = retyped_columns(&head.model, &target.model);
    for (table, column) in retyped_columns(&head2, &target2.model) {
        let t = target.model.table(&table).expect("head2 is target");
        let c = t.col(&column).expect("head2 is target");
        if let Some(h) = head_table_of(&head.model, &target.model, t) {
            if let Some(hc) = head_column_of(h, t, c) {
                retyped.insert((h.name.clone(), hc.name.clone()));
            }
        }
    }
    // References are checked at the end, so rows may reference tables filled later.
    sql.execute_batch("BEGIN; PRAGMA defer_foreign_keys = ON;")
        .unwrap();
    for t in &head.model.tables {
        let inserted: Vec<&Col> = t.cols.iter().filter(|c| !c.generated).collect();
        for i in 1..=case.rows {
            let names: Vec<String> = inserted.iter().map(|c| ident(&c.name, true)).collect();
            let insert = |hostile: bool| {
                let vals: Vec<String> = inserted
                    .iter()
                    .map(|c| {
                        let key = (t.name.clone(), c.name.clone());
                        // `id` too where it is no key: generated columns and triggers use it.
                        let never_null =
                            head.unique.contains(&key) || t.key.contains(&c.name) || c.name == "id";
                        let plain =
                            never_null || t.joins.contains_key(&c.name) || c.name == "parent_id";
                        value(c, i, retyped.contains(&key), never_null, hostile && !plain)
                    })
                    .collect();
                format!(
                    "INSERT INTO {} ({}) VALUES ({});",
                    ident(&t.name, true),
                    names.join(", "),
                    vals.join(", ")
                )
            };
            // A hostile row a reference or CHECK of head refuses is inserted plain.
            if case.hostile && sql.execute_batch(&insert(true)).is_ok() {
                continue;
            }
            let insert = insert(false);
            sql.execute_batch(&insert)
                .map_err(|e| context(format!("the test's rows do not fit head: {insert}: {e}")))?;
        }
    }
    sql.execute_batch("COMMIT;")
        .map_err(|e| context(format!("the test's rows do not fit head: {e}")))?;
    let mut step = Step {
        project: &project,
        conn: &mut conn,
        sql: &sql,
        db_path: &db_path,
        diesel,
        tally,
    };
    let written = step.run(&head.model, &head.objects, &target, &context)?;
    if !written || case.more_edits.is_empty() {
        return Ok(());
    }
    // Again, on top: the first migration's tables, as SQLite stored them, are head now.
    let files2 = render_schema(&target2.model);
    write_schema(&project, &files2);
    let schema2 = shown(&files2);
    let context2 = |what: String| {
        context(format!(
            "{what}\n--- then:\n{schema2}\n--- with flags: {:?}",
            target2.flags
        ))
    };
    let objects2 = carry(&head.objects, &head.model, &target.model);
    step.run(&head2, &objects2, &target2, &context2)?;
    Ok(())
}

/// A project whose one version makes `head`; with `in_place`, its Cargo.toml says its
/// migrations run on SQLite 3.53 or later, which changes nullability in place.
fn project_at_head(head: &Head, in_place: bool) -> Project {
    let project = Project {
        dir: tempfile::tempdir().unwrap(),
        tmp: tempfile::tempdir().unwrap(),
    };
    project.write("diesel.toml", &diesel_toml(&head.model));
    if in_place {
        project.write(
            "Cargo.toml",
            "[package]\nname = \"app\"\n\n[package.metadata.dev-migrate]\noldest-sqlite = \"3.53\"\n",
        );
    }
    project.write("versions/2026-01-01-000000_head/up.sql", &head.up);
    project.write("versions/2026-01-01-000000_head/down.sql", &head.down);
    project
}

/// diesel.toml: one `[print_schema]`, or two sections splitting the tables by name.
pub fn diesel_toml(model: &Model) -> String {
    let migrations = "[migrations_directory]\ndir = \"versions\"\n";
    let Some(second) = &model.second else {
        return format!(
            "[print_schema]\nfile = \"{}\"\n\n{migrations}",
            SECTIONS[0].1
        );
    };
    // An empty `only_tables` would select every table.
    let patterns: Vec<String> = second.iter().map(|n| format!("\"^{n}$\"")).collect();
    let patterns = patterns.join(", ");
    let [(main, main_file), (extra, extra_file)] = SECTIONS;
    format!(
        "[print_schema.{main}]\nfile = \"{main_file}\"\nfilter = {{ except_tables = [{patterns}] }}\n\n\
         [print_schema.{extra}]\nfile = \"{extra_file}\"\nfilter = {{ only_tables = [{patterns}] }}\n\n{migrations}"
    )
}

pub fn write_schema(project: &Project, files: &[(&str, String)]) {
    for (path, text) in files {
        project.write(path, text);
    }
}

/// The schema files, for a failure's message.
pub fn shown(files: &[(&str, String)]) -> String {
    files
        .iter()
        .map(|(path, text)| format!("--- {path}:\n{text}"))
        .collect::<Vec<_>>()
        .join("\n")
}
