//! One `generate` and everything checked after it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use diesel_migrations::MigrationHarness;

use crate::common::{Project, Run};
use crate::head::Object;
use crate::judge::{breaks, kept, names_a_retyped_column, refusal_is_founded, unreferenced};
use crate::model::{canon, Canon, Model};
use crate::print_schema::print_schema_agrees;
use crate::properties::{tool, Tally};
use crate::reading::{
    entries, integrity, read_like_print_schema, rows, schema_readable, values, views_select,
    Entries,
};
use crate::target::{head_column_of, head_table_of, render_schema, Target};

/// A failure's message with what the case wrote, for a failing check.
type Context<'c> = &'c dyn Fn(String) -> String;

/// One `generate` on the project and the database at head, and everything checked after it.
pub struct Step<'a> {
    pub project: &'a Project,
    pub conn: &'a mut diesel::SqliteConnection,
    pub sql: &'a rusqlite::Connection,
    pub db_path: &'a Path,
    pub diesel: Option<&'a str>,
    pub tally: &'a mut Tally,
}

/// What the database at head holds before the step.
struct Before {
    entries: Entries,
    /// Counted, not assumed: a trigger may have added rows to another table.
    rows: BTreeMap<String, i64>,
    /// Each column's values, as quote() writes them, in the order of the table's row key.
    values: BTreeMap<(String, String), Vec<String>>,
}

impl Before {
    fn read(sql: &rusqlite::Connection, head: &Model) -> Before {
        let rows = head
            .tables
            .iter()
            .map(|t| (t.name.clone(), rows(sql, &t.name)))
            .collect();
        let mut values_of = BTreeMap::new();
        for t in &head.tables {
            for c in &t.cols {
                values_of.insert(
                    (t.name.clone(), c.name.clone()),
                    values(sql, &t.name, &c.name, &t.row_key),
                );
            }
        }
        Before {
            entries: entries(sql),
            rows,
            values: values_of,
        }
    }
}

impl Step<'_> {
    /// Runs generate from the database at `head` to `target`, and when it writes a
    /// migration, applies, reverts and reapplies it; `Ok(true)` when one was written.
    pub fn run(
        &mut self,
        head: &Model,
        objects: &[Object],
        target: &Target,
        context: Context,
    ) -> Result<bool, String> {
        let (project, sql) = (self.project, self.sql);
        let files = render_schema(&target.model);
        let head_canon = read_like_print_schema(sql)?;
        if head_canon != canon(head) {
            return Err(context(format!(
                "test bug: head reads as {head_canon:#?}, not as the model {:#?}",
                canon(head)
            )));
        }
        let before = Before::read(sql, head);
        // generate
        let before_tree = project.snapshot();
        let mut args = vec!["generate".to_owned(), "property case".to_owned()];
        args.extend(target.flags.iter().cloned());
        let run = tool(project, &args);
        let expect_no_changes = canon(&target.model) == head_canon;
        match run.code {
            Some(0) => {}
            Some(2) => {
                let reason = self
                    .refusal(
                        &run,
                        &before_tree,
                        expect_no_changes,
                        head,
                        objects,
                        &target.model,
                    )
                    .map_err(context)?;
                if std::env::var_os("SHOW_REFUSALS").is_some() {
                    eprintln!("{}", context(format!("refused: {}", run.stderr)));
                }
                *self.tally.refused.entry(reason).or_default() += 1;
                return Ok(false);
            }
            _ => return Err(context(format!("generate must exit 0 or 2: {run:?}"))),
        }
        if !self.written(&run, expect_no_changes, &head_canon, head, context)? {
            return Ok(false);
        }
        let newest = project.newest();
        let migration = format!(
            "--- {newest}/up.sql:\n{}\n--- down.sql:\n{}",
            project.read(&format!("{newest}/up.sql")),
            project.read(&format!("{newest}/down.sql"))
        );
        let context = |what: String| context(format!("{what}\n{migration}"));
        if !self.up_on_rows(head, &target.model, &before, &context)? {
            return Ok(false);
        }
        after_up(sql, head, objects, &target.model, &before).map_err(&context)?;
        if let Some(diesel) = self.diesel {
            print_schema_agrees(project, diesel, self.db_path, &target.model, &files)
                .map_err(&context)?;
        }
        self.down(head, &target.model, &before).map_err(&context)?;
        self.up_again(head, &target.model, &before)
            .map_err(&context)?;
        project.assert_no_temp_leftovers();
        Ok(true)
    }

    /// An exit 2 is a clean refusal (an error line, no panic, the tree and the temp dir as
    /// they were) for a reason of the input's: its reason (the first words of its error),
    /// for the summary.
    fn refusal(
        &self,
        run: &Run,
        before_tree: &BTreeMap<PathBuf, Option<Vec<u8>>>,
        expect_no_changes: bool,
        head: &Model,
        objects: &[Object],
        target: &Model,
    ) -> Result<String, String> {
        if run.stderr.contains("panicked") || !run.stderr.lines().any(|l| l.starts_with("error: "))
        {
            return Err(format!("exit 2 without an error line, or a panic: {run:?}"));
        }
        if self.project.snapshot() != *before_tree {
            return Err(format!("exit 2 changed the tree: {run:?}"));
        }
        self.project.assert_no_temp_leftovers();
        // The columns that need `--default` are worked out above from the two schemas;
        // generate must agree, and take the values given.
        let disagreement = [
            "is NOT NULL without a DEFAULT",
            "may already hold rows and they need a value",
            "names no column that needs a value",
            "is not one SQL expression",
        ];
        if disagreement.iter().any(|m| run.stderr.contains(m)) {
            return Err(format!(
                "generate and this test disagree on which columns need a value: {run:?}"
            ));
        }
        // The file runs rebuilds with foreign keys off: a foreign key error while planning
        // one is the planner's, not the input's.
        if run.stderr.contains("FOREIGN KEY constraint failed") {
            return Err(format!("refused for the planner's own reason: {run:?}"));
        }
        if expect_no_changes {
            return Err(format!("refused a schema.rs equal to head: {run:?}"));
        }
        let first = run
            .stderr
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_default();
        let reason: String = first
            .split(['`', ':'])
            .take(2)
            .collect::<Vec<_>>()
            .join("…");
        refusal_is_founded(&run.stderr, head, objects, target)
            .map_err(|e| format!("{e}: {run:?}"))?;
        Ok(reason)
    }

    /// After an exit 0, `check` passes, and a migration was written exactly when the
    /// schemas differ; `Ok(true)` when one was, counted for the summary.
    fn written(
        &mut self,
        run: &Run,
        expect_no_changes: bool,
        head_canon: &Canon,
        head: &Model,
        context: Context,
    ) -> Result<bool, String> {
        let project = self.project;
        project.assert_no_temp_leftovers();
        let checked = tool(project, &["check".to_owned()]);
        if checked.code != Some(0) {
            return Err(context(format!(
                "check fails right after generate: {checked:?}\ngenerate said: {run:?}"
            )));
        }
        if run.stdout.contains("No changes in schema detected.") {
            if !expect_no_changes {
                return Err(context(format!(
                    "generate saw no change, but head reads as {head_canon:#?}: {run:?}"
                )));
            }
            self.tally.unchanged += 1;
            return Ok(false);
        }
        if expect_no_changes {
            return Err(context(format!("a migration for no change: {run:?}")));
        }
        self.tally.written += 1;
        let newest = self
            .project
            .versions()
            .pop()
            .expect("generate wrote a version");
        if self
            .project
            .read(&format!("versions/{newest}/up.sql"))
            .contains(" ALTER COLUMN ")
        {
            self.tally.in_place += 1;
        }
        if head.tables.iter().any(|t| t.key == ["rowid"]) {
            self.tally.with_rowid_tables += 1;
        }
        if head.has_cycle() {
            self.tally.with_cycles += 1;
        }
        if head
            .tables
            .iter()
            .any(|t| t.joins.values().any(|p| head.crosses(&t.name, p)))
        {
            self.tally.across_sections += 1;
        }
        Ok(true)
    }

    /// Up, on the rows. It may fail only where the rows cannot be what schema.rs says (a
    /// row a trigger added references no parent of a new joinable, a value a retyped
    /// column cannot keep), and then atomically; `Ok(false)` when it did.
    fn up_on_rows(
        &mut self,
        head: &Model,
        target: &Model,
        before: &Before,
        context: Context,
    ) -> Result<bool, String> {
        let sql = self.sql;
        let Err(e) = upgrade(self.conn, self.project) else {
            return Ok(true);
        };
        let founded = (e.contains("a row references a missing parent row")
            && unreferenced(sql, head, target).is_some())
            || names_a_retyped_column(&e, head, target);
        if !founded {
            return Err(context(format!("up fails on the rows: {e}")));
        }
        if entries(sql) != before.entries
            || head
                .tables
                .iter()
                .any(|t| rows(sql, &t.name) != before.rows[&t.name])
        {
            return Err(context(format!("up failed, but not atomically: {e}")));
        }
        self.tally.failed_on_rows += 1;
        Ok(false)
    }

    /// Down: sqlite_schema byte for byte, every row, the values of every column up kept.
    fn down(&mut self, head: &Model, target: &Model, before: &Before) -> Result<(), String> {
        let sql = self.sql;
        let newest_migration = self.project.migrations().pop().expect("the new version");
        self.conn
            .revert_migration(&*newest_migration)
            .map_err(|e| format!("down fails on the rows: {e}"))?;
        let after_down = entries(sql);
        if after_down != before.entries {
            let missing: Vec<_> = before
                .entries
                .iter()
                .filter(|e| !after_down.contains(e))
                .collect();
            let extra: Vec<_> = after_down
                .iter()
                .filter(|e| !before.entries.contains(e))
                .collect();
            return Err(format!(
                "down did not restore sqlite_schema:\nbefore only: {missing:#?}\nafter only: {extra:#?}"
            ));
        }
        integrity(sql).map_err(|e| format!("after down: {e}"))?;
        schema_readable(sql).map_err(|e| format!("after down: {e}"))?;
        views_select(sql).map_err(|e| format!("after down: {e}"))?;
        rows_after_down(sql, head, target, before)
    }

    /// And up again: every kept table has its rows, and SQLite reads the schema.
    fn up_again(&mut self, head: &Model, target: &Model, before: &Before) -> Result<(), String> {
        let sql = self.sql;
        upgrade(self.conn, self.project).map_err(|e| format!("up fails again: {e}"))?;
        for t in &target.tables {
            if let Some(h) = head_table_of(head, target, t) {
                if rows(sql, &t.name) != before.rows[&h.name] {
                    return Err(format!("after up again, {} lost rows", t.name));
                }
            }
        }
        integrity(sql).map_err(|e| format!("after up again: {e}"))?;
        schema_readable(sql).map_err(|e| format!("after up again: {e}"))?;
        Ok(())
    }
}

/// After up: the database is sound and reads as schema.rs; every kept table has its rows,
/// every kept column of an unchanged type its values; kept tables keep their indexes,
/// views and triggers.
fn after_up(
    sql: &rusqlite::Connection,
    head: &Model,
    objects: &[Object],
    target: &Model,
    before: &Before,
) -> Result<(), String> {
    integrity(sql).map_err(|e| format!("after up: {e}"))?;
    schema_readable(sql).map_err(|e| format!("after up: {e}"))?;
    views_select(sql).map_err(|e| format!("after up: {e}"))?;
    let after = read_like_print_schema(sql)?;
    if after != canon(target) {
        return Err(format!(
            "after up the database reads as {after:#?}\nnot as schema.rs: {:#?}",
            canon(target)
        ));
    }
    rows_after_up(sql, head, target, before)?;
    let names_after: BTreeSet<(String, String)> =
        entries(sql).into_iter().map(|e| (e.kind, e.name)).collect();
    // Indexes, views and triggers of kept tables stay, unless an index lost a column.
    for object in objects {
        if !kept(head, target, &object.table, None)
            || (object.kind == "index" && breaks(head, target, object))
        {
            continue;
        }
        if !names_after.contains(&(object.kind.to_owned(), object.name.clone())) {
            return Err(format!("after up, {} {} is gone", object.kind, object.name));
        }
    }
    Ok(())
}

/// After up, each kept table has the rows it had, and each column kept with its type and
/// nullability the values it had.
fn rows_after_up(
    sql: &rusqlite::Connection,
    head: &Model,
    target: &Model,
    before: &Before,
) -> Result<(), String> {
    for t in &target.tables {
        let Some(h) = head_table_of(head, target, t) else {
            continue;
        };
        let (count, was) = (rows(sql, &t.name), before.rows[&h.name]);
        if count != was {
            return Err(format!("after up, {} has {count} rows, not {was}", t.name));
        }
        // A rowid key given up for a declared one takes the rows' `id`s as their rowids
        // (by design: the key is another); `id` orders the rows as the rowid did.
        let key = [h.row_key.as_str(), "id"]
            .iter()
            .find_map(|key| {
                t.cols
                    .iter()
                    .find(|c| head_column_of(h, t, c).is_some_and(|hc| hc.name == *key))
            })
            .expect("head keys are kept");
        // A generated column computes its value from the others: when one of them changes
        // type, so may what it computes (`id * 2` of the Float 1.0 is 2.0, not 2).
        let retyped = t
            .cols
            .iter()
            .any(|c| head_column_of(h, t, c).is_some_and(|hc| hc.ty != c.ty));
        for c in &t.cols {
            let Some(hc) = head_column_of(h, t, c) else {
                continue;
            };
            if hc.ty != c.ty || (hc.nullable && !c.nullable) || (hc.generated && retyped) {
                continue;
            }
            let now = values(sql, &t.name, &c.name, &key.name);
            let was = &before.values[&(h.name.clone(), hc.name.clone())];
            if &now != was {
                return Err(format!(
                    "after up, {}.{} holds {now:?} instead of {was:?}",
                    t.name, c.name
                ));
            }
        }
    }
    Ok(())
}

/// After down, each table up kept has its rows back, and each column up kept (or made
/// nullable) its values.
fn rows_after_down(
    sql: &rusqlite::Connection,
    head: &Model,
    target: &Model,
    before: &Before,
) -> Result<(), String> {
    for h in &head.tables {
        // A table up dropped comes back empty; every other keeps its rows.
        let Some(t) = target
            .tables
            .iter()
            .find(|t| head_table_of(head, target, t).is_some_and(|x| x.name == h.name))
        else {
            continue;
        };
        let (count, was) = (rows(sql, &h.name), before.rows[&h.name]);
        if count != was {
            return Err(format!(
                "after down, {} has {count} rows, not {was}",
                h.name
            ));
        }
        for hc in &h.cols {
            let Some(c) = t
                .cols
                .iter()
                .find(|c| head_column_of(h, t, c).is_some_and(|x| x.name == hc.name))
            else {
                continue;
            };
            if hc.nullable && !c.nullable {
                continue;
            }
            // A type change keeps every value exactly or fails: once back, each value is
            // what it was, as quote() writes it.
            let now = values(sql, &h.name, &hc.name, &h.row_key);
            let was = &before.values[&(h.name.clone(), hc.name.clone())];
            if &now != was {
                return Err(format!(
                    "after down, {}.{} holds {now:?} instead of {was:?}",
                    h.name, hc.name
                ));
            }
        }
    }
    Ok(())
}

/// Applies the pending migrations through the harness, as the application does.
pub fn upgrade(conn: &mut diesel::SqliteConnection, project: &Project) -> Result<(), String> {
    let source = diesel_migrations::FileBasedMigrations::from_path(project.file("versions"))
        .map_err(|e| e.to_string())?;
    conn.run_pending_migrations(source)
        .map(|_| ())
        .map_err(|e| e.to_string())
}
