//! What a version's copies cost on a real database, said before it runs (`--sql`): the rows
//! of each table whose rows it copies (a rebuild), and the bytes of the table and its
//! indexes. Every page of them is written again, to the database and its journal or WAL,
//! and shipped to every replica and backup that follows it.
//!
//! SQLite says which tables a file copies (`losses` follows every `INSERT ... SELECT` on a
//! copy of the schema), and its `dbstat` table how many bytes their pages hold.

use rusqlite::Connection;

use crate::apply::loaded::Loaded;
use crate::apply::losses;
use crate::apply::step::VersionStep;
use crate::error::Result;
use crate::sqlite::catalog;
use crate::sqlite::stored::StoredSchema;
use crate::support::output::{bytes, thousands};

/// One table whose rows a step copies, and what that costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// The step, by its position in the steps it was found for.
    pub step: usize,
    /// The table, by its name before the step.
    pub table: String,
    /// Its rows now.
    pub rows: i64,
    /// The bytes of its pages and its indexes' now.
    pub bytes: i64,
    /// Over how many databases `rows` and `bytes` are added up.
    pub databases: usize,
}

impl Copied {
    /// The line `--sql` writes above the step.
    pub fn describe(&self) -> String {
        let over = if self.databases > 1 {
            format!(", over {} databases", thousands(self.databases as i64))
        } else {
            String::new()
        };
        format!(
            "-- Copies every row of {}: {} rows, {} with its indexes{over}; all of it is written again, and shipped to replicas and backups.",
            self.table,
            thousands(self.rows),
            bytes(self.bytes)
        )
    }
}

/// What each of `steps` copies when they run in order on the database `conn` is open on,
/// counted there now. A table an earlier step makes is not counted: it holds no rows yet.
pub fn copies(conn: &Connection, loaded: &Loaded, steps: &[VersionStep]) -> Result<Vec<Copied>> {
    let sqlite =
        |e: rusqlite::Error| crate::error::Error::input(format!("cannot read the database: {e}"));
    let schema = StoredSchema::read(conn).map_err(sqlite)?;
    let mut texts = Vec::with_capacity(steps.len());
    for step in steps {
        let script = loaded.script(&step.version)?;
        texts.push((
            script.sql(step.direction).unwrap_or_default(),
            script.own_transaction(),
        ));
    }
    let mut found = Vec::new();
    for (step, drops) in losses::forecast(&schema, &texts).into_iter().enumerate() {
        for table in drops.copied {
            if !catalog::has_table(conn, &table).map_err(sqlite)? {
                continue;
            }
            let (rows, bytes) = cost(conn, &table).map_err(sqlite)?;
            found.push(Copied {
                step,
                table,
                rows,
                bytes,
                databases: 1,
            });
        }
    }
    Ok(found)
}

/// The rows of `table`, and the bytes its pages and its indexes' hold.
pub fn cost(conn: &Connection, table: &str) -> rusqlite::Result<(i64, i64)> {
    let rows = conn.query_row(
        &format!(
            "SELECT count(*) FROM main.{}",
            crate::sqlite::quote::quote(table)
        ),
        [],
        |r| r.get(0),
    )?;
    let bytes = conn.query_row(
        "SELECT coalesce(sum(pgsize), 0) FROM dbstat('main')
         WHERE name = ?1 OR name IN (SELECT name FROM pragma_index_list(?1))",
        [table],
        |r| r.get(0),
    )?;
    Ok((rows, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_s_cost_counts_its_rows_and_the_pages_of_its_indexes() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
             INSERT INTO posts SELECT i, printf('%0100d', i) FROM n;",
        )
        .unwrap();
        let (rows, table_only) = cost(&conn, "posts").unwrap();
        assert_eq!(rows, 5000);
        assert!(table_only > 5000 * 100, "{table_only}");
        conn.execute_batch("CREATE INDEX posts_title ON posts (title);")
            .unwrap();
        let (_, with_index) = cost(&conn, "posts").unwrap();
        assert!(
            with_index > table_only + 5000 * 100,
            "{with_index} {table_only}"
        );
    }
}
