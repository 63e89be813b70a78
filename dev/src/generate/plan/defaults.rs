//! The values rows get: a `--default` for a NOT NULL column added to or made NOT NULL in a
//! table that may hold rows, for one down adds back, and for a retyped column whose DEFAULT
//! is no value of its new type. Which columns need one, the error
//! that names the flag, whether SQLite takes a default on rows, and a trial of down's values.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::generate::diff::{head_table, Change};
use crate::schema::introspect::Database;
use crate::schema::model::ColumnKey;
use crate::schema::types::SqlType;
use crate::sqlite::db::sqlite_message;
use crate::sqlite::quote::quote;

use super::trial::try_in_savepoint;
use super::{with_foreign_keys_off, Script, FOREIGN_KEYS_ON};

/// Values for rows that a NOT NULL column needs: the column to a SQL expression.
pub type Defaults = BTreeMap<ColumnKey, String>;

/// The columns in `changes` that need a value for existing rows:
/// NOT NULL columns added to existing tables or made NOT NULL (for up), and NOT NULL columns
/// without a DEFAULT that up drops (for down, which adds them back). `head` is head as stored.
pub fn needs_default(changes: &[Change], head: &Database) -> Vec<ColumnKey> {
    let stored_table = |table: &str| head.table(head_table(changes, table));
    changes
        .iter()
        .filter_map(|c| match c {
            Change::AddColumn { table, column, .. } if !column.nullable => {
                Some(ColumnKey::new(table, &column.name))
            }
            Change::AlterColumn { table, from, to } if from.nullable && !to.nullable => {
                Some(ColumnKey::new(table, &to.name))
            }
            Change::AlterColumn { table, from, to } if from.ty != to.ty => stored_table(table)
                .and_then(|t| {
                    t.column(crate::generate::diff::head_column(changes, table, &to.name))
                })
                .and_then(|c| c.default.as_deref().filter(|_| !c.generated))
                .filter(|default| !default_fits(default, to.ty))
                .map(|_| ColumnKey::new(table, &to.name)),
            Change::DropColumn { table, column } => stored_table(table)
                .and_then(|t| t.column(column))
                .filter(|c| c.not_null && c.default.is_none() && !c.generated)
                .map(|_| ColumnKey::new(table, column)),
            _ => None,
        })
        .collect()
}

/// Whether a column of type `ty` stores its `DEFAULT default` as a value Diesel reads as
/// that type (`SqlType::holds`), asked of SQLite on a probe row. A column whose DEFAULT does
/// not fit would give every new row a value the application cannot read; a type Diesel reads
/// from any storage class takes any DEFAULT SQLite accepts.
pub fn default_fits(default: &str, ty: SqlType) -> bool {
    let Some(holds) = ty.holds("c") else {
        return true;
    };
    let stored = rusqlite::Connection::open_in_memory().and_then(|conn| {
        conn.execute_batch(&format!(
            "CREATE TABLE probe (c {} DEFAULT {default}); INSERT INTO probe DEFAULT VALUES;",
            ty.sql()
        ))?;
        conn.query_row(&format!("SELECT {holds} FROM probe"), [], |r| {
            r.get::<_, bool>(0)
        })
    });
    stored.unwrap_or(false)
}

/// Every `--default` must be a value of its column's type, for every use it is put to (the
/// DEFAULT of an added column, the backfill of a column made NOT NULL, the value down adds a
/// dropped column back with): `'n/a'`, `x'00'` or `1e999` for an `Integer` column would give
/// rows a value Diesel cannot read. SQLite decides, as for a retyped column's DEFAULT
/// (`default_fits`). An expression over the row's other columns is left to the planner.
pub fn refuse_defaults_of_another_type(
    defaults: &Defaults,
    changes: &[Change],
    head: &Database,
) -> Result<()> {
    let probe = rusqlite::Connection::open_in_memory()
        .map_err(|e| Error::internal(format!("cannot open an in-memory database: {e}")))?;
    for (key, expr) in defaults {
        if probe.prepare(&format!("SELECT ({expr})")).is_err() {
            continue;
        }
        let Some(ty) = column_type(key, changes, head) else {
            continue;
        };
        if !default_fits(&format!("({expr})"), ty) {
            return Err(Error::input(format!(
                "`--default {key}={expr}` is no value of {}: Diesel reads {key} as {}, and SQLite stores this as something else",
                ty.diesel_name(),
                ty.rust_type()
            ))
            .help(format!(
                "give a value of that type, e.g. `--default {key}={}`",
                example(ty)
            )));
        }
        // A column retyped and made NOT NULL keeps the value in rows that held NULL, and
        // down converts it back to the old type with the rest.
        let back = converted_back(key, changes);
        if let Some(old) = back.filter(|old| !comes_back(expr, ty, *old)) {
            return Err(Error::input(format!(
                "`--default {key}={expr}` does not come back from {}, which down converts {key} back to: the rows it fills could not go back as they were",
                old.diesel_name()
            ))
            .help(format!(
                "give a value both types hold as the same value (as {} holds it), or make the column NOT NULL and change its type in two migrations",
                ty.diesel_name()
            )));
        }
    }
    Ok(())
}

/// Whether the value `expr` gives a column of type `to` comes back as itself from down's
/// conversion to `from` and the way up again (the check every converted value meets): `0`
/// as Text is `'0'`, which a Float holds as 0.0 and gives back as `'0.0'`, so it does not.
fn comes_back(expr: &str, to: SqlType, from: SqlType) -> bool {
    let tried = || -> rusqlite::Result<bool> {
        let conn = rusqlite::Connection::open_in_memory()?;
        conn.execute_batch(&format!(
            "CREATE TABLE probe (new {to}, old {from}, back {to});
             INSERT INTO probe (new) VALUES (({expr}));
             UPDATE probe SET old = new;
             UPDATE probe SET back = old;",
            to = to.sql(),
            from = from.sql()
        ))?;
        let holds = from.holds("old").unwrap_or("1".into());
        conn.query_row(
            &format!(
                "SELECT {} AND {holds} FROM probe",
                crate::sqlite::values::exact("new", "back")
            ),
            [],
            |r| r.get(0),
        )
    };
    tried().unwrap_or(false)
}

/// The type down converts `key` back to when the change retypes it and makes it NOT NULL:
/// the value filling its NULLs must come back from that conversion as itself.
fn converted_back(key: &ColumnKey, changes: &[Change]) -> Option<SqlType> {
    changes.iter().find_map(|c| match c {
        Change::AlterColumn { table, from, to }
            if *table == key.table
                && to.name == key.column
                && from.ty != to.ty
                && from.nullable
                && !to.nullable =>
        {
            Some(from.ty)
        }
        _ => None,
    })
}

/// The type `key` has where its `--default` is used.
fn column_type(key: &ColumnKey, changes: &[Change], head: &Database) -> Option<SqlType> {
    changes.iter().find_map(|c| match c {
        Change::AddColumn { table, column, .. }
            if *table == key.table && column.name == key.column =>
        {
            Some(column.ty)
        }
        Change::AlterColumn { table, to, .. } if *table == key.table && to.name == key.column => {
            Some(to.ty)
        }
        Change::DropColumn { table, column } if *table == key.table && *column == key.column => {
            let stored = head.table(head_table(changes, table))?.column(column)?;
            SqlType::from_declared(&stored.declared_type)
        }
        _ => None,
    })
}

/// A value of `ty` for a hint.
fn example(ty: SqlType) -> &'static str {
    match ty {
        SqlType::Bool | SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => "0",
        SqlType::Float | SqlType::Double => "0.0",
        SqlType::Text => "''",
        SqlType::Binary => "x''",
        SqlType::Timestamp => "CURRENT_TIMESTAMP",
        SqlType::Date => "CURRENT_DATE",
        SqlType::Time => "CURRENT_TIME",
    }
}

/// A value for `key`'s rows that would work: the smallest key of the table a reference names
/// (no other value is sure to name a row), else the first plain value of its type that fits
/// it and, for a column retyped and made NOT NULL, comes back from down's conversion.
pub fn working_example(key: &ColumnKey, changes: &[Change], head: &Database) -> String {
    // Down adds a dropped column back with a DEFAULT, which cannot read a table.
    let dropped = changes.iter().any(|c| {
        matches!(c, Change::DropColumn { table, column } if *table == key.table && *column == key.column)
    });
    if let Some((parent, parent_key)) = referenced(key, changes, head).filter(|_| !dropped) {
        return format!(
            "(SELECT min({}) FROM {})",
            quote(&parent_key),
            quote(&parent)
        );
    }
    let Some(ty) = column_type(key, changes, head) else {
        return "0".to_owned();
    };
    let back = converted_back(key, changes);
    [example(ty), "0", "''", "'0.0'", "0.0", "x''"]
        .into_iter()
        .find(|expr| {
            default_fits(&format!("({expr})"), ty)
                && back.is_none_or(|old| comes_back(expr, ty, old))
        })
        .unwrap_or(example(ty))
        .to_owned()
}

/// The table and column `key` references once the change is made: a joinable schema.rs
/// gives it, else the foreign key head has on it.
fn referenced(key: &ColumnKey, changes: &[Change], head: &Database) -> Option<(String, String)> {
    let declared = changes.iter().find_map(|c| match c {
        Change::AddColumn {
            table,
            column,
            joinable: Some(joinable),
        } if *table == key.table && column.name == key.column => Some(joinable.parent.clone()),
        Change::AddJoinable { table, joinable }
            if *table == key.table && joinable.column == key.column =>
        {
            Some(joinable.parent.clone())
        }
        _ => None,
    });
    let primary_key = |parent: &str| {
        head.table(head_table(changes, parent))?
            .primary_key()
            .first()
            .map(|c| c.name.clone())
    };
    if let Some(parent) = declared {
        let parent_key = primary_key(&parent)?;
        return Some((parent, parent_key));
    }
    let stored = head.table(head_table(changes, &key.table))?;
    let column = crate::generate::diff::head_column(changes, &key.table, &key.column);
    let fk = stored.foreign_keys.iter().find(|fk| fk.column == column)?;
    let parent_key = fk
        .parent_column
        .clone()
        .or_else(|| primary_key(&fk.parent))?;
    Some((fk.parent.clone(), parent_key))
}

/// `--default KEY=VALUE` as a shell takes it.
fn flag(key: &ColumnKey, value: &str) -> String {
    let arg = format!("{key}={value}");
    let plain = |c: char| c.is_ascii_alphanumeric() || "_.=,-".contains(c);
    let quoted = if arg.chars().all(plain) {
        arg
    } else if !arg.contains(['"', '$', '`', '\\', '!']) {
        format!("\"{arg}\"")
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    };
    format!("--default {quoted}")
}

/// The error for a column that needs a value and got none.
pub fn missing_default(key: &ColumnKey, changes: &[Change], head: &Database) -> Error {
    let ColumnKey { table, column } = key;
    let example = flag(key, &working_example(key, changes, head));
    // Made NOT NULL as well: the backfill is what the value is for, and its message says so.
    let retyped = changes.iter().find_map(|c| match c {
        Change::AlterColumn { table: t, from, to }
            if t == table && to.name == *column && from.ty != to.ty =>
        {
            let tightened = from.nullable && !to.nullable;
            (!tightened).then_some(to)
        }
        _ => None,
    });
    if let Some(to) = retyped {
        return Error::input(format!(
            "column {key} becomes {to}, but its DEFAULT is no such value: every row inserted without it would hold a value Diesel cannot read"
        ))
        .help(format!(
            "pass `--default {key}=<SQL expression>` (e.g. `{example}`): the rebuilt column gets it as its DEFAULT"
        ));
    }
    let dropped = changes.iter().any(
        |c| matches!(c, Change::DropColumn { table: t, column: c } if t == table && c == column),
    );
    let message = if dropped {
        format!("column {key} is NOT NULL without a DEFAULT: down.sql adds it back and needs a value for the rows")
    } else {
        format!("column {key} is NOT NULL, but table {table} may already hold rows and they need a value")
    };
    Error::input(message).help(format!(
        "pass `--default {key}=<SQL expression>` (e.g. `{example}`){}",
        if dropped {
            ""
        } else {
            ", or declare it Nullable<...>"
        }
    ))
}

/// The error for every column of `keys` that needs a value and got none, so that one run
/// names them all, with flags that would work.
pub fn missing_defaults(keys: &[ColumnKey], changes: &[Change], head: &Database) -> Error {
    let [only] = keys else {
        let mut err = Error::input(format!(
            "{} columns need a value for the rows they may already have; nothing was written",
            keys.len()
        ));
        for key in keys {
            err = err.note(missing_default(key, changes, head).message.clone());
        }
        let flags: Vec<String> = keys
            .iter()
            .map(|key| flag(key, &working_example(key, changes, head)))
            .collect();
        return err.help(format!(
            "pass a `--default TABLE.COLUMN=<SQL expression>` for each, e.g. {}; or declare them Nullable<...>",
            flags.join(" ")
        ));
    };
    missing_default(only, changes, head)
}

/// Whether a column may have `DEFAULT (expr)` at all: SQLite refuses one that reads a table
/// (`(SELECT min(id) FROM users)`), which then gives the rows their value in the rebuild's
/// copy instead. Asked of SQLite on a temporary table, rolled back.
pub(super) fn usable_as_default(conn: &rusqlite::Connection, expr: &str) -> bool {
    try_in_savepoint(
        conn,
        &format!("CREATE TEMP TABLE _dev_default_probe (x DEFAULT ({expr}));"),
    )
    .is_ok()
}

/// Whether ADD COLUMN takes `DEFAULT (expr)` on a table with rows, asked of SQLite on a
/// one-row temporary table (and rolled back).
pub(super) fn constant_default(conn: &rusqlite::Connection, expr: &str) -> bool {
    try_in_savepoint(
        conn,
        &format!(
            "CREATE TEMP TABLE _dev_default_probe (x);\nINSERT INTO _dev_default_probe VALUES (1);\nALTER TABLE _dev_default_probe ADD COLUMN probe DEFAULT ({expr});"
        ),
    )
    .is_ok()
}

/// Runs `down` on the planning copy (which up left with its seeded rows) when it gives
/// dropped columns a value, as the file would run it. Down adds such a column back with one
/// value in every row, the `--default` given or the column's DEFAULT: one that a row cannot
/// take (a UNIQUE index takes no single value in more than one row, a CHECK may refuse it, a
/// reference needs a parent row with that key) is a problem of the input, said now with
/// SQLite's reason, not a failed proof. It runs as the file does, reference guards included.
pub(super) fn try_down_values(
    conn: &rusqlite::Connection,
    down: &Script,
    changes: &[Change],
    defaults: &Defaults,
    before: &Database,
) -> Result<()> {
    let values: Vec<String> = changes
        .iter()
        .filter_map(|c| match c {
            Change::DropColumn { table, column } => {
                let key = ColumnKey::new(table, column);
                if let Some(expr) = defaults.get(&key) {
                    return Some(format!("`--default {key}={expr}`"));
                }
                let stored = before.table(head_table(changes, table))?.column(column)?;
                let default = stored.default.as_ref().filter(|_| !stored.generated)?;
                Some(format!("the DEFAULT {default} of {key}"))
            }
            _ => None,
        })
        .collect();
    if values.is_empty() {
        return Ok(());
    }
    // As the file runs it, its reference guards too: a value a reference cannot take fails
    // only there, foreign keys being off.
    let body = std::iter::once(down.text())
        .chain(down.guards())
        .collect::<Vec<_>>()
        .join("\n");
    let batch = if down.rebuilds() {
        with_foreign_keys_off(&body)
    } else {
        format!("BEGIN;\n{body}\nCOMMIT;")
    };
    let Err(e) = conn.execute_batch(&batch) else {
        return Ok(());
    };
    let _ = conn.execute_batch(&format!("ROLLBACK;\n{FOREIGN_KEYS_ON}"));
    Err(Error::input(format!(
        "down.sql adds back the columns up drops with one value in every row ({}), and that fails on the rows up leaves: {}",
        values.join(", "),
        sqlite_message(&e)
    ))
    .help(format!(
        "{}before dropping the column, make it nullable without a DEFAULT, or drop the UNIQUE index on it (a hand-written migration: `generate --empty`), so that down adds it back as NULL",
        if values.iter().any(|v| v.starts_with("`--default")) {
            "give a `--default` each row accepts (for a reference, a key of a row its parent table has); or, "
        } else {
            ""
        }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_of_another_type_is_refused_whatever_it_is_for() {
        use crate::schema::model::Column;
        let column = |name: &str, ty| Column {
            name: name.into(),
            ty,
            nullable: false,
            max_length: None,
        };
        let changes = [Change::AddColumn {
            table: "users".into(),
            column: column("score", SqlType::Integer),
            joinable: None,
        }];
        let key = ColumnKey::new("users", "score");
        let head = Database::default();
        for refused in ["'n/a'", "x'00'", "1e999", "1.5", "3000000000"] {
            let defaults = Defaults::from([(key.clone(), refused.to_owned())]);
            let err = refuse_defaults_of_another_type(&defaults, &changes, &head).unwrap_err();
            assert!(
                err.message.contains("is no value of Integer"),
                "{refused}: {err}"
            );
        }
        for accepted in ["0", "'5'", "-2147483648", "other_column + 1"] {
            let defaults = Defaults::from([(key.clone(), accepted.to_owned())]);
            refuse_defaults_of_another_type(&defaults, &changes, &head).unwrap();
        }
    }

    #[test]
    fn a_default_fits_when_the_new_type_stores_it_as_its_own() {
        assert!(
            default_fits("('5')", SqlType::Integer),
            "'5' is stored as 5"
        );
        assert!(default_fits("0", SqlType::Integer));
        assert!(!default_fits("('new')", SqlType::Integer));
        assert!(!default_fits("1.5", SqlType::Integer));
        assert!(default_fits("1.5", SqlType::Double));
        assert!(
            default_fits("CURRENT_TIMESTAMP", SqlType::Timestamp),
            "no check for it"
        );
        assert!(
            !default_fits("(", SqlType::Integer),
            "what SQLite cannot read does not fit"
        );
    }
}
