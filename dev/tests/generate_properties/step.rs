//! One `generate` and everything checked after it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use diesel_migrations::MigrationHarness;

use crate::common::Project;
use crate::head::{ident, Object};
use crate::model::{canon, Model};
use crate::print_schema::print_schema_agrees;
use crate::properties::{tool, Tally};
use crate::reading::{
    entries, integrity, read_like_print_schema, rows, schema_readable, values, views_select,
};
use crate::target::{head_column_of, head_table_of, render_schema, Target};

pub struct Step<'a> {
    pub project: &'a Project,
    pub conn: &'a mut diesel::SqliteConnection,
    pub sql: &'a rusqlite::Connection,
    pub db_path: &'a Path,
    pub diesel: Option<&'a str>,
    pub tally: &'a mut Tally,
}

impl Step<'_> {
    /// Runs generate from the database at `head` to `target`, and when it writes a
    /// migration, applies, reverts and reapplies it; `Ok(true)` when one was written.
    pub fn run(
        &mut self,
        head: &Model,
        objects: &[Object],
        target: &Target,
        context: &dyn Fn(String) -> String,
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
        let before_entries = entries(sql);
        // Counted, not assumed: a trigger may have added rows to another table.
        let before_rows: BTreeMap<String, i64> = head
            .tables
            .iter()
            .map(|t| (t.name.clone(), rows(sql, &t.name)))
            .collect();
        let mut before_values = BTreeMap::new();
        for t in &head.tables {
            for c in &t.cols {
                before_values.insert(
                    (t.name.clone(), c.name.clone()),
                    values(sql, &t.name, &c.name, &t.row_key),
                );
            }
        }
        // generate
        let before_tree = project.snapshot();
        let mut args = vec!["generate".to_owned(), "property case".to_owned()];
        args.extend(target.flags.iter().cloned());
        let run = tool(project, &args);
        let expect_no_changes = canon(&target.model) == head_canon;
        match run.code {
            Some(0) => {}
            Some(2) => {
                if run.stderr.contains("panicked")
                    || !run.stderr.lines().any(|l| l.starts_with("error: "))
                {
                    return Err(context(format!(
                        "exit 2 without an error line, or a panic: {run:?}"
                    )));
                }
                if project.snapshot() != before_tree {
                    return Err(context(format!("exit 2 changed the tree: {run:?}")));
                }
                project.assert_no_temp_leftovers();
                // The columns that need `--default` are worked out above from the two schemas;
                // generate must agree, and take the values given.
                let disagreement = [
                    "is NOT NULL without a DEFAULT",
                    "may already hold rows and they need a value",
                    "names no column that needs a value",
                    "is not one SQL expression",
                ];
                if disagreement.iter().any(|m| run.stderr.contains(m)) {
                    return Err(context(format!(
                        "generate and this test disagree on which columns need a value: {run:?}"
                    )));
                }
                // The file runs rebuilds with foreign keys off: a foreign key error while
                // planning one is the planner's, not the input's.
                if run.stderr.contains("FOREIGN KEY constraint failed") {
                    return Err(context(format!(
                        "refused for the planner's own reason: {run:?}"
                    )));
                }
                if expect_no_changes {
                    return Err(context(format!(
                        "refused a schema.rs equal to head: {run:?}"
                    )));
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
                refusal_is_founded(&run.stderr, head, objects, &target.model)
                    .map_err(|e| context(format!("{e}: {run:?}")))?;
                if std::env::var_os("SHOW_REFUSALS").is_some() {
                    eprintln!("{}", context(format!("refused: {}", run.stderr)));
                }
                *self.tally.refused.entry(reason).or_default() += 1;
                return Ok(false);
            }
            _ => return Err(context(format!("generate must exit 0 or 2: {run:?}"))),
        }
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
        let newest = project.newest();
        let migration = format!(
            "--- {newest}/up.sql:\n{}\n--- down.sql:\n{}",
            project.read(&format!("{newest}/up.sql")),
            project.read(&format!("{newest}/down.sql"))
        );
        let context = |what: String| context(format!("{what}\n{migration}"));

        // Up, on the rows. It may fail only where the rows cannot be what schema.rs says (a
        // row a trigger added references no parent of a new joinable, a value a retyped
        // column cannot keep), and then atomically.
        if let Err(e) = upgrade(self.conn, project) {
            let founded = (e.contains("a row references a missing parent row")
                && unreferenced(sql, head, &target.model).is_some())
                || names_a_retyped_column(&e, head, &target.model);
            if !founded {
                return Err(context(format!("up fails on the rows: {e}")));
            }
            if entries(sql) != before_entries
                || head
                    .tables
                    .iter()
                    .any(|t| rows(sql, &t.name) != before_rows[&t.name])
            {
                return Err(context(format!("up failed, but not atomically: {e}")));
            }
            self.tally.failed_on_rows += 1;
            return Ok(false);
        }
        integrity(sql).map_err(|e| context(format!("after up: {e}")))?;
        schema_readable(sql).map_err(|e| context(format!("after up: {e}")))?;
        views_select(sql).map_err(|e| context(format!("after up: {e}")))?;
        let after = read_like_print_schema(sql).map_err(&context)?;
        if after != canon(&target.model) {
            return Err(context(format!(
                "after up the database reads as {after:#?}\nnot as schema.rs: {:#?}",
                canon(&target.model)
            )));
        }
        let names_after: BTreeSet<(String, String)> = entries(sql)
            .into_iter()
            .map(|e| (e[0].clone().unwrap(), e[1].clone().unwrap()))
            .collect();
        for t in &target.model.tables {
            let Some(h) = head_table_of(head, &target.model, t) else {
                continue;
            };
            let (count, was) = (rows(sql, &t.name), before_rows[&h.name]);
            if count != was {
                return Err(context(format!(
                    "after up, {} has {count} rows, not {was}",
                    t.name
                )));
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
            for c in &t.cols {
                let Some(hc) = head_column_of(h, t, c) else {
                    continue;
                };
                if hc.ty != c.ty || (hc.nullable && !c.nullable) {
                    continue;
                }
                let now = values(sql, &t.name, &c.name, &key.name);
                let was = &before_values[&(h.name.clone(), hc.name.clone())];
                if &now != was {
                    return Err(context(format!(
                        "after up, {}.{} holds {now:?} instead of {was:?}",
                        t.name, c.name
                    )));
                }
            }
        }
        // Indexes, views and triggers of kept tables stay, unless an index lost a column.
        for object in objects {
            if !kept(head, &target.model, &object.table, None)
                || (object.kind == "index" && breaks(head, &target.model, object))
            {
                continue;
            }
            if !names_after.contains(&(object.kind.to_owned(), object.name.clone())) {
                return Err(context(format!(
                    "after up, {} {} is gone",
                    object.kind, object.name
                )));
            }
        }

        if let Some(diesel) = self.diesel {
            print_schema_agrees(project, diesel, self.db_path, &target.model, &files)
                .map_err(&context)?;
        }

        // Down: sqlite_schema byte for byte, every row, the values of every column up kept.
        let newest_migration = project.migrations().pop().expect("the new version");
        self.conn
            .revert_migration(&*newest_migration)
            .map_err(|e| context(format!("down fails on the rows: {e}")))?;
        let after_down = entries(sql);
        if after_down != before_entries {
            let missing: Vec<_> = before_entries
                .iter()
                .filter(|e| !after_down.contains(e))
                .collect();
            let extra: Vec<_> = after_down
                .iter()
                .filter(|e| !before_entries.contains(e))
                .collect();
            return Err(context(format!(
                "down did not restore sqlite_schema:\nbefore only: {missing:#?}\nafter only: {extra:#?}"
            )));
        }
        integrity(sql).map_err(|e| context(format!("after down: {e}")))?;
        schema_readable(sql).map_err(|e| context(format!("after down: {e}")))?;
        views_select(sql).map_err(|e| context(format!("after down: {e}")))?;
        for h in &head.tables {
            // A table up dropped comes back empty; every other keeps its rows.
            let Some(t) =
                target.model.tables.iter().find(|t| {
                    head_table_of(head, &target.model, t).is_some_and(|x| x.name == h.name)
                })
            else {
                continue;
            };
            let (count, was) = (rows(sql, &h.name), before_rows[&h.name]);
            if count != was {
                return Err(context(format!(
                    "after down, {} has {count} rows, not {was}",
                    h.name
                )));
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
                let was = &before_values[&(h.name.clone(), hc.name.clone())];
                if &now != was {
                    return Err(context(format!(
                        "after down, {}.{} holds {now:?} instead of {was:?}",
                        h.name, hc.name
                    )));
                }
            }
        }

        // And up again.
        upgrade(self.conn, project).map_err(|e| context(format!("up fails again: {e}")))?;
        for t in &target.model.tables {
            if let Some(h) = head_table_of(head, &target.model, t) {
                if rows(sql, &t.name) != before_rows[&h.name] {
                    return Err(context(format!("after up again, {} lost rows", t.name)));
                }
            }
        }
        integrity(sql).map_err(|e| context(format!("after up again: {e}")))?;
        schema_readable(sql).map_err(|e| context(format!("after up again: {e}")))?;
        project.assert_no_temp_leftovers();
        Ok(true)
    }
}

/// Whether head's `table` (and its `column`) is still there in the target, under any name.
pub fn kept(head: &Model, target: &Model, table: &str, column: Option<&str>) -> bool {
    let Some(h) = head.table(table) else {
        return false;
    };
    target.tables.iter().any(|t| {
        head_table_of(head, target, t).is_some_and(|x| x.name == table)
            && column.is_none_or(|c| {
                t.cols
                    .iter()
                    .any(|x| head_column_of(h, t, x).is_some_and(|hc| hc.name == c))
            })
    })
}

/// Whether the target takes away something `object` names (a trigger goes with its own
/// table, which is not breaking it).
pub fn breaks(head: &Model, target: &Model, object: &Object) -> bool {
    object.deps.iter().any(|(table, column)| {
        let owner_gone =
            object.kind == "trigger" && table == &object.table && !kept(head, target, table, None);
        !owner_gone && !kept(head, target, table, column.as_deref())
    })
}

/// A refusal this test can judge is refused for a reason the two schemas give: a view or
/// trigger it says would break names something the target drops; a table it says cannot
/// be dropped is still referenced by a column the target keeps.
pub fn refusal_is_founded(
    stderr: &str,
    head: &Model,
    objects: &[Object],
    target: &Model,
) -> Result<(), String> {
    let first = stderr.lines().next().unwrap_or_default();
    if let Some((_, broken)) = first.split_once(" would break ") {
        for named in broken.split(", ") {
            let Some((kind, name)) = named.split_once(' ') else {
                continue;
            };
            // Objects are known by their names at the case's head, before any step.
            let Some(object) = objects.iter().find(|o| o.kind == kind && o.name == name) else {
                continue;
            };
            if !breaks(head, target, object) {
                return Err(format!(
                    "refused because {kind} {name} would break, but nothing it names goes"
                ));
            }
        }
    }
    if let Some(rest) = first.strip_prefix("error: table ") {
        if let Some((_, reference)) = rest.split_once(" cannot be dropped: ") {
            let reference = reference.trim_end_matches(" references it");
            if let Some((child, column)) = reference.split_once('.') {
                if !kept(head, target, child, Some(column)) {
                    return Err(format!(
                        "refused because {reference} references a dropped table, but the target drops {reference}"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A joinable of `target` that rows of the database (at `head`) cannot satisfy: a value
/// that is no key of the parent (a new parent table has no rows at all).
pub fn unreferenced(conn: &rusqlite::Connection, head: &Model, target: &Model) -> Option<String> {
    for t in &target.tables {
        let Some(h) = head_table_of(head, target, t) else {
            continue;
        };
        for (column, parent) in &t.joins {
            let c = t.col(column).expect("joined columns exist");
            let p = target.table(parent).expect("joined tables exist");
            let keys = match head_table_of(head, target, p) {
                Some(hp) => format!(
                    "SELECT {} FROM {}",
                    ident(&hp.row_key, true),
                    ident(&hp.name, true)
                ),
                None => "SELECT NULL WHERE 0".to_owned(),
            };
            // An added column holds its `--default` (always 1 for a key) in every row.
            let value = match head_column_of(h, t, c) {
                Some(hc) => ident(&hc.name, true),
                None if !c.nullable => "1".to_owned(),
                None => continue,
            };
            let sql = format!(
                "SELECT count(*) FROM {} WHERE {value} IS NOT NULL AND {value} NOT IN ({keys})",
                ident(&h.name, true),
            );
            let n: i64 = conn.query_row(&sql, [], |r| r.get(0)).unwrap();
            if n > 0 {
                return Some(format!("{}.{column} -> {parent}", t.name));
            }
        }
    }
    None
}

/// Whether `message` is a conversion's refusal naming a column whose type the change makes
/// another (by its head or its new name, in its head or new table).
pub fn names_a_retyped_column(message: &str, head: &Model, target: &Model) -> bool {
    target.tables.iter().any(|t| {
        let Some(h) = head_table_of(head, target, t) else {
            return false;
        };
        t.cols.iter().any(|c| {
            let Some(hc) = head_column_of(h, t, c).filter(|hc| hc.ty != c.ty) else {
                return false;
            };
            [&t.name, &h.name].iter().any(|table| {
                [&c.name, &hc.name].iter().any(|column| {
                    message.contains(&format!("{table}.{column} of the row "))
                        && (message.contains(", which Diesel cannot read as")
                            || message.contains(", which the copy as"))
                })
            })
        })
    })
}

/// Applies the pending migrations through the harness, as the application does.
pub fn upgrade(conn: &mut diesel::SqliteConnection, project: &Project) -> Result<(), String> {
    let source = diesel_migrations::FileBasedMigrations::from_path(project.file("versions"))
        .map_err(|e| e.to_string())?;
    conn.run_pending_migrations(source)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Head columns whose type schema.rs changes (keyed by head names).
pub fn retyped_columns(head: &Model, target: &Model) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for t in &target.tables {
        let Some(h) = head_table_of(head, target, t) else {
            continue;
        };
        for c in &t.cols {
            if let Some(hc) = head_column_of(h, t, c).filter(|hc| hc.ty != c.ty) {
                out.insert((h.name.clone(), hc.name.clone()));
            }
        }
    }
    out
}
