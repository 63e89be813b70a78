//! How a table's changes are made: in place where SQLite can, by a rebuild where it cannot.
//! ALTER TABLE adds and drops columns; a column's nullability changes in place where every
//! SQLite the migrations run on has `ALTER TABLE t ALTER COLUMN c SET NOT NULL` / `DROP NOT
//! NULL` (3.53 and later; the project says which is the oldest, `project::oldest_sqlite`).
//!
//! A rebuild copies every row, renumbers nothing but rewrites every page, and leaves a WAL
//! the size of the table for replicas to ship. In place, `DROP NOT NULL` edits the stored
//! text only, and `SET NOT NULL` scans the rows (failing on a NULL) and edits it; the NULLs
//! are first given the `--default` by an `UPDATE` of those rows alone. Everything else a
//! rebuild guarantees still holds: rowids and values untouched, the same constraints, and a
//! row that would break the change stops the migration, named.
//!
//! Where the rebuild stays:
//! - NULLs filled where the `UPDATE` would fire a trigger or a foreign-key action (SQLite's
//!   `EXPLAIN` of it lists them; a copy fires none);
//! - a generated column (it takes no value);
//! - a key column of a WITHOUT ROWID table made nullable (refused, as the rebuild refuses
//!   it);
//! - a down whose statements would not give the stored text back byte for byte. SQLite
//!   appends the NOT NULL it adds after the column's last token (`NOT NULL DEFAULT 0` comes
//!   back as `DEFAULT 0 NOT NULL`), and drops one with the space before it, which on the
//!   table's last column is the line break before `)`. Down then rebuilds to the stored
//!   text, as always; SQLite is asked, on an empty copy of the table, which it is.

use crate::error::Result;
use crate::generate::diff::Change;
use crate::history::effect::Effect;
use crate::schema::introspect::StoredTable;
use crate::schema::model::ColumnKey;
use crate::sqlite::quote::{literal, quote};
use crate::sqlite::release::Release;

use super::defaults::constant_default;
use super::rebuild::{refusal, row_key};
use super::trial::inspect_one;
use super::up::Planner;
use super::{Script, Step};

/// Whether a table's changes can be made in place.
pub(super) enum Nullability {
    /// Each makes a column NOT NULL or nullable, and SQLite can make it in place.
    InPlace,
    /// Each does, but a copy keeps what in place would not: the note that says why.
    Copied(String),
    /// Something else changes too: the table is rebuilt, as ever.
    Other,
}

impl Planner<'_> {
    /// Makes `changes` to `table`: in place where SQLite can (ALTER TABLE, and nullability
    /// where the oldest SQLite the migrations run on has it), else by a rebuild.
    pub(super) fn alter_table(
        &self,
        script: &mut Script,
        table: &str,
        changes: &[&Change],
    ) -> Result<()> {
        let current = inspect_one(self.conn, table)?;
        let nullability = self.nullability(&current, changes);
        if matches!(nullability, Nullability::InPlace) && self.alters_nullability() {
            for change in changes {
                self.run(script, self.nullability_in_place(&current, change))?;
            }
        } else if self.needs_rebuild(table, changes) {
            let mut rebuild = self.rebuild_up(&current, changes)?;
            match nullability {
                Nullability::InPlace => rebuild.notes.push(self.copied_for_an_older_sqlite()),
                Nullability::Copied(why) if self.alters_nullability() => rebuild.notes.push(why),
                Nullability::Copied(_) | Nullability::Other => {}
            }
            self.run(script, rebuild.into_step())?;
        } else {
            for change in changes {
                self.run(script, self.alter(change))?;
            }
        }
        Ok(())
    }

    /// Whether `changes` (all of one table, `current`) can be made in place: each only makes
    /// a column NOT NULL or nullable, and SQLite makes it in place without changing what
    /// happens to the rows (see the module's notes).
    pub(super) fn nullability(&self, current: &StoredTable, changes: &[&Change]) -> Nullability {
        let mut why_copied = None;
        for change in changes {
            let Change::AlterColumn { table, from, to } = change else {
                return Nullability::Other;
            };
            let Some(stored) = current.column(&to.name) else {
                return Nullability::Other;
            };
            if from.ty != to.ty || from.nullable == to.nullable {
                return Nullability::Other;
            }
            let in_without_rowid_key =
                current.without_rowid && current.primary_key().iter().any(|k| k.name == to.name);
            if to.nullable && in_without_rowid_key {
                // Refused by the rebuild, which says why.
                return Nullability::Other;
            }
            if stored.generated {
                why_copied = Some(format!(
                    "Copied, not altered in place: {table}.{} is generated, and takes no value.",
                    to.name
                ));
            } else if !to.nullable {
                let expr = &self.defaults[&ColumnKey::new(table, &to.name)];
                if let Some(fired) = fired(self.conn, &fill(table, &to.name, expr)) {
                    why_copied = Some(format!(
                        "Copied, not altered in place: filling the NULLs of {table}.{} would fire {fired}, and a copy fires none.",
                        to.name,
                    ));
                }
            }
        }
        match why_copied {
            Some(why) => Nullability::Copied(why),
            None => Nullability::InPlace,
        }
    }

    /// Whether the oldest SQLite the migrations run on changes nullability in place.
    pub(super) fn alters_nullability(&self) -> bool {
        self.oldest_sqlite.has(Release::ALTER_COLUMN_NOT_NULL)
    }

    /// Why a table whose changes can be made `InPlace` is copied all the same, for the
    /// rebuild's notes.
    pub(super) fn copied_for_an_older_sqlite(&self) -> String {
        let oldest = &self.oldest_sqlite;
        let runs_on = match oldest.release {
            Some(release) => format!(
                "these migrations must run on SQLite {release} ({})",
                oldest.source
            ),
            None => format!(
                "the oldest SQLite these migrations run on is unknown ({})",
                oldest.source
            ),
        };
        let release = short(Release::ALTER_COLUMN_NOT_NULL);
        format!(
            "Copied, not altered in place: SQLite {release} changes nullability in place, but {runs_on}. Once every database runs {release} or later, say so in Cargo.toml: `oldest-sqlite = \"{release}\"` under [package.metadata.dev-migrate]."
        )
    }

    /// The step that makes one change of `current` in place (its table's changes are
    /// `InPlace`).
    pub(super) fn nullability_in_place(&self, current: &StoredTable, change: &Change) -> Step {
        let Change::AlterColumn { table, to, .. } = change else {
            unreachable!("Nullability::InPlace admits nothing else: {change}");
        };
        let (name, column) = (quote(table), quote(&to.name));
        if to.nullable {
            return Step {
                notes: vec![format!(
                    "Makes {table}.{} nullable in place: no row is copied.",
                    to.name
                )],
                ..Step::statement(format!(
                    "ALTER TABLE {name} ALTER COLUMN {column} DROP NOT NULL;"
                ))
            };
        }
        let expr = &self.defaults[&ColumnKey::new(table, &to.name)];
        let mut sql = format!("{};\n", fill(table, &to.name, expr));
        // A constant that is not NULL fills every row; anything else may leave one NULL,
        // which SQLite's own scan would refuse without naming it.
        let fills_every_row = constant_default(self.conn, expr)
            && self
                .conn
                .query_row(&format!("SELECT ({expr}) IS NOT NULL"), [], |r| {
                    r.get::<_, bool>(0)
                })
                .unwrap_or(false);
        if !fills_every_row {
            sql.push_str(&refuse_nulls(
                current,
                &to.name,
                &format!(" is still NULL after `{expr}`, and the column becomes NOT NULL; give that row a value first"),
            ));
            sql.push('\n');
        }
        sql.push_str(&format!(
            "ALTER TABLE {name} ALTER COLUMN {column} SET NOT NULL;"
        ));
        Step {
            notes: vec![format!(
                "Makes {table}.{} NOT NULL in place: only the rows holding NULL are written, none is copied.",
                to.name
            )],
            effects: vec![Effect::FillsNulls {
                table: table.clone(),
                column: to.name.clone(),
                expr: expr.clone(),
            }],
            ..Step::statement(sql)
        }
    }
}

/// The down of a table up changed in place: `now` back to `old` by the opposite statements,
/// when they give back `old`'s stored text exactly (asked of SQLite on an empty copy of the
/// table) and the table kept its name, columns and types. `None` when a rebuild must.
pub(super) fn restore_nullability(old: &StoredTable, now: &StoredTable) -> Option<Step> {
    let same_shape = old.name == now.name
        && old.columns.len() == now.columns.len()
        && old.columns.iter().zip(&now.columns).all(|(o, n)| {
            o.name == n.name
                && o.declared_type == n.declared_type
                && o.generated == n.generated
                && o.default == n.default
        });
    if !same_shape {
        return None;
    }
    let name = quote(&now.name);
    let mut statements = Vec::new();
    let mut effects = Vec::new();
    let mut guards = Vec::new();
    for (o, n) in old.columns.iter().zip(&now.columns) {
        if o.not_null == n.not_null {
            continue;
        }
        if o.generated {
            return None;
        }
        let column = quote(&o.name);
        if o.not_null {
            statements.push(format!(
                "ALTER TABLE {name} ALTER COLUMN {column} SET NOT NULL;"
            ));
            effects.push(Effect::RequiresValues {
                table: now.name.clone(),
                column: o.name.clone(),
            });
            guards.push(refuse_nulls(
                now,
                &o.name,
                " is NULL, and down makes the column NOT NULL again; give such rows a value first",
            ));
        } else {
            statements.push(format!(
                "ALTER TABLE {name} ALTER COLUMN {column} DROP NOT NULL;"
            ));
        }
    }
    if statements.is_empty() || !gives_back(&now.sql, &now.name, &statements, &old.sql) {
        return None;
    }
    let sql = guards.into_iter().chain(statements).collect::<Vec<_>>();
    Some(Step {
        notes: vec![format!(
            "Restores {} exactly as it was, in place: no row is copied.",
            old.name
        )],
        effects,
        ..Step::statement(sql.join("\n"))
    })
}

/// Whether `statements` turn the table `created` makes (named `name`) into one stored as
/// `wanted`, on an empty in-memory database.
fn gives_back(created: &str, name: &str, statements: &[String], wanted: &str) -> bool {
    let stored = rusqlite::Connection::open_in_memory().and_then(|conn| {
        conn.execute_batch(&format!("{created};\n{}", statements.join("\n")))?;
        conn.query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get::<_, String>(0),
        )
    });
    stored.is_ok_and(|sql| sql == wanted)
}

/// What running `sql` on `conn` would set off besides itself (triggers, and
/// foreign-key actions, which SQLite runs as programs of their own), as SQLite compiles
/// it: `EXPLAIN` lists each program a statement calls, a trigger's headed by its name.
/// `None` when nothing.
fn fired(conn: &rusqlite::Connection, sql: &str) -> Option<String> {
    let listed = conn
        .prepare(&format!("EXPLAIN {sql}"))
        .and_then(|mut explain| {
            explain
                .query_map([], |r| {
                    // addr, opcode, p1, p2, p3, p4, ...: p4 is text, a number or NULL, by opcode.
                    let p4 = r.get_ref(5)?.as_str().ok().map(str::to_owned);
                    Ok((r.get::<_, String>(1)?, p4))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
        });
    let Ok(listed) = listed else {
        // SQLite cannot compile it here: the copy runs it instead, and fails as it would.
        return Some("what SQLite cannot compile on the planning copy".to_owned());
    };
    if !listed.iter().any(|(opcode, _)| opcode == "Program") {
        return None;
    }
    let triggers: Vec<&str> = listed
        .iter()
        .filter_map(|(_, p4)| p4.as_deref()?.strip_prefix("-- TRIGGER "))
        .collect();
    Some(if triggers.is_empty() {
        "foreign-key actions".to_owned()
    } else {
        format!("triggers ({})", triggers.join(", "))
    })
}

/// The statement that gives the NULLs of `table.column` the value `expr`.
fn fill(table: &str, column: &str, expr: &str) -> String {
    let column = quote(column);
    format!(
        "UPDATE {} SET {column} = ({expr}) WHERE {column} IS NULL",
        quote(table)
    )
}

/// Statements that fail, naming the first row of `table` whose `column` is NULL, with
/// `why` after the row; nothing when there is none.
fn refuse_nulls(table: &StoredTable, column: &str, why: &str) -> String {
    refusal(&format!(
        "SELECT {} || {} || {}\nFROM {} WHERE {} IS NULL LIMIT 1",
        literal(&format!("{}.{column} of the row ", table.name)),
        row_key(table),
        literal(why),
        quote(&table.name),
        quote(column)
    ))
}

/// `3.53` for 3.53.0.
fn short(release: Release) -> String {
    release
        .to_string()
        .strip_suffix(".0")
        .map_or_else(|| release.to_string(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_an_update_sets_off_is_read_from_what_sqlite_compiles() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE users (id INTEGER PRIMARY KEY, age INTEGER, code TEXT UNIQUE);
             CREATE TABLE audit (note TEXT);
             CREATE TRIGGER made AFTER INSERT ON users BEGIN INSERT INTO audit VALUES ('i'); END;",
        )
        .unwrap();
        let age = fill("users", "age", "0");
        assert_eq!(
            fired(&conn, &age),
            None,
            "a trigger on INSERT fires on no UPDATE"
        );
        conn.execute_batch(
            "CREATE TRIGGER \"aged\" AFTER UPDATE OF age ON users BEGIN INSERT INTO audit VALUES ('u'); END;",
        )
        .unwrap();
        assert_eq!(fired(&conn, &age).as_deref(), Some("triggers (aged)"));
        let code = fill("users", "code", "'x'");
        assert_eq!(fired(&conn, &code), None);
        conn.execute_batch(
            "CREATE TABLE badges (code TEXT REFERENCES users (code) ON UPDATE CASCADE);",
        )
        .unwrap();
        assert_eq!(fired(&conn, &code).as_deref(), Some("foreign-key actions"));
        assert_eq!(
            fired(&conn, &fill("users", "missing", "0")).as_deref(),
            Some("what SQLite cannot compile on the planning copy")
        );
    }
}
