//! The table rebuild: the one way to make a change SQLite's ALTER TABLE cannot (it only
//! renames a table, renames, adds or drops a column), used by up and down alike.
//!
//! The old table is renamed away with `legacy_alter_table` on and foreign keys off, so other
//! tables' REFERENCES keep naming it (with it off, SQLite rewrites them to the new name, and
//! renaming back does not undo that), and no ON DELETE action fires (with foreign keys on,
//! DROP TABLE first deletes every row, firing CASCADE and SET NULL in the children; the
//! pragma is ignored inside a transaction, hence `run_in_transaction = false`).
//! The new CREATE statement then runs under the table's own name, which keeps its text
//! exactly as written (a rename would rewrite the name token), the rows are copied, the old
//! table is dropped, and its indexes and triggers are recreated from their stored text.
//! The caller's file turns foreign keys off around it (see `render`).

use crate::history::effect::Effect;
use crate::schema::introspect::{StoredTable, ROWID_NAMES};
use crate::schema::types::SqlType;
use crate::sqlite::quote::{comment, literal, quote, quote_always};
use crate::sqlite::values;

use super::Step;

/// A column of the new table and the SQL expression over the old one that fills it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub column: String,
    pub from: String,
}

/// A check that must hold after the copy; `name` is what SQLite reports when it fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    pub name: String,
    /// A SQL boolean.
    pub holds: String,
}

/// A column whose values a rebuild converts to another type. Type affinity rewrites values
/// on insert without an error (`'007'` into INTEGER is 7), so before anything changes each
/// value is converted as the copy will convert it (into a probe column declared as the new
/// column is) and must come out kept (`sqlite::values::kept`) and a value Diesel reads as
/// the new type (`SqlType::holds`), or the migration fails naming the row and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    /// The column, by the name the message gives it (`table.column`).
    pub label: String,
    /// The old table's value, as SQL over it.
    pub before: String,
    /// What the copy inserts, as SQL over the old table.
    pub from: String,
    /// The new column's declared type.
    pub declared: String,
    /// The old column's declared type: converted back to it, each value must be itself
    /// again (1 in a BLOB column becomes 1.0 as a REAL, and stays 1.0 going back).
    pub back: String,
    /// The new type, as schema.rs names it, and how Diesel reads it; `None` when print-schema
    /// reads the declared type as none.
    pub ty: Option<SqlType>,
    /// `from` is the conversion `--convert` gave: values become what it says, and only
    /// whether Diesel reads them as the new type is checked.
    pub explicit: bool,
}

impl Converted {
    /// Statements that fail on the first row of `table` whose value this conversion does
    /// not keep, naming the row by `row_key` (SQL over `table`, see `row_key`).
    fn check(&self, table: &str, row_key: &str) -> String {
        let kept = values::kept("before", "after");
        let holds = self
            .ty
            .and_then(|ty| ty.holds("after"))
            .unwrap_or("1".into());
        let type_name = self
            .ty
            .map_or(self.declared.clone(), |ty| ty.diesel_name().to_owned());
        let rust = self.ty.map_or("", |ty| ty.rust_type());
        let message = format!(
            "{} || ' of the row ' || row || ' holds ' || quote(before) || CASE WHEN {holds} THEN {} || quote(after) ELSE {} END || '; fix that value first, or convert the column by hand'",
            literal(&self.label),
            literal(&format!(", which the copy as {type_name} turns into ")),
            literal(&format!(", which Diesel cannot read as {type_name} ({rust})")),
        );
        let why = comment(&format!(
            "Every value of {} must come through as {type_name} unchanged, or the migration stops naming its row.",
            self.label
        ));
        let exact = values::exact("before", "back");
        let keeps = if self.explicit {
            "1".to_owned()
        } else {
            format!("(before IS NULL OR ({kept} AND {exact}))")
        };
        let refused = refusal(&format!(
            "SELECT {message}\nFROM _dev_converted WHERE NOT ({keeps} AND {holds}) LIMIT 1"
        ));
        format!(
            "{why}\nCREATE TEMP TABLE _dev_converted (row TEXT, before, after {}, back {});\nINSERT INTO _dev_converted (row, before, after) SELECT {row_key}, {}, {} FROM {};\nUPDATE _dev_converted SET back = after;\n{refused}\nDROP TABLE _dev_converted;",
            self.declared,
            self.back,
            self.before,
            self.from,
            quote(table),
        )
    }
}

/// SQL over `table`'s rows that names a row the way the application finds it: `rowid = 10`
/// for a table whose rowid is hidden, `id = 2` for one whose INTEGER PRIMARY KEY is the
/// rowid, `(a, b) = (1, 'x')` for any other primary key.
pub fn row_key(table: &StoredTable) -> String {
    let key: Vec<String> = table.primary_key().iter().map(|c| c.name.clone()).collect();
    match key.as_slice() {
        [] => table.rowid_name().map_or("'(a row)'".to_owned(), |rowid| {
            format!("'rowid = ' || {rowid}")
        }),
        [only] => format!(
            "{} || quote({})",
            literal(&format!("{only} = ")),
            quote(only)
        ),
        several => {
            let values: Vec<String> = several
                .iter()
                .map(|c| format!("quote({})", quote(c)))
                .collect();
            format!(
                "{} || {} || ')'",
                literal(&format!("({}) = (", several.join(", "))),
                values.join(" || ', ' || ")
            )
        }
    }
}

/// Statements that fail with the text of the first row `select` returns as SQLite's error
/// message, and do nothing when it returns none. `RAISE` takes an expression (SQLite 3.47
/// and later) but only inside a trigger, hence the trigger on a temporary table.
pub fn refusal(select: &str) -> String {
    format!(
        "CREATE TEMP TABLE _dev_refusal (message TEXT);
CREATE TEMP TRIGGER _dev_refuse BEFORE INSERT ON _dev_refusal BEGIN SELECT RAISE(ABORT, NEW.message); END;
INSERT INTO _dev_refusal
{select};
DROP TABLE _dev_refusal;"
    )
}

/// One rebuild of one table.
#[derive(Debug, Clone)]
pub struct Rebuild {
    /// The table as it exists before the rebuild.
    pub current: String,
    /// The table's name afterwards (the name in `create_sql`).
    pub name: String,
    pub create_sql: String,
    pub copy: Vec<Copied>,
    /// The name each row's rowid is copied by, when the new table's rowid is hidden (see
    /// `carried_rowid`).
    pub rowid: Option<&'static str>,
    /// Index and trigger statements to run once the new table exists.
    pub objects: Vec<String>,
    /// The table has AUTOINCREMENT before or after: its `sqlite_sequence` row is carried.
    pub sequence: bool,
    /// Comment lines for the reviewer, without `-- `.
    pub notes: Vec<String>,
    /// What the rebuild loses.
    pub effects: Vec<Effect>,
    /// Columns whose values the copy converts, checked before anything changes.
    pub converted: Vec<Converted>,
    /// How the old table names a row in a message (`row_key`).
    pub row_key: String,
}

impl Rebuild {
    /// The statements, without comments.
    pub fn sql(&self) -> String {
        let old = format!("_dev_old_{}", self.name);
        let mut sql = String::new();
        let mut targets: Vec<String> = self.copy.iter().map(|c| quote(&c.column)).collect();
        let mut sources: Vec<&str> = self.copy.iter().map(|c| c.from.as_str()).collect();
        if let Some(rowid) = self.rowid {
            targets.insert(0, rowid.to_owned());
            sources.insert(0, rowid);
        }
        for converted in &self.converted {
            sql.push_str(&converted.check(&self.current, &self.row_key));
            sql.push('\n');
        }
        sql.push_str(&format!(
            "ALTER TABLE {} RENAME TO {};\n{};\nINSERT INTO {} ({}) SELECT {} FROM {};\n",
            quote(&self.current),
            quote(&old),
            self.create_sql,
            quote(&self.name),
            targets.join(", "),
            sources.join(", "),
            quote(&old),
        ));
        // The sequence goes to the table's name whatever the new table is: DROP TABLE of an
        // AUTOINCREMENT table deletes its row, and a key that cannot keep AUTOINCREMENT
        // leaves the row for a down that brings it back (SQLite reads it only for such a
        // table). Renaming a table renames its row, so a row the old table held under its
        // name is left over once it is dropped.
        let (name, renamed) = (literal(&self.name), literal(&old));
        if self.sequence {
            sql.push_str(&format!(
                "UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq FROM sqlite_sequence WHERE name = {renamed})) WHERE name = {name} AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = {renamed});\n\
                 INSERT INTO sqlite_sequence (name, seq) SELECT {name}, seq FROM sqlite_sequence WHERE name = {renamed} AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = {name});\n"
            ));
        }
        sql.push_str(&format!("DROP TABLE {};", quote(&old)));
        if self.sequence {
            sql.push_str(&format!(
                "\nDELETE FROM sqlite_sequence WHERE name = {renamed};"
            ));
        }
        for object in &self.objects {
            sql.push_str(&format!("\n{object};"));
        }
        sql
    }

    /// The rebuild as a step of a script.
    pub fn into_step(self) -> Step {
        Step {
            sql: self.sql(),
            notes: self.notes,
            effects: self.effects,
            rebuild: true,
        }
    }
}

/// The rowid name a rebuild copies each row's rowid by: when the new table's rowid is hidden
/// (no INTEGER PRIMARY KEY gives it) and the old table has one. `INSERT ... SELECT` without
/// it numbers the rows anew (rowids 10, 20, 35 become 1, 2, 3), while print-schema keys such
/// a table by its rowid and so does the application. A new INTEGER PRIMARY KEY sets the
/// rowid itself, from its copied value. The name is one neither table takes as a column.
pub fn carried_rowid(old: &StoredTable, new: &StoredTable) -> Option<&'static str> {
    new.hidden_rowid()?;
    old.rowid_name()?;
    ROWID_NAMES.into_iter().find(|name| {
        !old.columns
            .iter()
            .chain(&new.columns)
            .any(|c| c.name.eq_ignore_ascii_case(name))
    })
}

/// A statement sequence that fails with `name` as SQLite's message unless `holds` is true.
/// `PRAGMA foreign_key_check` and friends only report rows, they never fail; this turns a report into
/// an error that aborts the migration.
pub fn guard(name: &str, holds: &str) -> String {
    format!(
        "CREATE TEMP TABLE _dev_guard (ok INTEGER CONSTRAINT {} CHECK (ok));\nINSERT INTO _dev_guard SELECT {holds};\nDROP TABLE _dev_guard;",
        quote_always(name)
    )
}

/// The guard that the rows of `table` (by its name at the end of the file) still reference
/// existing parents: SQLite checks that table's references only, so what a file's guards
/// cost follows the tables it changed, not the database's size.
pub fn foreign_key_guard(table: &str) -> Guard {
    Guard {
        name: format!("{table}: a row references a missing parent row"),
        holds: format!(
            "NOT EXISTS (SELECT 1 FROM pragma_foreign_key_check({}))",
            literal(table)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copied(column: &str) -> Copied {
        Copied {
            column: column.into(),
            from: column.into(),
        }
    }

    #[test]
    fn guard_fails_with_its_name() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(&guard("t: fine", "1")).unwrap();
        let err = conn
            .execute_batch(&guard("t.x: values that are not integers", "0"))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("CHECK constraint failed: t.x: values that are not integers"),
            "{err}"
        );
    }

    #[test]
    fn a_conversion_that_does_not_keep_a_value_fails_naming_the_row_and_the_value() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE e (code TEXT, n BIGINT);
             INSERT INTO e (rowid, code, n) VALUES (10, '5', 1), (20, NULL, 2), (35, '007', 3000000000);",
        )
        .unwrap();
        let table = crate::schema::introspect::inspect(&conn, &Default::default())
            .unwrap()
            .tables
            .remove(0);
        let converted = |column: &str, ty: SqlType| Converted {
            label: format!("e.{column}"),
            before: column.into(),
            from: column.into(),
            declared: ty.sql().into(),
            back: if column == "code" { "TEXT" } else { "BIGINT" }.into(),
            ty: Some(ty),
            explicit: false,
        };
        // As the file runs it: in a transaction, which a failure leaves to be rolled back.
        let run = |c: &Converted| {
            conn.execute_batch("BEGIN").unwrap();
            let outcome = conn.execute_batch(&c.check("e", &row_key(&table)));
            conn.execute_batch(if outcome.is_ok() {
                "COMMIT"
            } else {
                "ROLLBACK"
            })
            .unwrap();
            outcome
        };
        let err = run(&converted("code", SqlType::Integer)).unwrap_err();
        assert_eq!(
            crate::sqlite::db::sqlite_message(&err),
            "e.code of the row rowid = 35 holds '007', which the copy as Integer turns into 7; fix that value first, or convert the column by hand"
        );
        let err = run(&converted("n", SqlType::Integer)).unwrap_err();
        assert!(
            crate::sqlite::db::sqlite_message(&err).starts_with(
                "e.n of the row rowid = 35 holds 3000000000, which Diesel cannot read as Integer (i32)"
            ),
            "{err}"
        );
        run(&converted("n", SqlType::Double)).unwrap();
        conn.execute_batch("UPDATE e SET code = 'x' WHERE rowid = 35")
            .unwrap();
        run(&converted("code", SqlType::Text)).unwrap();
        let schema: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_temp_schema", [], |r| r.get(0))
            .unwrap();
        assert_eq!(schema, 0, "a passing check leaves nothing behind");
    }

    #[test]
    fn rebuild_keeps_the_create_text_and_the_sequence() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE p (id INTEGER PRIMARY KEY);
             CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, p_id INTEGER REFERENCES p ON DELETE CASCADE, x TEXT);
             CREATE INDEX t_x ON t (x);
             INSERT INTO p VALUES (1); INSERT INTO t (p_id, x) VALUES (1, 'a'), (1, 'b'); DELETE FROM t WHERE x = 'b';",
        )
        .unwrap();
        let rebuild = Rebuild {
            current: "p".into(),
            name: "p".into(),
            create_sql: "CREATE TABLE p (id INTEGER PRIMARY KEY, note TEXT)".into(),
            copy: vec![copied("id")],
            rowid: None,
            objects: vec![],
            sequence: false,
            notes: vec!["adds note".into()],
            effects: vec![],
            converted: vec![],
            row_key: String::new(),
        };
        let check = foreign_key_guard("t");
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = OFF; PRAGMA legacy_alter_table = ON; BEGIN; {} {} COMMIT; PRAGMA foreign_keys = ON;",
            rebuild.sql(),
            guard(&check.name, &check.holds)
        ))
        .unwrap();
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1, "the cascading child row survived");
        let t_sql: String = conn
            .query_row("SELECT sql FROM sqlite_schema WHERE name = 't'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(t_sql.contains("REFERENCES p ON DELETE CASCADE"), "{t_sql}");

        let sequence = Rebuild {
            current: "t".into(),
            name: "t".into(),
            create_sql: "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, p_id INTEGER REFERENCES p ON DELETE CASCADE, x TEXT)".into(),
            copy: vec![copied("id"), copied("p_id"), copied("x")],
            rowid: None,
            objects: vec!["CREATE INDEX t_x ON t (x)".into()],
            sequence: true,
            notes: vec![],
            effects: vec![],
            converted: vec![],
            row_key: String::new(),
        };
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = OFF; PRAGMA legacy_alter_table = ON; BEGIN; {} COMMIT;",
            sequence.sql()
        ))
        .unwrap();
        let seq: i64 = conn
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 't'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(seq, 2, "the sequence outlives the deleted top row");
    }
}
