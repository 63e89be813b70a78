//! Whether every view and trigger still compiles, asked of SQLite itself.
//!
//! SQLite validates neither when it is created, nor when a table it uses is dropped or
//! rebuilt with `legacy_alter_table` on: `CREATE VIEW v AS SELECT y FROM a` followed by a
//! rebuild of `a` without `y` succeeds, and only `SELECT * FROM v` fails later. A trigger is
//! compiled into each statement that can fire it, when that statement is prepared. So a view
//! is checked by preparing a `SELECT` from it, and the triggers of a table or view by
//! preparing one INSERT, UPDATE (of every column) and DELETE on it; nothing is run.

use std::collections::BTreeSet;

use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::sqlite::catalog::{Entry, Kind};
use crate::sqlite::db::{sqlite_message, strict};
use crate::sqlite::lexer;
use crate::sqlite::quote::quote;
use crate::support::invocation;

/// A view or trigger SQLite cannot compile, with SQLite's reason.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Broken {
    /// A view or a trigger.
    pub kind: Kind,
    /// The view's or trigger's name.
    pub name: String,
    /// SQLite's error from preparing a statement that uses it.
    pub reason: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.kind, self.name, self.reason)
    }
}

/// Every view and trigger of the main schema that does not compile on `conn` now, with
/// double-quoted strings off: a view selecting `"c"` after `c` was dropped would otherwise
/// compile, selecting the constant 'c'.
/// `entries` are the schema's entries as `catalog::entries` reads them now.
pub fn broken(conn: &Connection, entries: &[Entry]) -> Result<Vec<Broken>> {
    // Without a view or a trigger there is nothing to prepare, and no reason to switch the
    // connection's settings (which makes every prepared statement compile again).
    if !entries
        .iter()
        .any(|e| matches!(e.kind, Kind::View | Kind::Trigger))
    {
        return Ok(Vec::new());
    }
    strict(conn, || broken_now(conn, entries))
}

fn broken_now(conn: &Connection, entries: &[Entry]) -> Result<Vec<Broken>> {
    let of_kind = |kind: Kind| entries.iter().filter(move |e| e.kind == kind);
    let mut found = BTreeSet::new();
    for view in of_kind(Kind::View) {
        if let Err(e) = conn.prepare(&format!("SELECT * FROM {}", quote(&view.name))) {
            found.insert(Broken {
                kind: Kind::View,
                name: view.name.clone(),
                reason: sqlite_message(&e),
            });
        }
    }
    let fired: BTreeSet<&str> = of_kind(Kind::Trigger).map(|e| e.table.as_str()).collect();
    for table in fired {
        if firing_failures(conn, table).is_empty() {
            continue;
        }
        // One trigger at a time, so the one that fails is named, not its neighbours.
        for trigger in of_kind(Kind::Trigger).filter(|e| e.table == table) {
            if let Some(reason) = alone(conn, entries, &trigger.name, table)? {
                found.insert(Broken {
                    kind: Kind::Trigger,
                    name: trigger.name.clone(),
                    reason,
                });
            }
        }
    }
    // A trigger `UPDATE OF` a column that is gone fires on no statement, so preparing never
    // compiles it: its columns are looked up by name instead.
    let sources: Vec<(&String, &String, &String)> = of_kind(Kind::Trigger)
        .filter_map(|e| Some((&e.name, &e.table, e.sql.as_ref()?)))
        .collect();
    for (trigger, table, sql) in &sources {
        if let Some(column) = missing_update_of_column(conn, table, sql) {
            found.insert(Broken {
                kind: Kind::Trigger,
                name: (*trigger).clone(),
                reason: format!("no such column: {column} (in its UPDATE OF list)"),
            });
        }
    }
    // Nor does one `UPDATE OF` a generated column (no UPDATE sets one): renaming its table,
    // tried and rolled back, makes SQLite read every trigger of it, and say which fails.
    let tables: BTreeSet<&str> = sources.iter().map(|(_, table, _)| table.as_str()).collect();
    for table in tables {
        if let Some((name, reason)) = unreadable_trigger(conn, table) {
            if !found
                .iter()
                .any(|b| b.kind == Kind::Trigger && b.name == name)
            {
                found.insert(Broken {
                    kind: Kind::Trigger,
                    name,
                    reason,
                });
            }
        }
    }
    Ok(found.into_iter().collect())
}

/// The trigger SQLite cannot read when `table` is renamed (with `legacy_alter_table` off,
/// so it reads them all), with its reason; the rename is rolled back.
fn unreadable_trigger(conn: &Connection, table: &str) -> Option<(String, String)> {
    let legacy: bool = conn
        .query_row("PRAGMA legacy_alter_table", [], |r| r.get(0))
        .unwrap_or(false);
    let probe = format!(
        "PRAGMA legacy_alter_table = OFF; SAVEPOINT dev_read_triggers; ALTER TABLE {} RENAME TO {};",
        quote(table),
        quote(&format!("{table}__dev_probe"))
    );
    let outcome = conn.execute_batch(&probe);
    let _ = conn.execute_batch(&format!(
        "ROLLBACK TO dev_read_triggers; RELEASE dev_read_triggers; PRAGMA legacy_alter_table = {};",
        if legacy { "ON" } else { "OFF" }
    ));
    let message = sqlite_message(&outcome.err()?);
    // SQLite: "error in trigger NAME: REASON".
    let (name, reason) = message
        .strip_prefix("error in trigger ")?
        .split_once(": ")?;
    Some((name.to_owned(), reason.to_owned()))
}

/// The first column of a trigger's `UPDATE OF` list that `table` does not have.
fn missing_update_of_column(conn: &Connection, table: &str, sql: &str) -> Option<String> {
    let words: Vec<String> = lexer::identifiers(sql)
        .take_while(|w| !w.eq_ignore_ascii_case("begin"))
        .collect();
    let at = words.windows(2).position(|pair| {
        pair[0].eq_ignore_ascii_case("update") && pair[1].eq_ignore_ascii_case("of")
    })?;
    let listed = words[at + 2..]
        .iter()
        .take_while(|w| !w.eq_ignore_ascii_case("on"));
    // table_xinfo: a generated column may be in the list too.
    let existing: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_xinfo(?1)")
        .and_then(|mut stmt| {
            stmt.query_map([table], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<_>>()
        })
        .ok()?;
    listed
        .into_iter()
        .find(|column| !existing.iter().any(|e| e.eq_ignore_ascii_case(column)))
        .cloned()
}

/// The objects broken in `after` that were not broken in `before`.
pub fn newly_broken(before: &[Broken], after: Vec<Broken>) -> Vec<Broken> {
    after
        .into_iter()
        .filter(|b| {
            !before
                .iter()
                .any(|old| old.kind == b.kind && old.name == b.name)
        })
        .collect()
}

/// What no longer compiles on `conn` (whose entries are `entries`) of what compiled when
/// `before` was taken, as one `- kind name: reason` line each; `None` when everything still does. For the proof and
/// `verify`, which check after every step.
pub fn regressions(
    conn: &Connection,
    entries: &[Entry],
    before: &[Broken],
) -> Result<Option<String>> {
    let broken = newly_broken(before, broken(conn, entries)?);
    Ok((!broken.is_empty()).then(|| {
        broken
            .iter()
            .map(|b| format!("- {b}"))
            .collect::<Vec<_>>()
            .join("\n")
    }))
}

/// The error for a change that would break views or triggers: never written, since the
/// database would accept it and fail only when the object is next used.
pub fn refuse(what: &str, broken: &[Broken]) -> Error {
    let names: Vec<String> = broken
        .iter()
        .map(|b| format!("{} {}", b.kind, b.name))
        .collect();
    let mut err = Error::input(format!("{what} would break {}", names.join(", ")));
    for b in broken {
        err = err.note(format!("{b}"));
    }
    err.help(
        format!("rewrite or drop what uses it first, in a migration of its own (`{}`, then write the SQL), and generate this change after it; or keep what it uses in schema.rs", invocation::command("generate --empty \"...\"")),
    )
}

/// SQLite's messages for the statements on `table` that fire triggers and do not prepare.
fn firing_failures(conn: &Connection, table: &str) -> Vec<String> {
    let columns: Vec<String> = match conn
        .prepare("SELECT name FROM pragma_table_info(?1)")
        .and_then(|mut stmt| {
            stmt.query_map([table], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<_>>()
        }) {
        Ok(columns) => columns,
        // A view that does not compile has no columns to read: nothing on it fires.
        Err(e) => return vec![sqlite_message(&e)],
    };
    let set: Vec<String> = columns
        .iter()
        .map(|c| format!("{0} = {0}", quote(c)))
        .collect();
    let table_sql = quote(table);
    let mut statements = vec![
        format!("INSERT INTO {table_sql} DEFAULT VALUES"),
        format!("DELETE FROM {table_sql}"),
    ];
    if !set.is_empty() {
        statements.push(format!("UPDATE {table_sql} SET {}", set.join(", ")));
    }
    statements
        .iter()
        .filter_map(|sql| conn.prepare(sql).err())
        .map(|e| sqlite_message(&e))
        // A view is modified only through INSTEAD OF triggers; an event it has none for is
        // not a broken trigger.
        .filter(|message| !message.contains("because it is a view"))
        .collect()
}

/// Why `trigger` does not compile when it is the only trigger, or `None` when it does.
fn alone(
    conn: &Connection,
    entries: &[Entry],
    trigger: &str,
    table: &str,
) -> Result<Option<String>> {
    let sql_error = |e: rusqlite::Error| {
        Error::input(format!(
            "cannot check trigger {trigger}: {}",
            sqlite_message(&e)
        ))
    };
    conn.execute_batch("SAVEPOINT dev_objects")
        .map_err(sql_error)?;
    let others = entries
        .iter()
        .filter(|e| e.kind == Kind::Trigger && e.name != trigger)
        .map(|e| e.kind.drop_statement(&e.name))
        .collect::<String>();
    let outcome = conn
        .execute_batch(&others)
        .map_err(sql_error)
        .map(|()| firing_failures(conn, table));
    conn.execute_batch("ROLLBACK TO dev_objects; RELEASE dev_objects")
        .map_err(sql_error)?;
    Ok(outcome?.into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::catalog;

    /// What `broken` finds on `conn` with its entries as they are.
    fn broken_now_in(conn: &Connection) -> Result<Vec<Broken>> {
        broken(conn, &catalog::entries(conn).unwrap())
    }

    fn database(sql: &str) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(sql).unwrap();
        conn
    }

    #[test]
    fn a_trigger_update_of_a_generated_column_is_read_too() {
        let conn = database(
            "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, a INTEGER, g INTEGER GENERATED ALWAYS AS (a * 2));
             CREATE TABLE o (id INTEGER NOT NULL PRIMARY KEY, x INTEGER);
             CREATE TRIGGER tr AFTER UPDATE OF g ON t BEGIN UPDATE o SET x = x + 1 WHERE id = NEW.id; END;",
        );
        assert_eq!(broken_now_in(&conn).unwrap(), []);
        conn.execute_batch(
            "PRAGMA legacy_alter_table = ON;
             ALTER TABLE o RENAME TO o_old;
             CREATE TABLE o (id INTEGER NOT NULL PRIMARY KEY);
             DROP TABLE o_old;",
        )
        .unwrap();
        let found = broken_now_in(&conn).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].kind, found[0].name.as_str()),
            (Kind::Trigger, "tr")
        );
        assert!(found[0].reason.contains("no such column: x"), "{found:?}");
    }

    #[test]
    fn a_view_left_selecting_a_double_quoted_name_that_is_gone_is_broken() {
        let conn = database(
            "CREATE TABLE t (a INTEGER, b TEXT);
             CREATE VIEW v AS SELECT \"b\" FROM t;",
        );
        assert!(broken_now_in(&conn).unwrap().is_empty());
        conn.execute_batch(
            "PRAGMA legacy_alter_table = ON;
             ALTER TABLE t RENAME TO t_old; CREATE TABLE t (a INTEGER); DROP TABLE t_old;",
        )
        .unwrap();
        // SQLite itself would read "b" as the string 'b' and select it without an error.
        assert!(conn.prepare("SELECT * FROM v").is_ok());
        let found = broken_now_in(&conn).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].reason.contains("no such column: \"b\""),
            "{found:?}"
        );
        assert!(
            conn.prepare("SELECT * FROM v").is_ok(),
            "the connection is as it was"
        );
    }

    const HEAD: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, age INTEGER, note TEXT);
        CREATE TABLE audit (id INTEGER PRIMARY KEY, note TEXT);
        CREATE VIEW user_ages AS SELECT id, age FROM users;
        CREATE TRIGGER users_audit AFTER UPDATE OF age ON users BEGIN
            INSERT INTO audit (note) VALUES (NEW.age);
        END;
        CREATE TRIGGER users_keep AFTER DELETE ON users BEGIN
            INSERT INTO audit (note) VALUES (OLD.id);
        END;";

    #[test]
    fn a_sound_schema_has_nothing_broken() {
        assert_eq!(broken_now_in(&database(HEAD)).unwrap(), []);
    }

    #[test]
    fn views_and_triggers_that_lost_a_column_are_named() {
        // A rebuild without `age`, as legacy_alter_table lets it happen.
        let conn = database(HEAD);
        conn.execute_batch(
            "PRAGMA legacy_alter_table = ON;
             ALTER TABLE users RENAME TO old_users;
             CREATE TABLE users (id INTEGER PRIMARY KEY, note TEXT);
             DROP TABLE old_users;
             CREATE TRIGGER users_audit AFTER UPDATE ON users BEGIN
                 INSERT INTO audit (note) VALUES (NEW.age);
             END;
             CREATE TRIGGER users_keep AFTER DELETE ON users BEGIN
                 INSERT INTO audit (note) VALUES (OLD.id);
             END;",
        )
        .unwrap();
        let found = broken_now_in(&conn).unwrap();
        let names: Vec<(Kind, &str)> = found.iter().map(|b| (b.kind, b.name.as_str())).collect();
        assert_eq!(
            names,
            [(Kind::Trigger, "users_audit"), (Kind::View, "user_ages")]
        );
        assert!(found.iter().all(|b| b.reason.contains("age")), "{found:?}");
        // Nothing was left dropped by the one-at-a-time check.
        let kept = catalog::entries(&conn).unwrap();
        assert_eq!(kept.iter().filter(|e| e.kind != Kind::Table).count(), 3);
    }

    #[test]
    fn a_trigger_on_a_view_is_checked_through_its_own_event() {
        let conn = database(
            "CREATE TABLE t (a);
             CREATE VIEW v AS SELECT a FROM t;
             CREATE TRIGGER v_insert INSTEAD OF INSERT ON v BEGIN INSERT INTO t VALUES (NEW.a); END;",
        );
        assert_eq!(broken_now_in(&conn).unwrap(), []);
        conn.execute_batch("DROP TABLE t; CREATE TABLE t (b);")
            .unwrap();
        let found = broken_now_in(&conn).unwrap();
        assert_eq!(found.len(), 2, "{found:?}");
    }

    #[test]
    fn a_trigger_update_of_a_column_that_is_gone_is_named() {
        let conn = database(
            "CREATE TABLE tags (id INTEGER PRIMARY KEY, name BOOLEAN, \"Other Col\" TEXT);
             CREATE TRIGGER touch AFTER UPDATE OF \"Other Col\", name ON tags BEGIN
                 UPDATE tags SET id = id WHERE id = NEW.id;
             END;",
        );
        assert_eq!(broken_now_in(&conn).unwrap(), []);
        conn.execute_batch("ALTER TABLE tags DROP COLUMN name")
            .unwrap();
        let found = broken_now_in(&conn).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].name, "touch");
        assert!(
            found[0].reason.contains("no such column: name"),
            "{found:?}"
        );
    }

    #[test]
    fn only_new_breakage_counts() {
        let old = Broken {
            kind: Kind::View,
            name: "v".into(),
            reason: "x".into(),
        };
        let new = Broken {
            name: "w".into(),
            ..old.clone()
        };
        assert_eq!(
            newly_broken(std::slice::from_ref(&old), vec![old.clone(), new.clone()]),
            [new]
        );
    }
}
